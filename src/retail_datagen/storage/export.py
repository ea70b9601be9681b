"""Export the store as Parquet or CSV files (SPEC §2.4), written atomically through DuckDB COPY.

Layout (under ``out_dir``, default ``<data>/export``)::

    dim_<name>/dim_<name>.<fmt>
    fact_<name>/fact_<name>_YYYY-MM.<fmt>            monthly (Parquet or CSV), one file a month
    fact_<name>/dt=YYYY-MM-DD/fact_<name>.csv        Hive-style daily CSV (``csv_daily``)

Parquet is the native fact form: exporting Parquet into the data folder itself only rewrites
facts that are stored as CSV. Every file is first written under a hidden temporary name.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.schema import DIMENSIONS, FACTS, Table, get_table, normalise
from retail_datagen.storage.atomic import atomic_path, commit, temp_path_for, write_parquet_atomic
from retail_datagen.storage.duckdb_store import (
    FactFiles,
    in_flight_file,
    open_store,
    reader_sql,
    stored_fact_files,
    table_exists,
)
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.sql import ident, literal

__all__ = ["ExportFormat", "export_data"]

ExportFormat = Literal["parquet", "csv"]


@dataclass(frozen=True)
class _ExportTarget(DataLayout):
    """The data folder's layout with the export folder moved (``export --out DIR``)."""

    export_override: Path = Path()

    @property
    def export_dir(self) -> Path:
        return self.export_override


def _copy_options(fmt: ExportFormat) -> str:
    if fmt == "parquet":
        return "FORMAT parquet, COMPRESSION zstd"
    return "FORMAT csv, HEADER true"


def _export_dimension(
    con: duckdb.DuckDBPyConnection, table: Table, fmt: ExportFormat, target: DataLayout
) -> Path:
    final = target.dim_file(table.name, fmt)
    columns = ", ".join(ident(c) for c in table.column_names)
    query = f"SELECT {columns} FROM {ident(table.name)}"
    if fmt == "parquet":  # through Arrow so the file carries the registry schema and docs
        write_parquet_atomic(normalise(table, con.sql(query).to_arrow_table()), final)
        return final
    with atomic_path(final) as tmp:
        con.execute(f"COPY ({query}) TO {literal(str(tmp))} ({_copy_options(fmt)})")
    return final


def _month_units(layout: DataLayout, source: FactFiles) -> dict[tuple[int, int], list[Path]]:
    """Source files (daily files, or a month's parts) grouped by calendar (year, month)."""
    units: dict[tuple[int, int], list[Path]] = defaultdict(list)
    for file in source.files:
        name = layout.fact_file(source.table, file)
        if name is None:  # discovery only returns parsable names
            raise RuntimeError(f"unexpected fact file name {file}")
        units[name.year_month].append(file)
    return dict(sorted(units.items()))


def _export_fact_monthly(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source: FactFiles,
    fmt: ExportFormat,
    target: DataLayout,
) -> list[Path]:
    written: list[Path] = []
    for (year, mon), files in _month_units(target, source).items():
        final = target.fact_month_file(table.name, year, mon, fmt)
        query = reader_sql(table, source.kind, files)
        if source.kind != "parquet" or len(files) > 1:
            query += f" ORDER BY {ident(table.time_column or 'EventTS')}"
        with atomic_path(final) as tmp:
            con.execute(f"COPY ({query}) TO {literal(str(tmp))} ({_copy_options(fmt)})")
        written.append(final)
    return written


