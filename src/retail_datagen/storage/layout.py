"""Where everything lives inside a data folder (SPEC §2.4) — the only place paths are built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, cast

__all__ = ["DataLayout", "FactFileName", "FactKind", "parse_fact_file"]

FactKind = Literal["parquet", "csv", "csv_daily"]

_MONTHLY_NAME = re.compile(r"(\d{4})-(\d{2})(?:_(\d{2}))?\.(parquet|csv)")
_DAY_DIR = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class FactFileName:
    """What a fact file's name says: its storage kind and the first day it may hold.

    ``month`` is ``YYYY-MM``; ``first_day`` is the first day of the run that wrote the file (the
    month's first day for a month file, whose rows may start later).
    """

    kind: FactKind
    month: str
    first_day: date


def parse_fact_file(table: str, path: Path) -> FactFileName | None:
    """The parsed name of one of ``table``'s fact files, or None for any other file.

    Monthly files are ``<table>_YYYY-MM.<ext>`` (a part that starts on the 1st, or a compacted
    month) and ``<table>_YYYY-MM_DD.<ext>`` (a part appended by a run that started on day DD);
    plain name order is chronological order. Daily CSV is ``dt=YYYY-MM-DD/<table>.csv``.
    """
    day_dir = _DAY_DIR.fullmatch(path.parent.name)
    if day_dir is not None and path.name == f"{table}.csv":
        try:
            day = date.fromisoformat(day_dir.group(1))
        except ValueError:
            return None
        return FactFileName("csv_daily", day_dir.group(1)[:7], day)
    prefix = f"{table}_"
    if not path.name.startswith(prefix):
        return None
    match = _MONTHLY_NAME.fullmatch(path.name[len(prefix) :])
    if match is None:
        return None
    year, month, first_of, kind = match.groups()
    try:
        first = date(int(year), int(month), int(first_of or 1))
    except ValueError:
        return None
    return FactFileName(cast(FactKind, kind), f"{year}-{month}", first)


@dataclass(frozen=True)
class DataLayout:
    """Paths of one data folder::

    <root>/retail.duckdb
    <root>/generation_state.json
    <root>/engine_state/                     carried simulation state between runs
    <root>/export/dim_<name>/dim_<name>.parquet
    <root>/export/fact_<name>/fact_<name>_YYYY-MM.parquet   (or .csv) a month from its 1st day
    <root>/export/fact_<name>/fact_<name>_YYYY-MM_DD.parquet   a part appended from day DD
    <root>/export/fact_<name>/dt=YYYY-MM-DD/fact_<name>.csv (Hive-style daily CSV)
    <root>/export/fact_<name>/fact_<name>_in_flight.parquet   rows not final at the range end
    """

    root: Path

    @classmethod
    def of(cls, root: str | Path) -> DataLayout:
        return cls(Path(root).expanduser().resolve())

    @property
    def duckdb_path(self) -> Path:
        return self.root / "retail.duckdb"

    @property
    def streaming_db_path(self) -> Path:
        """Streaming's own DuckDB file, so the web server can read retail.duckdb meanwhile."""
        return self.root / "streaming.duckdb"

    @property
    def state_path(self) -> Path:
        return self.root / "generation_state.json"

    @property
    def engine_state_dir(self) -> Path:
        return self.root / "engine_state"

    @property
    def export_dir(self) -> Path:
        return self.root / "export"

    def table_dir(self, table: str) -> Path:
        return self.export_dir / table

    def dim_file(self, table: str, fmt: str = "parquet") -> Path:
        return self.table_dir(table) / f"{table}.{fmt}"

    def fact_month_file(self, table: str, year: int, month: int, fmt: str = "parquet") -> Path:
        return self.table_dir(table) / f"{table}_{year:04d}-{month:02d}.{fmt}"

    def fact_part_file(self, table: str, first_day: date, fmt: str = "parquet") -> Path:
        """The file of a run's rows of one month, named by the run's first day in that month.

        A part that starts on the 1st is the month file itself; a later part appends a new file
        (``_DD``), so continuing a month never rewrites the files already there.
        """
        if first_day.day == 1:
            return self.fact_month_file(table, first_day.year, first_day.month, fmt)
        name = f"{table}_{first_day.year:04d}-{first_day.month:02d}_{first_day.day:02d}.{fmt}"
        return self.table_dir(table) / name

    def in_flight_file(self, table: str, fmt: str = "parquet") -> Path:
        """Rows of ``table`` that are not final at the end of the generated range (online
        orders in flight), rewritten whole by every commit; not a period file."""
        return self.table_dir(table) / f"{table}_in_flight.{fmt}"

    def fact_day_file(self, table: str, day: str) -> Path:
        """Hive-style daily CSV partition; ``day`` is an ISO date."""
        return self.table_dir(table) / f"dt={day}" / f"{table}.csv"

    def owns(self, path: Path) -> bool:
        """True when ``path`` is inside this data folder (deletes never leave it)."""
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True
