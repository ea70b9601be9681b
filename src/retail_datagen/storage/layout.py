"""Where everything lives inside a data folder (SPEC §2.4) — the only code that builds or reads
file names: other modules ask :class:`DataLayout` for paths, and for what a path's name says."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, cast

__all__ = ["CHECKPOINT_FILE", "DISRUPTIONS_FILE", "DataLayout", "FactFileName", "FactKind"]

FactKind = Literal["parquet", "csv", "csv_daily"]

CHECKPOINT_FILE = "stream_checkpoint.json"  # where a stream stopped
DISRUPTIONS_FILE = "disruptions.json"

_MONTHLY_NAME = re.compile(r"(\d{4})-(\d{2})(?:_(\d{2}))?\.(parquet|csv)")
_DAY_DIR = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")
_FACT_KINDS: tuple[FactKind, ...] = ("parquet", "csv", "csv_daily")
_JOURNAL_SUFFIX = ".compact.json"


@dataclass(frozen=True)
class FactFileName:
    """What a fact file's name says: its storage kind and the first day it may hold.

    ``month`` is ``YYYY-MM``; ``first_day`` is the first day of the run that wrote the file (the
    month's first day for a month file, whose rows may start later).
    """

    kind: FactKind
    month: str
    first_day: date

    @property
    def year_month(self) -> tuple[int, int]:
        return self.first_day.year, self.first_day.month


def _parse_fact_file(table: str, path: Path) -> FactFileName | None:
    """The parsed name of one of ``table``'s fact files, or None for any other file.

    Monthly files are ``<table>_YYYY-MM.<ext>`` (a part that starts on the 1st, or a compacted
    month) and ``<table>_YYYY-MM_DD.<ext>`` (a part appended by a run that started on day DD);
    plain name order is chronological order. Daily CSV is ``dt=YYYY-MM-DD/<table>.csv``.
    """
    day = _partition_day(path.parent)
    if day is not None and path.name == f"{table}.csv":
        return FactFileName("csv_daily", day.isoformat()[:7], day)
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


def _partition_day(folder: Path) -> date | None:
    """The day of a Hive-style ``dt=YYYY-MM-DD`` folder, or None for any other folder."""
    match = _DAY_DIR.fullmatch(folder.name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


@dataclass(frozen=True)
class DataLayout:
    """Paths of one data folder::

    <root>/retail.duckdb (+ .wal)
    <root>/streaming.duckdb (+ .wal)        dead letters of streaming
    <root>/config.json                       the web server's saved configuration
    <root>/stream_checkpoint.json
    <root>/disruptions.json
    <root>/generation_state.json
    <root>/engine_state/<kind>_YYYY-MM-DD.parquet   carried simulation state after a day
    <root>/export/dim_<name>/dim_<name>.parquet
    <root>/export/fact_<name>/fact_<name>_YYYY-MM.parquet   (or .csv) a month from its 1st day
    <root>/export/fact_<name>/fact_<name>_YYYY-MM_DD.parquet   a part appended from day DD
    <root>/export/fact_<name>/dt=YYYY-MM-DD/fact_<name>.csv (Hive-style daily CSV)
    <root>/export/fact_<name>/fact_<name>_in_flight.parquet   rows not final at the range end
    <root>/export/fact_<name>/.<file>.compact.json   journal of a compaction into <file>
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

    @staticmethod
    def wal_of(database: Path) -> Path:
        """The write-ahead log DuckDB keeps beside a database file."""
        return database.with_name(database.name + ".wal")

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def checkpoint_path(self) -> Path:
        return self.root / CHECKPOINT_FILE

    @property
    def disruptions_path(self) -> Path:
        return self.root / DISRUPTIONS_FILE

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

    @staticmethod
    def fact_file(table: str, path: Path) -> FactFileName | None:
        """What the name of ``path`` says when it is one of ``table``'s fact files, else None
        (a name alone: the file may live in object storage)."""
        return _parse_fact_file(table, path)

    def fact_files(self, table: str) -> dict[FactKind, tuple[Path, ...]]:
        """Every fact file of ``table`` by storage form, in chronological (= name) order."""
        found: dict[FactKind, list[Path]] = {kind: [] for kind in _FACT_KINDS}
        folder = self.table_dir(table)
        if folder.is_dir():
            for entry in folder.iterdir():
                path = entry / f"{table}.csv" if entry.is_dir() else entry
                name = _parse_fact_file(table, path)
                if name is not None and path.is_file():
                    found[name.kind].append(path)
        return {kind: tuple(sorted(paths)) for kind, paths in found.items()}

    def day_dirs(self, table: str) -> list[Path]:
        """The Hive-style daily folders (``dt=YYYY-MM-DD``) of ``table``, in day order."""
        folder = self.table_dir(table)
        if not folder.is_dir():
            return []
        return sorted(d for d in folder.iterdir() if d.is_dir() and _partition_day(d) is not None)

    @staticmethod
    def partition_day(folder: Path) -> date | None:
        """The day a ``dt=YYYY-MM-DD`` folder holds (as DuckDB's PARTITION_BY writes them)."""
        return _partition_day(folder)

    def compaction_journal(self, target: Path) -> Path:
        """The journal of a compaction into ``target`` (hidden, beside it)."""
        return target.with_name(f".{target.name}{_JOURNAL_SUFFIX}")

    def compaction_journals(self, table: str) -> list[Path]:
        """Journals of ``table``'s compactions that did not finish, in name order."""
        folder = self.table_dir(table)
        return sorted(folder.glob(f".*{_JOURNAL_SUFFIX}")) if folder.is_dir() else []

    def carry_file(self, kind: str, through: date) -> Path:
        """One kind of the simulation state carried after ``through`` (see engine/carry.py)."""
        return self.engine_state_dir / f"{kind}_{through.isoformat()}.parquet"

    def carry_files(self, kind: str) -> list[tuple[date, Path]]:
        """Every carried file of one kind with its day, oldest first."""
        folder = self.engine_state_dir
        found: list[tuple[date, Path]] = []
        if folder.is_dir():
            for path in folder.glob(f"{kind}_*.parquet"):
                try:
                    day = date.fromisoformat(path.stem.removeprefix(f"{kind}_"))
                except ValueError:
                    continue
                found.append((day, path))
        return sorted(found)

    def owns(self, path: Path) -> bool:
        """True when ``path`` is inside this data folder (deletes never leave it)."""
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True
