"""The embedded DuckDB store as readers see it: fact files on disk, reads, queries.

Facts live as monthly files under ``export/``; dimensions are tables in ``retail.duckdb``, also
exported as Parquet. Our readers never open ``retail.duckdb`` for writing: each read is an
in-memory DuckDB with temporary views over the fact files and the dimension exports, so any
number of readers (CLI, server, a notebook) work while a generation writes. The writer side
(dimension replacement, the persisted views a notebook reads) is ``store_writer``. User-supplied
table names are checked against the registry before any SQL is built from them.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import duckdb
import pyarrow as pa

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.schema import DIMENSIONS, FACTS, TABLES, Table, get_table, normalise
from retail_datagen.storage.duckdb_access import is_lock_error, retry_on, settings
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.sql import fetch_one, fetch_scalar, ident, literal
from retail_datagen.storage.state import GenerationStateManager

__all__ = [
    "MAX_PREVIEW_ROWS",
    "FactFiles",
    "SourceKind",
    "TableInfo",
    "connect",
    "fact_date_range",
    "fact_files",
    "has_dimensions",
    "has_fact_data",
    "in_flight_file",
    "in_flight_sql",
    "list_tables",
    "load_dimensions",
    "missing_dimensions",
    "open_store",
    "preview",
    "read_store",
    "reader_sql",
    "refresh_fact_views",
    "store_tables",
    "stored_fact_files",
    "table_exists",
]

MAX_PREVIEW_ROWS = 1000
SourceKind = Literal["parquet", "csv", "csv_daily", "delta"]
T = TypeVar("T")


# ---------------------------------------------------------------- names and SQL text
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
    if state.output_format == "delta":
        return ("delta", "parquet", "csv", "csv_daily")
    return ("parquet", "csv", "csv_daily")


def _delta_snapshot(layout: DataLayout, table: str) -> tuple[Path, ...]:
    """The files of ``table``'s current Delta snapshot in the data folder (none without a
    Delta log), read through delta-rs: files an interrupted run left outside the log are
    never read."""
    if not (layout.table_dir(table) / "_delta_log").is_dir():
        return ()
    from retail_datagen.storage.delta import delta_files
    from retail_datagen.storage.remote import fact_location

    names = delta_files(fact_location(layout.export_dir, None), table) or []
    return tuple(layout.table_dir(table) / name for name in names)


def _remote_location(layout: DataLayout) -> Any:
    """The Azure location of the facts when the state records one (else None)."""
    try:
        state = GenerationStateManager(layout.root).load()
    except DataStateError:
        return None
    if not state.output_url or state.output_format != "delta":
        return None
    from retail_datagen.storage.remote import fact_location

    return fact_location(layout.export_dir, state.output_url)


def fact_files(data_dir: str | Path, table: str) -> FactFiles | None:
    """The files a fact table's view reads, or None when it has none yet."""
    layout = DataLayout.of(data_dir)
    spec = get_table(table)
    if not spec.is_fact:
        raise UserError(f"{table} is a dimension, not a fact table")
    return _fact_files(layout, spec.name, _preferred_kinds(layout))


def stored_fact_files(layout: DataLayout, table: str) -> FactFiles | None:
    """The files of ``table`` in its stored form (as the views read them)."""
    return _fact_files(layout, table, _preferred_kinds(layout))


def _fact_files(layout: DataLayout, table: str, kinds: tuple[SourceKind, ...]) -> FactFiles | None:
    found: dict[SourceKind, tuple[Path, ...]] = {"delta": ()}
    for stored_kind, paths in layout.fact_files(table).items():
        found[stored_kind] = paths
    for kind in kinds:
        if kind == "delta":
            found["delta"] = _delta_snapshot(layout, table)
            if (layout.table_dir(table) / "_delta_log").is_dir():
                return FactFiles(table, kind, found[kind])  # the log decides, even when empty
        if found[kind]:
            return FactFiles(table, kind, found[kind])
    return None


def has_fact_data(data_dir: str | Path) -> bool:
    """True when any fact table has at least one file (cheap: looks at the folder only)."""
    layout = DataLayout.of(data_dir)
    return any(any(layout.fact_files(t.name).values()) for t in FACTS)


def reader_sql(table: Table, kind: SourceKind, files: list[Path]) -> str:
    """A SELECT of ``table``'s declared columns and types over files of one storage form."""
    if not files:
        return table.duckdb_empty_select()
    listed = _file_list(files)
    if kind in ("parquet", "delta"):  # a Delta snapshot is a list of Parquet files
        return f"SELECT {_typed_columns(table)} FROM read_parquet({listed}, union_by_name = true)"
    columns = ", ".join(ident(c) for c in table.column_names)
    return (
        f"SELECT {columns} FROM read_csv({listed}, header = true, auto_detect = false, "
        f"columns = {_csv_columns(table)}, allow_quoted_nulls = false, "
        f"hive_partitioning = false)"
    )


