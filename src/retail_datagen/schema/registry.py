"""Table declarations as data, and what is derived from them (Arrow schema, DuckDB DDL).

A table is declared once (name, ordered columns with logical types, keys, a one-line doc); every
writer, reader, event payload, API model and validation check derives from that declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

__all__ = ["Column", "ForeignKey", "Kind", "Table", "empty_table", "normalise"]


class Kind(StrEnum):
    """Logical column types; each maps to one Arrow type and one DuckDB type."""

    INT32 = "int32"
    INT64 = "int64"
    FLOAT64 = "float64"
    BOOL = "bool"
    STRING = "string"
    CATEGORY = "category"  # a string from a small vocabulary, dictionary-encoded in Arrow
    DATE = "date"
    TIMESTAMP = "timestamp"  # microseconds, local store time, no zone
    MONEY = "money"  # DECIMAL(12,2)
    MICRO_MONEY = "micro_money"  # DECIMAL(12,6): amounts below a cent (one ad impression)
    RATE = "rate"  # DECIMAL(6,5)

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self]

    @property
    def duckdb(self) -> str:
        return _DUCKDB[self]


_ARROW: dict[Kind, pa.DataType] = {
    Kind.INT32: pa.int32(),
    Kind.INT64: pa.int64(),
    Kind.FLOAT64: pa.float64(),
    Kind.BOOL: pa.bool_(),
    Kind.STRING: pa.string(),
    Kind.CATEGORY: pa.dictionary(pa.int32(), pa.string()),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.MONEY: pa.decimal128(12, 2),
    Kind.MICRO_MONEY: pa.decimal128(12, 6),
    Kind.RATE: pa.decimal128(6, 5),
}

_DUCKDB: dict[Kind, str] = {
    Kind.INT32: "INTEGER",
    Kind.INT64: "BIGINT",
    Kind.FLOAT64: "DOUBLE",
    Kind.BOOL: "BOOLEAN",
    Kind.STRING: "VARCHAR",
    Kind.CATEGORY: "VARCHAR",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.MONEY: "DECIMAL(12,2)",
    Kind.MICRO_MONEY: "DECIMAL(12,6)",
    Kind.RATE: "DECIMAL(6,5)",
}


@dataclass(frozen=True)
class ForeignKey:
    """``column`` references ``table.target`` (NULL values are not checked)."""

    column: str
    table: str
    target: str = "ID"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False
    doc: str = ""

    @property
    def snake(self) -> str:
        """The snake_case name used in event payloads."""
        return _snake(self.name)


@dataclass(frozen=True)
class Table:
    """One table: the single source of truth for its columns and keys."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    time_column: str | None = None  # facts: the column that places a row in a month file
    _index: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        self._index.update({c.name: c for c in self.columns})
        referenced = list(self.primary_key) + [c for key in self.unique for c in key]
        referenced += [fk.column for fk in self.foreign_keys]
        if self.time_column:
            referenced.append(self.time_column)
        missing = [c for c in referenced if c not in self._index]
        if missing:
            raise ValueError(f"{self.name}: keys name unknown columns {missing}")

    @property
    def is_fact(self) -> bool:
        return self.name.startswith("fact_")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return self._index[name]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.kind.arrow, nullable=c.nullable) for c in self.columns],
            metadata={"table": self.name, "doc": self.doc},
        )

    def duckdb_ddl(self, name: str | None = None) -> str:
        """CREATE TABLE statement with explicit types, NOT NULL and the primary key."""
        lines = [
            f'    "{c.name}" {c.kind.duckdb}{"" if c.nullable else " NOT NULL"}'
            for c in self.columns
        ]
        if self.primary_key:
            keys = ", ".join(f'"{k}"' for k in self.primary_key)
            lines.append(f"    PRIMARY KEY ({keys})")
        body = ",\n".join(lines)
        return f'CREATE TABLE "{name or self.name}" (\n{body}\n)'

    def duckdb_empty_select(self) -> str:
        """A typed SELECT with no rows: the view a fact table has before any data exists."""
        cols = ", ".join(f'CAST(NULL AS {c.kind.duckdb}) AS "{c.name}"' for c in self.columns)
        return f"SELECT {cols} WHERE false"


def empty_table(table: Table) -> pa.Table:
    return table.arrow_schema.empty_table()


def normalise(table: Table, data: pa.Table) -> pa.Table:
    """Put ``data`` in the declared column order and types, or fail naming the difference.

    Casting is only allowed where it is lossless for the declared type (e.g. int64 → int32 of
    in-range values); a missing or extra column is a programming error.
    """
    names = set(data.column_names)
    expected = table.column_names
    if names != set(expected):
        raise ValueError(
            f"{table.name}: columns differ from the declaration "
            f"(missing {sorted(set(expected) - names)}, extra {sorted(names - set(expected))})"
        )
    arrays = [data.column(n) for n in expected]
    out = pa.Table.from_arrays(arrays, names=expected)
    if not out.schema.equals(table.arrow_schema, check_metadata=False):
        out = out.cast(table.arrow_schema)
    return out.replace_schema_metadata(table.arrow_schema.metadata)


def _snake(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        prev = name[i - 1] if i else ""
        nxt = name[i + 1] if i + 1 < len(name) else ""
        if ch.isupper() and i and (prev.islower() or (nxt.islower() and prev.isupper())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
