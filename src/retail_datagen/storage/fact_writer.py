"""Fact files by period: monthly Parquet (default), monthly CSV, or Hive-style daily CSV.

Rows arrive day by day; each table's file for the current period is written under a temporary
name and renamed into place only when the period is complete, so a crash or a cancellation never
leaves a half-written file under a final name. A run that continues a month adds a new part
file named by its first day (see :meth:`DataLayout.fact_part_file`) and never rewrites the files
already there, so the cost of a run grows with the days it adds; ``compact`` merges the parts.
A part is committed whole: one whose first day is after the last committed day is a leftover.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from retail_datagen.schema import FACTS, get_table
from retail_datagen.storage.atomic import TEMP_MARKER, atomic_path, fsync_dir
from retail_datagen.storage.layout import DataLayout

__all__ = [
    "PARQUET_COMPRESSION",
    "FactWriter",
    "discard_uncommitted",
    "new_file_writer",
    "remove_in_flight",
    "uncommitted_files",
    "write_in_flight",
]

ROW_GROUP_ROWS = 1 << 17
PARQUET_COMPRESSION = "snappy"


def _parquet_dictionary_columns(table: str) -> list[str]:
    """Dictionary-encode repeated values only; unique ids would just waste the effort."""
    decl = get_table(table)
    return [
        c.name
        for c in decl.columns
        if c.kind.value == "string" and not c.name.endswith(("Id", "ID"))
    ]


def new_file_writer(table: str, path: Path, fmt: str) -> pq.ParquetWriter | pacsv.CSVWriter:
    """A writer of ``table``'s rows in ``fmt`` at ``path`` with the project's file settings."""
    schema = get_table(table).arrow_schema
    if fmt == "parquet":
        return pq.ParquetWriter(
            path,
            schema,
            compression=PARQUET_COMPRESSION,
            use_dictionary=_parquet_dictionary_columns(table),
            write_statistics=["EventTS"],
        )
    return pacsv.CSVWriter(path, schema)


@dataclass
class _OpenFile:
    table: str
    final: Path
    temp: Path
    writer: pq.ParquetWriter | pacsv.CSVWriter
    buffer: list[pa.Table] = field(default_factory=list)
    buffered: int = 0

    def flush(self) -> None:
        if self.buffered:
            data = pa.concat_tables(self.buffer)
            if isinstance(self.writer, pq.ParquetWriter):
                self.writer.write_table(data, row_group_size=ROW_GROUP_ROWS)
            else:
                self.writer.write_table(data)
        self.buffer, self.buffered = [], 0


class FactWriter:
    """Writes the fact tables of consecutive days into period files, atomically per file."""

    def __init__(self, layout: DataLayout, fmt: str = "parquet", csv_daily: bool = False) -> None:
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"unknown fact format {fmt!r}")
        self.layout = layout
        self.fmt = fmt
        self.daily = fmt == "csv" and csv_daily
        self.rows: dict[str, int] = {t.name: 0 for t in FACTS}
        self._period: str | None = None
        self._first_day: date | None = None  # this run's first day in the current period
        self._open: dict[str, _OpenFile] = {}
        self.committed_files: list[Path] = []

    def period_of(self, day: date) -> str:
        return day.isoformat() if self.daily else f"{day.year:04d}-{day.month:02d}"

    def _final_path(self, table: str) -> Path:
        assert self._period is not None and self._first_day is not None
        if self.daily:
            return self.layout.fact_day_file(table, self._period)
        return self.layout.fact_part_file(table, self._first_day, self.fmt)

    def _open_file(self, table: str) -> _OpenFile:
        final = self._final_path(table)
        if final.exists():  # discard_uncommitted removed every later file before the run
            raise RuntimeError(f"refusing to overwrite the committed fact file {final}")
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(f".{final.name}{TEMP_MARKER}{os.getpid()}")
        handle = _OpenFile(table, final, temp, new_file_writer(table, temp, self.fmt))
        self._open[table] = handle
        return handle

    def add(self, day: date, tables: Mapping[str, pa.Table]) -> None:
        period = self.period_of(day)
        if self._period is not None and period != self._period:
            raise RuntimeError("close_period() must be called before a new period starts")
        if self._period is None:
            self._first_day = day
        self._period = period
        for name, data in tables.items():
            if data.num_rows == 0:
                continue
            handle = self._open.get(name) or self._open_file(name)
            handle.buffer.append(data)
            handle.buffered += data.num_rows
            self.rows[name] += data.num_rows
            if handle.buffered >= ROW_GROUP_ROWS:
                handle.flush()

    def close_period(self) -> list[Path]:
        """Flush and rename every file of the current period into place."""
        done: list[Path] = []
        for handle in self._open.values():
            handle.flush()
            handle.writer.close()
            with open(handle.temp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(handle.temp, handle.final)
            done.append(handle.final)
        for folder in {p.parent for p in done}:
            fsync_dir(folder)
        self._open.clear()
        self._period = None
        self._first_day = None
        self.committed_files.extend(done)
        return done

    @property
    def current_period(self) -> str | None:
        return self._period

    @property
    def tables_in_progress(self) -> tuple[str, ...]:
        return tuple(self._open)

    def abort(self) -> None:
        """Drop the current period's temporary files; committed files stay."""
        for handle in self._open.values():
            try:
                handle.writer.close()
            finally:
                handle.temp.unlink(missing_ok=True)
        self._open.clear()
        self._period = None
        self._first_day = None


def write_in_flight(layout: DataLayout, table: str, rows: pa.Table, fmt: str) -> Path:
    """Replace ``table``'s in-flight file (see :meth:`DataLayout.in_flight_file`) atomically;
    other formats' in-flight files of the table are removed."""
    final = layout.in_flight_file(table, fmt)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(final) as tmp:
        writer = new_file_writer(table, tmp, fmt)
        try:
            writer.write_table(rows)
        finally:
            writer.close()
    remove_in_flight(layout, table, keep=fmt)
    return final


def remove_in_flight(layout: DataLayout, table: str, keep: str | None = None) -> None:
    """Remove ``table``'s in-flight files (except the ``keep`` format's)."""
    for fmt in ("parquet", "csv"):
        if fmt != keep:
            layout.in_flight_file(table, fmt).unlink(missing_ok=True)


def uncommitted_files(layout: DataLayout, last_day: date | None) -> list[Path]:
    """Leftovers of an interrupted run: temporary files, and fact files (or parts) whose first
    day is after ``last_day`` (``None``: no committed facts)."""
    found: list[Path] = []
    for decl in FACTS:
        folder = layout.table_dir(decl.name)
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or not layout.owns(path):
                continue
            if TEMP_MARKER in path.name:
                found.append(path)
                continue
            name = layout.fact_file(decl.name, path)
            if name is not None and (last_day is None or name.first_day > last_day):
                found.append(path)
    return found


def discard_uncommitted(layout: DataLayout, last_day: date | None) -> None:
    """Remove leftovers of an interrupted run (see :func:`uncommitted_files`); committed files
    are never touched."""
    for path in uncommitted_files(layout, last_day):
        path.unlink(missing_ok=True)
    for decl in FACTS:
        for sub in layout.day_dirs(decl.name):
            if not any(sub.iterdir()):
                sub.rmdir()
