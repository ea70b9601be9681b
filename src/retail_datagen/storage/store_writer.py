"""The writer side of ``retail.duckdb``: held only while committing, never on a read.

Three things are written: the dimension tables (replaced in one transaction), their Parquet
exports (what readers read), and the persisted fact views a notebook queries. A view is
replaced only when its SQL changes (new files, another format, a moved folder): each view
carries a comment with the hash of its SQL. A crash between the dimension commit and the
exports leaves exports *missing*, never stale (they are removed before the commit), and every
writer open re-creates missing or unreadable exports from the tables.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS, FACTS, TABLES, Table, normalise
from retail_datagen.storage.atomic import fsync_dir, write_parquet_atomic
from retail_datagen.storage.duckdb_access import is_lock_error, remove_stale_spill_dirs, retry_on
from retail_datagen.storage.duckdb_access import settings as duckdb_settings
from retail_datagen.storage.duckdb_store import (
    _busy,
    _fact_files,
    _no_data,
    _object_type,
    _preferred_kinds,
    _view_sql,
)
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.sql import fetch_scalar, ident, literal

__all__ = [
    "StoreBusyError",
    "open_writer",
    "remove_dimension_exports",
    "repair_dimension_exports",
    "replace_dimensions",
    "sync_fact_views",
    "sync_store",
]

_log = logging.getLogger("retail_datagen")
_VIEW_MARK = "retail-datagen view "


class StoreBusyError(DataStateError):
    """Another process holds retail.duckdb (e.g. a notebook's read-write connection)."""


@contextmanager
def open_writer(
    data_dir: str | Path, *, create: bool = False, wait: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """retail.duckdb opened read-write, waiting at most ``wait`` seconds (default
    ``duckdb_access.LOCK_WAIT_SECONDS``) for other processes' locks, then
    :class:`StoreBusyError`; closed (and so released) on exit."""
    layout = DataLayout.of(data_dir)
    path = layout.duckdb_path
    if not path.exists():
        if not create:
            raise _no_data(layout)
        layout.root.mkdir(parents=True, exist_ok=True)
    config = duckdb_settings(layout.root, writer=True)
    try:
        con = retry_on(lambda: duckdb.connect(str(path), config=config), is_lock_error, wait)
    except duckdb.IOException as exc:
        if is_lock_error(exc):
            raise StoreBusyError(str(_busy(path, exc))) from None
        raise DataStateError(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    try:
        yield con
    finally:
        con.close()


def _transaction(con: duckdb.DuckDBPyConnection, body: list[str]) -> None:
    """Run statements in one transaction, again when a writer of the same process conflicts."""

    def run() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in body:
                con.execute(statement)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    retry_on(run, lambda exc: isinstance(exc, duckdb.TransactionException), seconds=5.0)


def _drop_sql(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    kind = _object_type(con, name)
    if kind == "VIEW":
        return [f"DROP VIEW {ident(name)}"]
    return [] if kind is None else [f"DROP TABLE {ident(name)}"]


# ---------------------------------------------------------------- persisted fact views
def _mark(sql: str) -> str:
    return _VIEW_MARK + hashlib.sha256(sql.encode()).hexdigest()[:16]


def sync_fact_views(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> list[str]:
    """Point the persisted fact views at the current files; only changed views are replaced.
    Returns the names of the replaced views."""
    kinds = _preferred_kinds(layout)
    marks = dict(
        con.execute(
            "SELECT view_name, comment FROM duckdb_views() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    )
    statements: list[str] = []
    changed: list[str] = []
    for table in FACTS:
        sql = _view_sql(layout, table, _fact_files(layout, table.name, kinds))
        if marks.get(table.name) == _mark(sql):
            continue
        changed.append(table.name)
        statements += _drop_sql(con, table.name)
        statements.append(f"CREATE VIEW {ident(table.name)} AS {sql}")
        statements.append(f"COMMENT ON VIEW {ident(table.name)} IS {literal(_mark(sql))}")
    if statements:
        _transaction(con, statements)
    return changed


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
                for statement in _drop_sql(con, name):
                    con.execute(statement)
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


def remove_dimension_exports(layout: DataLayout) -> None:
    """Delete every dimension export before the tables change, so a crash before the new
    exports are written leaves them missing (repaired from the tables), never stale."""
    for table in DIMENSIONS:
        file = layout.dim_file(table.name)
        if file.is_file():
            file.unlink()
            fsync_dir(file.parent)


def _export_is_sound(file: Path, table: Table, rows: int) -> bool:
    try:
        data = pq.read_table(file)
    except (OSError, pa.ArrowException):
        return False
    return bool(data.num_rows == rows) and list(data.schema.names) == list(table.column_names)


def repair_dimension_exports(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> list[str]:
    """Re-create the Parquet export of every dimension table whose export is missing, unreadable
    or of another size; returns the names re-created."""
    repaired: list[str] = []
    for table in DIMENSIONS:
        if _object_type(con, table.name) != "BASE TABLE":
            continue
        rows = int(fetch_scalar(con, f"SELECT count(*) FROM {ident(table.name)}") or 0)
        file = layout.dim_file(table.name)
        if _export_is_sound(file, table, rows):
            continue
        columns = ", ".join(ident(c) for c in table.column_names)
        data = con.sql(f"SELECT {columns} FROM {ident(table.name)}").to_arrow_table()
        write_parquet_atomic(normalise(table, data), file)
        repaired.append(table.name)
    return repaired


# ---------------------------------------------------------------- one writer visit
def sync_store(data_dir: str | Path, *, wait: float | None = None) -> bool:
    """Remove spill folders of killed processes, repair the dimension exports and update the
    persisted fact views (creating the store when missing).

    When another process holds retail.duckdb past ``wait``, nothing fails: the committed files
    are complete, one warning line says the views catch up on the next run, and the result is
    False."""
    layout = DataLayout.of(data_dir)
    remove_stale_spill_dirs(layout.root)
    try:
        with open_writer(layout.root, create=True, wait=wait) as con:
            repaired = repair_dimension_exports(con, layout)
            sync_fact_views(con, layout)
    except StoreBusyError:
        _log.warning(
            "%s is in use by another process; its fact views will be refreshed on the next run "
            "(the data files are complete)",
            layout.duckdb_path,
        )
        return False
    except duckdb.Error as exc:  # never turn committed files into a failed run
        _log.warning(
            "could not refresh the fact views in %s (%s); they will be refreshed on the next run",
            layout.duckdb_path,
            str(exc).splitlines()[0],
        )
        return False
    if repaired:
        _log.warning("re-created missing or damaged dimension exports: %s", ", ".join(repaired))
    return True
