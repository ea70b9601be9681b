"""The embedded DuckDB store: dimension tables, fact views over the exported files, queries.

Dimensions are real tables created from the registry DDL (never inferred types) and replaced in
one transaction. Facts live as monthly files under ``export/`` and appear in the store as views
with absolute paths; the views are rebuilt every time our code opens the store, so a moved data
folder keeps working. User-supplied table names are checked against the registry before any SQL
is built from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.schema import DIMENSIONS, FACTS, TABLES, Table, normalise
from retail_datagen.storage.layout import DataLayout, parse_fact_file
from retail_datagen.storage.sql import fetch_one, fetch_scalar, ident, literal

__all__ = [
    "MAX_PREVIEW_ROWS",
    "FactFiles",
    "SourceKind",
    "TableInfo",
    "connect",
    "discover_fact_files",
    "fact_date_range",
    "fact_files",
    "has_dimensions",
    "has_fact_data",
    "list_tables",
    "load_dimensions",
    "open_store",
    "preview",
    "reader_sql",
    "refresh_fact_views",
    "replace_dimensions",
    "resolve_table",
    "stored_fact_files",
    "table_exists",
]

MAX_PREVIEW_ROWS = 1000
SourceKind = Literal["parquet", "csv", "csv_daily"]


# ---------------------------------------------------------------- names and SQL text
def resolve_table(name: str) -> Table:
    """The registry table called ``name``; anything else is a one-line :class:`UserError`."""
    table = TABLES.get(name)
    if table is None:
        raise UserError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}")
    return table


def _file_list(files: list[Path]) -> str:
    return "[" + ", ".join(literal(str(f)) for f in files) + "]"


def _typed_columns(table: Table) -> str:
    return ", ".join(
        f"CAST({ident(c.name)} AS {c.kind.duckdb}) AS {ident(c.name)}" for c in table.columns
    )


def _csv_columns(table: Table) -> str:
    return (
        "{" + ", ".join(f"{literal(c.name)}: {literal(c.kind.duckdb)}" for c in table.columns) + "}"
    )


# ---------------------------------------------------------------- fact files on disk
@dataclass(frozen=True)
class FactFiles:
    """The files that hold one fact table, in one storage form."""

    table: str
    kind: SourceKind
    files: tuple[Path, ...]


def _discover(layout: DataLayout, table: str) -> dict[SourceKind, tuple[Path, ...]]:
    """Every fact file of ``table`` by storage form, in chronological (= name) order."""
    folder = layout.table_dir(table)
    found: dict[SourceKind, list[Path]] = {"parquet": [], "csv": [], "csv_daily": []}
    if not folder.is_dir():
        return {kind: () for kind in found}
    candidates = [p for p in folder.iterdir() if p.is_file()]
    candidates += [d / f"{table}.csv" for d in folder.iterdir() if d.is_dir()]
    for path in candidates:
        name = parse_fact_file(table, path)
        if name is not None and path.is_file():
            found[name.kind].append(path)
    return {kind: tuple(sorted(paths)) for kind, paths in found.items()}


def discover_fact_files(layout: DataLayout, table: str) -> dict[SourceKind, tuple[Path, ...]]:
    """Every fact file of ``table`` by storage form, for checks and repairs outside this module."""
    return _discover(layout, table)


def _preferred_kinds(layout: DataLayout) -> tuple[SourceKind, ...]:
    """The stored form of facts first (from the generation state), then the other forms."""
    try:
        state = GenerationStateManager(layout.root).load()
    except DataStateError:
        return ("parquet", "csv", "csv_daily")
    if state.output_format == "csv":
        return (
            ("csv_daily", "csv", "parquet") if state.csv_daily else ("csv", "csv_daily", "parquet")
        )
    return ("parquet", "csv", "csv_daily")


def fact_files(data_dir: str | Path, table: str) -> FactFiles | None:
    """The files a fact table's view reads, or None when it has none yet."""
    layout = DataLayout.of(data_dir)
    spec = resolve_table(table)
    if not spec.is_fact:
        raise UserError(f"{table} is a dimension, not a fact table")
    return _fact_files(layout, spec.name, _preferred_kinds(layout))