def _export_fact_daily(
    con: duckdb.DuckDBPyConnection, table: Table, source: FactFiles, target: DataLayout
) -> list[Path]:
    """One partitioned COPY per source month into a hidden folder, then per-file renames."""
    written: list[Path] = []
    time_column = ident(table.time_column or "EventTS")
    folder = target.table_dir(table.name)
    folder.mkdir(parents=True, exist_ok=True)
    for files in _month_units(target, source).values():
        staging = temp_path_for(folder / "daily")
        try:
            query = (
                f"SELECT *, strftime({time_column}, '%Y-%m-%d') AS dt "
                f"FROM ({reader_sql(table, source.kind, files)}) ORDER BY {time_column}"
            )
            con.execute(
                f"COPY ({query}) TO {literal(str(staging))} "
                f"({_copy_options('csv')}, PARTITION_BY (dt))"
            )
            days = ((target.partition_day(p), p) for p in staging.iterdir())
            for day, day_dir in sorted((d, p) for d, p in days if d is not None):
                parts = sorted(day_dir.glob("*.csv"))
                final = target.fact_day_file(table.name, day.isoformat())
                if final in written:  # a later month also holds rows of the day (an online
                    # order is stored with the month it became final in): keep both
                    parts = [final, *parts]
                if len(parts) == 1:
                    commit(parts[0], final)
                else:  # DuckDB split a large day: merge the parts into the one daily file
                    merged = reader_sql(table, "csv", parts) + f" ORDER BY {time_column}"
                    with atomic_path(final) as tmp:
                        con.execute(f"COPY ({merged}) TO {literal(str(tmp))} (FORMAT csv, HEADER)")
                written.append(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return written


def _export_in_flight(
    con: duckdb.DuckDBPyConnection,
    layout: DataLayout,
    table: Table,
    fmt: ExportFormat,
    target: DataLayout,
) -> list[Path]:
    """The table's rows in flight at the range end, next to its exported period files."""
    source = in_flight_file(layout, table.name)
    final = target.in_flight_file(table.name, fmt)
    if source is None or final == source[1]:
        return []
    query = reader_sql(table, source[0], [source[1]])
    with atomic_path(final) as tmp:
        con.execute(f"COPY ({query}) TO {literal(str(tmp))} ({_copy_options(fmt)})")
    return [final]


def _is_native(source: FactFiles, fmt: ExportFormat, daily: bool, same_place: bool) -> bool:
    wanted = "parquet" if fmt == "parquet" else ("csv_daily" if daily else "csv")
    # a Delta table's files are the Parquet files: rewriting them would corrupt its log
    kind = "parquet" if source.kind == "delta" else source.kind
    return same_place and kind == wanted


def export_data(
    data_dir: str | Path,
    fmt: ExportFormat,
    tables: list[str] | None = None,
    csv_daily: bool = False,
    out_dir: Path | None = None,
) -> list[Path]:
    """Write the chosen tables (default: all) as ``fmt`` files; return the files written.

    Files that already exist in exactly the requested form at the requested place (the native
    Parquet facts and dimensions of the data folder) are left alone and not listed.
    """
    if fmt not in ("parquet", "csv"):
        raise UserError(f"format = {fmt!r}: must be 'parquet' or 'csv'")
    if csv_daily and fmt != "csv":
        raise UserError("--csv-daily only applies to --format csv")
    layout = DataLayout.of(data_dir)
    target = layout
    if out_dir is not None:  # an explicit output folder holds the table folders directly
        target = _ExportTarget(layout.root, Path(out_dir).expanduser().resolve())
    same_place = target.export_dir == layout.export_dir
    selected = [get_table(t) for t in tables] if tables else [*DIMENSIONS, *FACTS]
    written: list[Path] = []
    # one thread: an ordered copy then streams one row group at a time in bounded memory
    with open_store(layout.root, tables=[t.name for t in selected], threads=1) as con:
        for table in selected:
            if table.is_fact:
                source = stored_fact_files(layout, table.name)
                if source is None or _is_native(source, fmt, csv_daily, same_place):
                    continue
                if fmt == "csv" and csv_daily:
                    written += _export_fact_daily(con, table, source, target)
                else:
                    written += _export_fact_monthly(con, table, source, fmt, target)
                written += _export_in_flight(con, layout, table, fmt, target)
                continue
            if not table_exists(con, table.name):
                raise DataStateError(
                    f"no dimensions in {layout.root}; run `retail-datagen generate --dims-only` "
                    "first"
                )
            if fmt == "parquet" and same_place and layout.dim_file(table.name).is_file():
                continue
            written.append(_export_dimension(con, table, fmt, target))
    return written
