"""Fact files by period: monthly Parquet (default), monthly CSV, or Hive-style daily CSV.

Rows arrive day by day; each table's file for the current period is written under a temporary
name and renamed into place only when the period is complete, so a crash or a cancellation never
leaves a half-written file under a final name. Continuing into a period that already has a file
copies its rows (up to the last committed timestamp) and appends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from retail_datagen.schema import FACTS, get_table
from retail_datagen.storage.atomic import TEMP_MARKER
from retail_datagen.storage.layout import DataLayout

__all__ = ["FactWriter", "discard_uncommitted"]

ROW_GROUP_ROWS = 1 << 20
PARQUET_COMPRESSION = "snappy"


def _parquet_dictionary_columns(table: str) -> list[str]:
    """Dictionary-encode repeated values only; unique ids would just waste the effort."""
    decl = get_table(table)
    return [
        c.name
        for c in decl.columns
        if c.kind.value == "string" and not c.name.endswith(("Id", "ID"))
    ]


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

    def __init__(
        self,
        layout: DataLayout,
        fmt: str = "parquet",
        csv_daily: bool = False,
        keep_through: datetime | None = None,
    ) -> None:
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"unknown fact format {fmt!r}")
        self.layout = layout
        self.fmt = fmt
        self.daily = fmt == "csv" and csv_daily
        self.keep_through = keep_through
        self.rows: dict[str, int] = {t.name: 0 for t in FACTS}
        self._period: str | None = None
        self._open: dict[str, _OpenFile] = {}
        self.committed_files: list[Path] = []

    def period_of(self, day: date) -> str:
        return day.isoformat() if self.daily else f"{day.year:04d}-{day.month:02d}"

    def _final_path(self, table: str, period: str) -> Path:
        if self.daily:
            return self.layout.fact_day_file(table, period)
        year, month = (int(x) for x in period.split("-"))
        return self.layout.fact_month_file(table, year, month, self.fmt)

    def _open_file(self, table: str) -> _OpenFile:
        assert self._period is not None
        final = self._final_path(table, self._period)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(f".{final.name}{TEMP_MARKER}{os.getpid()}")
        schema = get_table(table).arrow_schema
        writer: pq.ParquetWriter | pacsv.CSVWriter
        if self.fmt == "parquet":
            writer = pq.ParquetWriter(
                temp,
                schema,
                compression=PARQUET_COMPRESSION,
                use_dictionary=_parquet_dictionary_columns(table),
                write_statistics=["EventTS"],
            )
        else:
            writer = pacsv.CSVWriter(temp, schema)
        handle = _OpenFile(table, final, temp, writer)
        if final.exists():  # continuing a period: keep its committed rows first
            for batch in self._committed_rows(final, schema):
                handle.writer.write_table(batch)
        self._open[table] = handle
        return handle

    def _committed_rows(self, path: Path, schema: pa.Schema) -> Iterator[pa.Table]:
        """The existing file's rows up to the committed timestamp, in bounded batches."""
        batches: Iterator[pa.RecordBatch]
        if self.fmt == "parquet":
            batches = pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_ROWS)
        else:
            convert = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
            batches = iter(pacsv.open_csv(path, convert_options=convert))
        bound = (
            None if self.keep_through is None else pa.scalar(self.keep_through, pa.timestamp("us"))
        )
        for batch in batches:
            data = pa.Table.from_batches([batch]).select(schema.names).cast(schema)
            if bound is not None:
                data = data.filter(pc.less_equal(data.column("EventTS"), bound))
            yield data

    def add(self, day: date, tables: Mapping[str, pa.Table]) -> None:
        period = self.period_of(day)
        if self._period is not None and period != self._period:
            raise RuntimeError("close_period() must be called before a new period starts")
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
        self._open.clear()
        self._period = None
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


def discard_uncommitted(layout: DataLayout, last_day: date | None) -> None:
    """Remove leftovers of an interrupted run: temporary files and files of later periods.

    Files of the period containing ``last_day`` are kept (their rows after the committed
    timestamp are dropped when the period is continued); ``None`` means no committed facts.
    """
    for decl in FACTS:
        folder = layout.table_dir(decl.name)
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or not layout.owns(path):
                continue
            if TEMP_MARKER in path.name:
                path.unlink()
                continue
            period = _period_of_path(decl.name, path)
            if period is None:
                continue
            if last_day is None or period > _period_key(last_day, len(period)):
                path.unlink()
        for sub in sorted(folder.glob("dt=*")):
            if sub.is_dir() and not any(sub.iterdir()):
                sub.rmdir()


def _period_key(day: date, length: int) -> str:
    return day.isoformat()[:length]


def _period_of_path(table: str, path: Path) -> str | None:
    if path.parent.name.startswith("dt="):
        return path.parent.name[3:]
    stem = path.name.split(".")[0]
    prefix = f"{table}_"
    return stem[len(prefix) :] if stem.startswith(prefix) else None