def stored_fact_files(layout: DataLayout, table: str) -> FactFiles | None:
    """The files of ``table`` in its stored form (as the views read them)."""
    return _fact_files(layout, table, _preferred_kinds(layout))


def _fact_files(layout: DataLayout, table: str, kinds: tuple[SourceKind, ...]) -> FactFiles | None:
    found = _discover(layout, table)
    for kind in kinds:
        if found[kind]:
            return FactFiles(table, kind, found[kind])
    return None


def has_fact_data(data_dir: str | Path) -> bool:
    """True when any fact table has at least one file (cheap: looks at the folder only)."""
    layout = DataLayout.of(data_dir)
    return any(any(_discover(layout, t.name).values()) for t in FACTS)


def reader_sql(table: Table, kind: SourceKind, files: list[Path]) -> str:
    """A SELECT of ``table``'s declared columns and types over files of one storage form."""
    listed = _file_list(files)
    if kind == "parquet":
        return f"SELECT {_typed_columns(table)} FROM read_parquet({listed}, union_by_name = true)"
    columns = ", ".join(ident(c) for c in table.column_names)
    return (
        f"SELECT {columns} FROM read_csv({listed}, header = true, auto_detect = false, "
        f"columns = {_csv_columns(table)}, allow_quoted_nulls = false, "
        f"hive_partitioning = false)"
    )


def _view_sql(table: Table, source: FactFiles | None) -> str:
    if source is None:
        return table.duckdb_empty_select()
    return reader_sql(table, source.kind, list(source.files))