def in_flight_file(layout: DataLayout, table: str) -> tuple[SourceKind, Path] | None:
    """The file of ``table``'s rows in flight at the end of the range (see
    :meth:`DataLayout.in_flight_file`), in the stored form first; None when it has none."""
    for kind in _preferred_kinds(layout):
        fmt: SourceKind = {"csv_daily": "csv", "delta": "parquet"}.get(kind, kind)  # type: ignore[assignment]
        path = layout.in_flight_file(table, fmt)
        if path.is_file():
            return fmt, path
    return None


def in_flight_sql(layout: DataLayout, table: Table) -> str | None:
    """A SELECT of ``table``'s rows in flight, or None when it has none."""
    found = in_flight_file(layout, table.name)
    return None if found is None else reader_sql(table, found[0], [found[1]])


def _view_sql(layout: DataLayout, table: Table, source: FactFiles | None) -> str:
    """Period files, then the rows in flight (an online order until it is final)."""
    parts = [] if source is None else [reader_sql(table, source.kind, list(source.files))]
    in_flight = in_flight_sql(layout, table)
    if in_flight is not None:
        parts.append(in_flight)
    if not parts:
        return table.duckdb_empty_select()
    return " UNION ALL ".join(parts)


# ---------------------------------------------------------------- read connections
def _object_type(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None for an object called ``name`` (temporary ones first).

    Asks DuckDB's catalog functions: information_schema is several times slower."""
    kind = fetch_scalar(
        con,
        "SELECT kind FROM (SELECT 'VIEW' AS kind, database_name AS db FROM duckdb_views() "
        "WHERE schema_name = 'main' AND view_name = $1 UNION ALL "
        "SELECT 'BASE TABLE', database_name FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND table_name = $1) "
        "WHERE db IN (current_database(), 'temp') ORDER BY db = 'temp' DESC LIMIT 1",
        [name],
    )
    return None if kind is None else str(kind)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the store has a table or view called ``name``."""
    return _object_type(con, name) is not None


def _no_data(layout: DataLayout) -> DataStateError:
    return DataStateError(f"no data in {layout.root}; run `retail-datagen generate` first")


def _busy(path: Path, exc: BaseException) -> DataStateError:
    holder = re.search(r"PID (\d+)", str(exc))
    by = f" (process {holder.group(1)})" if holder else ""
    return DataStateError(
        f"{path} is in use by another process{by}; close that connection (a notebook's too) "
        "and try again"
    )


def _dimension_view(con: duckdb.DuckDBPyConnection, layout: DataLayout, table: Table) -> bool:
    """A view over the dimension's Parquet export; False when it is missing or unreadable."""
    file = layout.dim_file(table.name)
    if not file.is_file():
        return False
    try:
        con.execute(
            f"CREATE TEMP VIEW {ident(table.name)} AS {reader_sql(table, 'parquet', [file])}"
        )
    except duckdb.Error:  # a corrupt export: read the store instead (the writer repairs it)
        return False
    return True


@contextmanager
def _attached(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> Iterator[str]:
    """retail.duckdb attached read-only to ``con`` under a unique alias (attached databases are
    shared by every connection of a database), waiting for a writer's lock if needed."""
    path = layout.duckdb_path
    alias = f"__store_{secrets.token_hex(6)}"
    try:
        retry_on(
            lambda: con.execute(f"ATTACH {literal(str(path))} AS {alias} (READ_ONLY)"),
            is_lock_error,
        )
    except duckdb.Error as exc:
        raise (
            _busy(path, exc)
            if is_lock_error(exc)
            else DataStateError(f"cannot read {path}: {str(exc).splitlines()[0]}")
        ) from None
    try:
        yield alias
    finally:
        con.execute(f"DETACH {alias}")


def _store_table_names(con: duckdb.DuckDBPyConnection, alias: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
        [alias],
    ).fetchall()
    return {str(row[0]) for row in rows}


def _copy_from_store(
    con: duckdb.DuckDBPyConnection, layout: DataLayout, tables: list[Table]
) -> None:
    """Copy dimensions whose export is missing from retail.duckdb, attached read-only for as
    short as possible (a writer waits for readers)."""
    with _attached(con, layout) as alias:
        present = _store_table_names(con, alias)
        for table in tables:
            if table.name in present:
                con.execute(
                    f"CREATE TEMP TABLE {ident(table.name)} AS "
                    f"SELECT * FROM {alias}.main.{ident(table.name)}"
                )


def store_tables(data_dir: str | Path) -> set[str]:
    """The tables retail.duckdb itself holds, read through a read-only attach: unlike a read
    connection (which prefers the exports) this really opens the file, so it finds a damaged
    store (:class:`DataStateError`)."""
    layout = DataLayout.of(data_dir)
    if not layout.duckdb_path.exists():
        raise _no_data(layout)
    con = duckdb.connect(":memory:", config=settings(layout.root))
    try:
        with _attached(con, layout) as alias:
            return _store_table_names(con, alias)
    finally:
        con.close()


def _create_read_views(
    con: duckdb.DuckDBPyConnection, layout: DataLayout, tables: list[Table]
) -> None:
    kinds = _preferred_kinds(layout)
    remote = _remote_location(layout) if any(t.is_fact for t in tables) else None
    unexported: list[Table] = []
    for table in tables:
        if table.is_fact:
            if remote is not None:
                view = _remote_view_sql(con, layout, remote, table)
            else:
                view = _view_sql(layout, table, _fact_files(layout, table.name, kinds))
            con.execute(f"CREATE TEMP VIEW {ident(table.name)} AS {view}")
        elif not _dimension_view(con, layout, table):
            unexported.append(table)
    if unexported:
        _copy_from_store(con, layout, unexported)


def _remote_view_sql(
    con: duckdb.DuckDBPyConnection, layout: DataLayout, location: Any, table: Table
) -> str:
    """A SELECT of a remote Delta table (its snapshot as a pyarrow dataset through delta-rs,
    registered on ``con``: DuckDB's own delta and azure extensions are not needed), then the
    rows in flight, which stay in the data folder."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    from retail_datagen.storage.remote import remote_errors

    parts: list[str] = []
    with remote_errors(location):
        try:
            uri = location.table_uri(table.name)
            dt = DeltaTable(uri, storage_options=location.delta_options())
        except TableNotFoundError:
            dt = None
        if dt is not None:
            alias = f"__delta_{table.name}_{secrets.token_hex(4)}"
            con.register(alias, dt.to_pyarrow_dataset())
            parts.append(f"SELECT {_typed_columns(table)} FROM {ident(alias)}")
    in_flight = in_flight_sql(layout, table)
    if in_flight is not None:
        parts.append(in_flight)
    return " UNION ALL ".join(parts) if parts else table.duckdb_empty_select()


_SHARED_READERS = 4  # data folders whose reader database a process keeps open
_shared: OrderedDict[Path, duckdb.DuckDBPyConnection] = OrderedDict()
_shared_lock = threading.Lock()


def _reader_connection(root: Path, ordered: bool, threads: int | None) -> duckdb.DuckDBPyConnection:
    """A new connection to this process's in-memory reader database for ``root``.

    Starting a DuckDB database costs far more than a connection to one, so ordered reads (the
    server's previews) share one database per data folder (a few kept, least recently used
    closed) with its memory limit shared too; each connection has its own temporary views.
    Bulk reads with other settings (validation, export) get a database of their own.
    """
    if not ordered or threads is not None:
        return duckdb.connect(":memory:", config=settings(root, ordered=ordered, threads=threads))
    with _shared_lock:
        base = _shared.pop(root, None)
        if base is None:
            base = duckdb.connect(":memory:", config=settings(root))
        _shared[root] = base
        while len(_shared) > _SHARED_READERS:
            _shared.popitem(last=False)[1].close()  # open cursors keep their database alive
        return base.cursor()


def connect(
    data_dir: str | Path,
    *,
    tables: Iterable[str] | None = None,
    ordered: bool = True,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A read connection: an in-memory DuckDB with temporary views over the files on disk.

    Facts are read from their files, dimensions from their Parquet exports (retail.duckdb is
    attached read-only only for a missing export), so a reader never writes, never takes
    retail.duckdb's lock for long and never fails because another process writes. ``tables``
    limits the views to the ones needed; ``ordered=False`` allows DuckDB to drop row order and
    ``threads`` sets DuckDB's threads (see ``duckdb_access.settings``). A missing store is a
    :class:`DataStateError` and nothing is written.
    """
    layout = DataLayout.of(data_dir)
    if not layout.duckdb_path.exists():
        raise _no_data(layout)
    selected = [get_table(t) for t in tables] if tables is not None else list(TABLES.values())
    con = _reader_connection(layout.root, ordered, threads)
    try:
        _create_read_views(con, layout, selected)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def open_store(
    data_dir: str | Path,
    *,
    tables: Iterable[str] | None = None,
    ordered: bool = True,
    threads: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``connect`` as a context manager that always closes the connection."""
    con = connect(data_dir, tables=tables, ordered=ordered, threads=threads)
    try:
        yield con
    finally:
        con.close()


def _file_vanished(exc: BaseException) -> bool:
    """A fact file listed by discovery was replaced or removed by a writer meanwhile."""
    return isinstance(exc, duckdb.IOException) and not is_lock_error(exc)


def read_store(
    data_dir: str | Path,
    query: Callable[[duckdb.DuckDBPyConnection], T],
    *,
    tables: Iterable[str] | None = None,
    threads: int | None = None,
) -> T:
    """``query`` on a fresh read connection, run again (with files discovered again) when a
    writer removed a file between discovery and reading. ``threads`` gives the read a
    database of its own, closed (with its memory) at the end (see ``connect``)."""
    names = list(tables) if tables is not None else None

    def attempt() -> T:
        with open_store(data_dir, tables=names, threads=threads) as con:
            return query(con)

    return retry_on(attempt, _file_vanished, seconds=2.0)


def refresh_fact_views(data_dir: str | Path) -> bool:
    """Bring retail.duckdb's persisted fact views and the dimension exports up to date (see
    :func:`retail_datagen.storage.store_writer.sync_store`); False when another process holds
    the store (a one-line warning says the views are refreshed on the next run)."""
    from retail_datagen.storage.store_writer import sync_store

    return sync_store(data_dir)


# ---------------------------------------------------------------- dimensions
def missing_dimensions(data_dir: str | Path) -> list[str]:
    """Dimension tables the store lacks (all of them when there is no store)."""
    layout = DataLayout.of(data_dir)
    names = [t.name for t in DIMENSIONS]
    if not layout.duckdb_path.exists():
        return names
    return read_store(
        layout.root, lambda con: [n for n in names if not table_exists(con, n)], tables=names
    )


def has_dimensions(data_dir: str | Path) -> bool:
    """True when the store exists and holds every dimension table."""
    return not missing_dimensions(data_dir)


_DIMENSION_LOAD_THREADS = 2


def load_dimensions(data_dir: str | Path) -> dict[str, pa.Table]:
    """Every dimension as an Arrow table with its registry schema (input of the fact engine)."""
    layout = DataLayout.of(data_dir)
    missing = DataStateError(
        f"no dimensions in {layout.root}; run `retail-datagen generate --dims-only` first"
    )
    if not layout.duckdb_path.exists():
        raise missing

    def load(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        if not all(table_exists(con, t.name) for t in DIMENSIONS):
            raise missing
        out: dict[str, pa.Table] = {}
        for table in DIMENSIONS:
            columns = ", ".join(ident(c) for c in table.column_names)
            data = con.sql(f"SELECT {columns} FROM {ident(table.name)}").to_arrow_table()
            out[table.name] = normalise(table, data)
        return out

    # a database of its own: the process's shared reader would keep the ~35 MB of buffers the
    # load leaves in DuckDB for as long as the process runs (a whole generation)
    names = [t.name for t in DIMENSIONS]
    return read_store(layout.root, load, tables=names, threads=_DIMENSION_LOAD_THREADS)


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

    def count_all(con: duckdb.DuckDBPyConnection) -> list[TableInfo]:
        return [
            TableInfo(
                name=t.name,
                kind="fact" if t.is_fact else "dimension",
                rows=_count(con, t.name),
                doc=t.doc,
            )
            for t in (*DIMENSIONS, *FACTS)
        ]

    return read_store(data_dir, count_all)


def preview(data_dir: str | Path, table: str, limit: int = 100, offset: int = 0) -> pa.Table:
    """Up to ``limit`` (≤ 1000) rows of a table from ``offset``, in storage order, as Arrow."""
    spec = get_table(table)
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise UserError(f"limit = {limit}: must be between 1 and {MAX_PREVIEW_ROWS}")
    if offset < 0:
        raise UserError(f"offset = {offset}: must not be negative")

    def page(con: duckdb.DuckDBPyConnection) -> pa.Table:
        if not table_exists(con, spec.name):
            return spec.arrow_schema.empty_table()
        columns = ", ".join(ident(c) for c in spec.column_names)
        return con.sql(
            f"SELECT {columns} FROM {ident(spec.name)} LIMIT {int(limit)} OFFSET {int(offset)}"
        ).to_arrow_table()

    return normalise(spec, read_store(data_dir, page, tables=[spec.name]))


def fact_date_range(data_dir: str | Path, table: str) -> tuple[datetime, datetime] | None:
    """(min, max) of a fact table's time column, or None when it has no rows."""
    spec = get_table(table)
    if not spec.is_fact or spec.time_column is None:
        raise UserError(f"{spec.name} is not a fact table; only facts have a date range")
    column = ident(spec.time_column)
    row = read_store(
        data_dir,
        lambda con: fetch_one(con, f"SELECT min({column}), max({column}) FROM {ident(spec.name)}"),
        tables=[spec.name],
    )
    if row is None or row[0] is None:
        return None
    return row[0], row[1]
