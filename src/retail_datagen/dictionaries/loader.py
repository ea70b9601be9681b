"""Load the dictionary CSV files into typed Arrow tables, validating every row first.

Dictionaries are the generator's only outside input (a user may point ``paths.dictionaries`` at
their own copies), so a bad value must stop the run with one line that says which file, row,
column and rule, instead of surfacing later as a crash or silently wrong data.

Every format is declared once, in :data:`SPECS`: the columns, their kinds and rules, the unique
key, and the references between files. The files are small, so the stdlib ``csv`` module parses
them; results are cached per (resolved path, mtime, size) so repeated loads are free and an
edited file is read again.
"""

from __future__ import annotations

import csv
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Literal

import pyarrow as pa

from retail_datagen.errors import DictionaryError

__all__ = [
    "DICTIONARY_NAMES",
    "REGIONS",
    "SPECS",
    "STATE_CODES",
    "ColumnSpec",
    "DictionaryLoader",
    "DictionarySpec",
    "Reference",
    "clear_cache",
    "packaged_directory",
]

Kind = Literal["str", "int", "decimal", "float"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "decimal": pa.float64(),  # callers convert money to integer cents themselves
    "float": pa.float64(),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind and the rules each value must meet.

    ``required`` means every row needs a value (and the header needs the column); an optional
    column may be left out of the file or left empty, which loads as null.
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    min: float | None = None
    max: float | None = None
    allowed: frozenset[str] | None = None
    pattern: str | None = None
    hint: str | None = None  # what an allowed/pattern value looks like, for the error message
    places: int | None = None  # most decimal places a "decimal" value may have


@dataclass(frozen=True)
class Reference:
    """A value of ``column`` must occur in ``target_column`` of dictionary ``target``."""

    column: str
    target: str
    target_column: str


@dataclass(frozen=True)
class DictionarySpec:
    """A dictionary file: columns in output order, unique key, cross-file references, and
    ``determines`` pairs (key, value) where every row with the same key has the same value."""

    name: str
    columns: tuple[ColumnSpec, ...]
    unique: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    determines: tuple[tuple[str, str], ...] = ()
    min_rows: int = 1

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


STATE_CODES: frozenset[str] = frozenset(
    (
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
        "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
        "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
        "VT", "VA", "WA", "WV", "WI", "WY",
    )
)  # fmt: skip
REGIONS: frozenset[str] = frozenset({"Northeast", "Southeast", "Midwest", "Southwest", "West"})
_STATE_HINT = "a 2-letter US state code such as CA or DC"
MAX_COMBINED_RATE = 0.15  # above any real US combined sales-tax rate

SPECS: dict[str, DictionarySpec] = {
    spec.name: spec
    for spec in (
        DictionarySpec(
            "geographies",
            (
                ColumnSpec("City"),
                ColumnSpec("State", allowed=STATE_CODES, hint=_STATE_HINT),
                ColumnSpec("ZipCode", pattern=r"\d{5}", hint="a 5-digit ZIP code such as 02108"),
                ColumnSpec("District"),
                ColumnSpec("Region", allowed=REGIONS),
                ColumnSpec("Latitude", "float", min=-90, max=90),
                ColumnSpec("Longitude", "float", min=-180, max=180),
                ColumnSpec("Population", "int", min=0, max=100_000_000),
            ),
            unique=("City", "State"),
        ),
        DictionarySpec("first_names", (ColumnSpec("FirstName"),), unique=("FirstName",)),
        DictionarySpec("last_names", (ColumnSpec("LastName"),), unique=("LastName",)),
        DictionarySpec(
            "products",
            (
                ColumnSpec("ProductName"),
                ColumnSpec("BasePrice", "decimal", min=0.01, max=1_000_000, places=2),
                ColumnSpec("Department"),  # open: a user's dictionary may add departments
                ColumnSpec("Category"),
                ColumnSpec("Subcategory"),
            ),
            unique=("ProductName",),
            determines=(("Category", "Department"),),
        ),
        DictionarySpec("product_companies", (ColumnSpec("Company"),), unique=("Company",)),
        DictionarySpec(
            "product_brands",
            (ColumnSpec("Brand"), ColumnSpec("Company"), ColumnSpec("Category")),
            unique=("Brand",),
            references=(
                Reference("Company", "product_companies", "Company"),
                Reference("Category", "products", "Category"),
            ),
        ),
        DictionarySpec(
            "tax_rates",
            (
                ColumnSpec("StateCode", allowed=STATE_CODES, hint=_STATE_HINT),
                ColumnSpec("County", required=False),
                ColumnSpec("City", required=False),
                ColumnSpec("CombinedRate", "decimal", min=0, max=MAX_COMBINED_RATE, places=5),
            ),
            unique=("StateCode", "County", "City"),
        ),
    )
}
DICTIONARY_NAMES: tuple[str, ...] = tuple(SPECS)
"""Load order: a file comes after the files it references."""

_NOT_FOUND_ADVICE = (
    "set paths.dictionaries to a folder containing it, "
    "or remove the setting to use the shipped dictionaries"
)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")

Signature = tuple[str, int, int]  # (resolved path, mtime in ns, size in bytes)
_CACHE: dict[str, tuple[tuple[Signature, ...], pa.Table]] = {}
_LOCK = threading.RLock()


def clear_cache() -> None:
    """Forget every cached table (tests; a long-lived process that wants a clean slate)."""
    with _LOCK:
        _CACHE.clear()


def packaged_directory() -> Path:
    """The folder of CSV files shipped inside the package."""
    data = resources.files("retail_datagen.dictionaries").joinpath("data")
    return Path(str(data))


class _CellError(Exception):
    """A value broke a rule; the message is the rule, the caller adds file, row and column."""


class DictionaryLoader:
    """Typed, validated access to the dictionary files of one folder.

    ``directory=None`` uses the dictionaries shipped with the package. Tables are shared through
    a module-level cache, so several loaders over the same folder read each file once.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = packaged_directory() if directory is None else Path(directory).expanduser()

    def __repr__(self) -> str:
        return f"DictionaryLoader({str(self.directory)!r})"

    def path(self, name: str) -> Path:
        """Where dictionary ``name`` (e.g. ``"geographies"``) is read from."""
        return self.directory / _spec(name).filename

    def load(self, name: str) -> pa.Table:
        """Dictionary ``name`` as an Arrow table, columns in declared order and typed.

        Raises :class:`DictionaryError` for a missing file or any bad row.
        """
        spec = _spec(name)
        with _LOCK:
            own = self._signature(spec)
            deps = tuple(
                self._signature(SPECS[target])
                for target in dict.fromkeys(ref.target for ref in spec.references)
            )
            signature = (own, *deps)
            cached = _CACHE.get(own[0])
            if cached is not None and cached[0] == signature:
                return cached[1]
            table = self._read(spec)
            _CACHE[own[0]] = (signature, table)
            return table

    def load_all(self) -> dict[str, pa.Table]:
        """Every dictionary, keyed by name, in :data:`DICTIONARY_NAMES` order."""
        return {name: self.load(name) for name in DICTIONARY_NAMES}

    def geographies(self) -> pa.Table:
        return self.load("geographies")

    def first_names(self) -> pa.Table:
        return self.load("first_names")

    def last_names(self) -> pa.Table:
        return self.load("last_names")

    def products(self) -> pa.Table:
        return self.load("products")

    def product_companies(self) -> pa.Table:
        return self.load("product_companies")

    def product_brands(self) -> pa.Table:
        return self.load("product_brands")

    def tax_rates(self) -> pa.Table:
        return self.load("tax_rates")

    # ------------------------------------------------------------------ internals
    def _signature(self, spec: DictionarySpec) -> Signature:
        path = self.directory / spec.filename
        try:
            stat = path.stat()
            resolved = str(path.resolve())
        except FileNotFoundError:
            raise DictionaryError(
                f"dictionary file not found: {path.absolute()} ({_NOT_FOUND_ADVICE})"
            ) from None
        except OSError as exc:
            raise DictionaryError(f"cannot read dictionary file {path}: {exc.strerror}") from None
        return (resolved, stat.st_mtime_ns, stat.st_size)

    def _read(self, spec: DictionarySpec) -> pa.Table:
        path = self.directory / spec.filename
        records: list[list[str]] = []
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                records.extend(csv.reader(handle, strict=True))
        except FileNotFoundError:
            raise DictionaryError(
                f"dictionary file not found: {path.absolute()} ({_NOT_FOUND_ADVICE})"
            ) from None
        except UnicodeDecodeError as exc:
            raise DictionaryError(
                f"{spec.filename}: not valid UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        except csv.Error as exc:  # e.g. an unclosed quote; records holds the rows before it
            where = f"row {len(records)}" if records else "header"
            raise DictionaryError(f"{spec.filename} {where}: not readable as CSV ({exc})") from None
        except OSError as exc:
            raise DictionaryError(f"cannot read dictionary file {path}: {exc.strerror}") from None
        return self._validate(spec, records)

    def _validate(self, spec: DictionarySpec, records: list[list[str]]) -> pa.Table:
        file = spec.filename
        if not records:
            expected = ",".join(c.name for c in spec.columns)
            raise DictionaryError(f"{file}: the file is empty (expected a header row: {expected})")
        positions = _header_positions(spec, records[0])

        values: dict[str, list[object]] = {c.name: [] for c in spec.columns}
        row_numbers: list[int] = []
        width = len(records[0])
        for number, record in enumerate(records[1:], start=1):
            if not any(field.strip() for field in record):
                continue  # blank line
            if len(record) > width:
                raise DictionaryError(
                    f"{file} row {number}, column {width + 1}: unexpected extra value "
                    f"{record[width]!r} (the header has {width} columns)"
                )
            for column in spec.columns:
                position = positions.get(column.name)
                if position is not None and position >= len(record):
                    raise DictionaryError(
                        f"{file} row {number}, column {column.name}: missing "
                        f"(the row has {len(record)} values, the header has {width} columns)"
                    )
                raw = "" if position is None else record[position].strip()
                try:
                    values[column.name].append(_parse(column, raw))
                except _CellError as exc:
                    raise DictionaryError(
                        f"{file} row {number}, column {column.name}: {raw!r} {exc}"
                    ) from None
            row_numbers.append(number)

        if len(row_numbers) < spec.min_rows:
            raise DictionaryError(
                f"{file}: no data rows (at least {spec.min_rows} required below the header)"
            )
        _check_unique(spec, values, row_numbers)
        _check_determines(spec, values, row_numbers)
        self._check_references(spec, values, row_numbers)
        return pa.table(
            {c.name: pa.array(values[c.name], type=_ARROW_TYPES[c.kind]) for c in spec.columns}
        )

    def _check_references(
        self, spec: DictionarySpec, values: dict[str, list[object]], rows: Sequence[int]
    ) -> None:
        for ref in spec.references:
            target = self.load(ref.target)
            known = set(target.column(ref.target_column).to_pylist())
            for value, number in zip(values[ref.column], rows, strict=True):
                if value is not None and value not in known:
                    raise DictionaryError(
                        f"{spec.filename} row {number}, column {ref.column}: {value!r} is not a "
                        f"{ref.target_column} in {SPECS[ref.target].filename}"
                    )


def _spec(name: str) -> DictionarySpec:
    key = name.removesuffix(".csv")
    try:
        return SPECS[key]
    except KeyError:
        raise ValueError(
            f"unknown dictionary {name!r}; expected one of {', '.join(DICTIONARY_NAMES)}"
        ) from None


def _header_positions(spec: DictionarySpec, header: list[str]) -> dict[str, int]:
    """Column name -> position in the file; unknown, repeated or missing columns are errors."""
    file = spec.filename
    known = {c.name for c in spec.columns}
    positions: dict[str, int] = {}
    for index, raw in enumerate(header, start=1):
        name = raw.strip()
        if not name:
            raise DictionaryError(f"{file} header, column {index}: the column has no name")
        if name in positions:
            raise DictionaryError(f"{file} header, column {name}: appears more than once")
        if name not in known:
            alike = [k for k in known if k.casefold() == name.casefold()]
            advice = (
                f"did you mean {alike[0]}?"
                if alike
                else f"expected {', '.join(c.name for c in spec.columns)}"
            )
            raise DictionaryError(f"{file} header, column {name}: unknown column ({advice})")
        positions[name] = index - 1
    for column in spec.columns:
        if column.required and column.name not in positions:
            raise DictionaryError(
                f"{file} header, column {column.name}: required column is missing"
            )
    return positions


def _parse(column: ColumnSpec, raw: str) -> object:
    """The typed value of one cell (None for an empty optional cell), or :class:`_CellError`."""
    if raw == "":
        if column.required:
            raise _CellError("is empty but a value is required")
        return None
    value: str | int | float
    if column.kind == "str":
        if column.allowed is not None and raw not in column.allowed:
            raise _CellError(
                f"is not {column.hint}"
                if column.hint
                else f"is not one of {', '.join(sorted(column.allowed))}"
            )
        if column.pattern is not None and not re.fullmatch(column.pattern, raw):
            raise _CellError(f"is not {column.hint or 'in the format ' + column.pattern}")
        return raw
    if column.kind == "int":
        if not _INTEGER.fullmatch(raw):
            raise _CellError("is not a whole number")
        value = int(raw)
    elif column.kind == "decimal":
        if not _DECIMAL.fullmatch(raw):
            raise _CellError("is not a number")
        try:
            exact = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern already rules this out
            raise _CellError("is not a number") from None
        exponent = exact.as_tuple().exponent
        if column.places is not None and isinstance(exponent, int) and -exponent > column.places:
            raise _CellError(f"has more than {column.places} decimal places")
        value = float(exact)
    else:
        try:
            value = float(raw)
        except ValueError:
            raise _CellError("is not a number") from None
        if not math.isfinite(value):
            raise _CellError("is not a finite number")
    if column.min is not None and value < column.min:
        raise _CellError(f"is below the minimum {_show(column.min)}")
    if column.max is not None and value > column.max:
        raise _CellError(f"is above the maximum {_show(column.max)}")
    return value


def _show(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _check_unique(
    spec: DictionarySpec, values: dict[str, list[object]], rows: Sequence[int]
) -> None:
    if not spec.unique:
        return
    first_seen: dict[tuple[object, ...], int] = {}
    columns = [values[name] for name in spec.unique]
    for index, number in enumerate(rows):
        key = tuple(column[index] for column in columns)
        earlier = first_seen.setdefault(key, number)
        if earlier == number:
            continue
        head, *rest = spec.unique
        shown = "''" if key[0] is None else repr(key[0])
        others = "".join(
            f" with no {name}" if v is None else f" with {name} {v!r}"
            for name, v in zip(rest, key[1:], strict=True)
        )
        rule = " + ".join(spec.unique)
        raise DictionaryError(
            f"{spec.filename} row {number}, column {head}: {shown}{others} repeats row {earlier} "
            f"(each {rule} must be unique)"
        )


def _check_determines(
    spec: DictionarySpec, values: dict[str, list[object]], rows: Sequence[int]
) -> None:
    for key_name, value_name in spec.determines:
        seen: dict[object, tuple[object, int]] = {}
        for key, value, number in zip(values[key_name], values[value_name], rows, strict=True):
            first = seen.setdefault(key, (value, number))
            if first[0] != value:
                raise DictionaryError(
                    f"{spec.filename} row {number}, column {value_name}: {value!r} conflicts "
                    f"with row {first[1]}, which puts {key_name} {key!r} in {value_name} "
                    f"{first[0]!r} (each {key_name} belongs to one {value_name})"
                )