# ---------------------------------------------------------------- connections
def _object_type(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None for an object of the main schema."""
    kind = fetch_scalar(
        con,
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = ?",
        [name],
    )
    return None if kind is None else str(kind)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the store has a table or view called ``name``."""
    return _object_type(con, name) is not None


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    kind = _object_type(con, name)
    if kind == "VIEW":
        con.execute(f"DROP VIEW {ident(name)}")
    elif kind is not None:
        con.execute(f"DROP TABLE {ident(name)}")


def _refresh_views(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> None:
    kinds = _preferred_kinds(layout)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in FACTS:
            source = _fact_files(layout, table.name, kinds)
            _drop(con, table.name)
            con.execute(f"CREATE VIEW {ident(table.name)} AS {_view_sql(table, source)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def connect(data_dir: str | Path, *, create: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``<data_dir>/retail.duckdb`` and rebuild the fact views (absolute paths).

    Without ``create`` a missing store is a :class:`DataStateError` and nothing is written.
    """
    layout = DataLayout.of(data_dir)
    path = layout.duckdb_path
    if not path.exists():
        if not create:
            raise DataStateError(f"no data in {layout.root}; run `retail-datagen generate` first")
        layout.root.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        message = str(exc).splitlines()[0]
        if "lock" in message.lower():
            raise DataStateError(
                f"{path} is in use by another process; stop it and try again"
            ) from None
        raise DataStateError(f"cannot open {path}: {message}") from None
    try:
        _refresh_views(con, layout)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def open_store(
    data_dir: str | Path, *, create: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``connect`` as a context manager that always closes the connection."""
    con = connect(data_dir, create=create)
    try:
        yield con
    finally:
        con.close()


def refresh_fact_views(data_dir: str | Path) -> None:
    """Point every fact view at its current files (or a typed empty select); creates the store."""
    with open_store(data_dir, create=True):
        pass


# ---------------------------------------------------------------- dimensions
def replace_dimensions(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> None:
    """Replace the given dimension tables in ONE transaction (all or nothing).

    Each table is dropped and recreated from the registry DDL, then filled from Arrow; DuckDB's
    transactional DDL means a failure (e.g. a duplicate primary key) leaves the old tables.
    """
    views = {name: f"__incoming_{name}" for name in tables}
    for name, data in tables.items():  # registered outside the transaction: an aborted
        con.register(views[name], data)  # transaction refuses even an unregister
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for name in tables:
                spec = TABLES[name]
                columns = ", ".join(ident(c) for c in spec.column_names)
                _drop(con, name)
                con.execute(spec.duckdb_ddl())
                con.execute(
                    f"INSERT INTO {ident(name)} ({columns}) "
                    f"SELECT {columns} FROM {ident(views[name])}"
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for view in views.values():
            con.unregister(view)


def has_dimensions(data_dir: str | Path) -> bool:
    """True when the store exists and holds every dimension table."""
    layout = DataLayout.of(data_dir)
    if not layout.duckdb_path.exists():
        return False
    with open_store(layout.root) as con:
        return all(table_exists(con, t.name) for t in DIMENSIONS)


def load_dimensions(data_dir: str | Path) -> dict[str, pa.Table]:
    """Every dimension as an Arrow table with its registry schema (input of the fact engine)."""
    layout = DataLayout.of(data_dir)
    missing = DataStateError(
        f"no dimensions in {layout.root}; run `retail-datagen generate --dims-only` first"
    )
    if not layout.duckdb_path.exists():
        raise missing
    out: dict[str, pa.Table] = {}
    with open_store(layout.root) as con:
        if not all(table_exists(con, t.name) for t in DIMENSIONS):
            raise missing
        for table in DIMENSIONS:
            columns = ", ".join(ident(c) for c in table.column_names)
            data = con.sql(f"SELECT {columns} FROM {ident(table.name)}").to_arrow_table()
            out[table.name] = normalise(table, data)
    return out


# ---------------------------------------------------------------- queries
@dataclass(frozen=True)
class TableInfo:
    name: str
    kind: Literal["dimension", "fact"]
    rows: int | None  # None when the table does not exist yet
    doc: str


def _count(con: duckdb.DuckDBPyConnection, name: str) -> int | None:
    if not table_exists(con, name):
        return None
    return int(fetch_scalar(con, f"SELECT count(*) FROM {ident(name)}") or 0)


def list_tables(data_dir: str | Path) -> list[TableInfo]:
    """Every registry table with its kind and row count (None when absent), registry order."""
    with open_store(data_dir) as con:
        return [
            TableInfo(
                name=t.name,
                kind="fact" if t.is_fact else "dimension",
                rows=_count(con, t.name),
                doc=t.doc,
            )
            for t in (*DIMENSIONS, *FACTS)
        ]


def preview(data_dir: str | Path, table: str, limit: int = 100, offset: int = 0) -> pa.Table:
    """Up to ``limit`` (≤ 1000) rows of a table from ``offset``, in storage order, as Arrow."""
    spec = resolve_table(table)
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise UserError(f"limit = {limit}: must be between 1 and {MAX_PREVIEW_ROWS}")
    if offset < 0:
        raise UserError(f"offset = {offset}: must not be negative")
    with open_store(data_dir) as con:
        if not table_exists(con, spec.name):
            return spec.arrow_schema.empty_table()
        columns = ", ".join(ident(c) for c in spec.column_names)
        data = con.sql(
            f"SELECT {columns} FROM {ident(spec.name)} LIMIT {int(limit)} OFFSET {int(offset)}"
        ).to_arrow_table()
    return normalise(spec, data)


def fact_date_range(data_dir: str | Path, table: str) -> tuple[datetime, datetime] | None:
    """(min, max) of a fact table's time column, or None when it has no rows."""
    spec = resolve_table(table)
    if not spec.is_fact or spec.time_column is None:
        raise UserError(f"{spec.name} is not a fact table; only facts have a date range")
    column = ident(spec.time_column)
    with open_store(data_dir) as con:
        row = fetch_one(con, f"SELECT min({column}), max({column}) FROM {ident(spec.name)}")
    if row is None or row[0] is None:
        return None
    return row[0], row[1]
