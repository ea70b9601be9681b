"""Is the data folder whole? The checks behind ``status`` and ``validate`` (one line each).

Each problem names what is wrong and the command that fixes it: leftovers of an interrupted run
(a rerun of ``generate`` removes them), a missing state file, missing or corrupt dimension
exports, a month without files, a state whose output format disagrees with the files, and a
damaged ``retail.duckdb``. Nothing here changes a file (the store is opened as any reader does).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow.parquet as pq

from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS, FACTS, TABLES
from retail_datagen.storage.atomic import TEMP_MARKER, pid_alive
from retail_datagen.storage.compact import interrupted_compactions
from retail_datagen.storage.duckdb_store import (
    reader_sql,
    store_tables,
)
from retail_datagen.storage.fact_writer import uncommitted_files
from retail_datagen.storage.layout import DataLayout, FactKind
from retail_datagen.storage.sql import ident
from retail_datagen.storage.state import GenerationState, GenerationStateManager

__all__ = [
    "ALWAYS_DAILY_TABLES",
    "Problem",
    "ProblemArea",
    "damaged_dimension_exports",
    "fact_extent",
    "inspect",
    "leftover_files",
    "orphaned_facts_message",
    "state_kind",
    "store_problem",
    "stored_kind",
    "writers_in_progress",
]

ProblemArea = Literal[
    "interrupted run", "state file", "dimension exports", "month files", "output format", "store"
]
# Tables with rows on every generated day (store operations open and close every store daily,
# and every store sells every day): a month without their files is missing, not sparse.
ALWAYS_DAILY_TABLES = ("fact_store_ops", "fact_receipts")
REPAIR = "`retail-datagen repair`"
_TEMP_PID = re.compile(re.escape(TEMP_MARKER) + r"(\d+)")


@dataclass(frozen=True)
class Problem:
    area: ProblemArea
    message: str  # one line: what is wrong, then how to fix it

    @property
    def blocking(self) -> bool:
        """Problems that make the invariant checks meaningless until repaired."""
        return self.area in ("interrupted run", "store")


def _is_in_progress(path: Path) -> bool:
    """A temporary file of a process that is still running (a generation in progress)."""
    match = _TEMP_PID.search(path.name)
    return match is not None and pid_alive(int(match.group(1)))


def writers_in_progress(layout: DataLayout) -> list[int]:
    """Process ids of running processes with temporary files in the folder (writing now)."""
    pids: set[int] = set()
    if layout.export_dir.is_dir():
        for path in layout.export_dir.rglob(f"*{TEMP_MARKER}*"):
            match = _TEMP_PID.search(path.name)
            if match is not None and pid_alive(int(match.group(1))):
                pids.add(int(match.group(1)))
    return sorted(pids)


def _all_fact_files(layout: DataLayout) -> dict[str, dict[FactKind, tuple[Path, ...]]]:
    return {t.name: layout.fact_files(t.name) for t in FACTS}


def stored_kind(found: dict[str, dict[FactKind, tuple[Path, ...]]]) -> FactKind | None:
    """The storage form the fact files are in (Parquet first when several forms exist)."""
    kinds: tuple[FactKind, ...] = ("parquet", "csv", "csv_daily")
    for kind in kinds:
        if any(files[kind] for files in found.values()):
            return kind
    return None


def _by_month(layout: DataLayout, table: str, files: tuple[Path, ...]) -> dict[str, list[Path]]:
    grouped: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        name = layout.fact_file(table, path)
        if name is not None:
            grouped[name.month].append(path)
    return grouped


def fact_extent(layout: DataLayout) -> tuple[date, date] | None:
    """First and last day with fact rows in the files (cheap: reads the first and last month's
    files only, Parquet from their statistics); None when there are no fact files."""
    found = _all_fact_files(layout)
    kind = stored_kind(found)
    if kind is None:
        return None
    low: datetime | None = None
    high: datetime | None = None
    con = duckdb.connect()
    try:
        for table, kinds in found.items():
            files = kinds[kind]
            if not files:
                continue
            by_month = _by_month(layout, table, files)
            first, last = by_month[min(by_month)], by_month[max(by_month)]
            spec = TABLES[table]
            column = ident(spec.time_column or "EventTS")
            for chosen, pick in ((first, "min"), (last, "max")):
                row = con.execute(
                    f"SELECT {pick}({column}) FROM ({reader_sql(spec, kind, list(chosen))})"
                ).fetchone()
                value = row[0] if row else None
                if value is None:
                    continue
                if pick == "min":
                    low = value if low is None else min(low, value)
                else:
                    high = value if high is None else max(high, value)
    finally:
        con.close()
    if low is None or high is None:
        return None
    return low.date(), high.date()


def _rel(layout: DataLayout, path: Path) -> str:
    try:
        return str(path.relative_to(layout.root))
    except ValueError:
        return str(path)


def _has_facts(state: GenerationState) -> bool:
    return state.has_fact_data and state.last_generated_timestamp is not None


def orphaned_facts_message(layout: DataLayout, state: GenerationState) -> str | None:
    """One line when fact files exist that the state file does not record (it was deleted or
    reset); None otherwise. Such files are never removed implicitly."""
    if _has_facts(state):
        return None
    found = _all_fact_files(layout)
    if stored_kind(found) is None:
        return None
    extent = fact_extent(layout)
    through = f"through {extent[1].isoformat()}" if extent else "(without rows)"
    missing = (
        "no generation_state.json"
        if not layout.state_path.exists()
        else "generation_state.json records no facts"
    )
    return (
        f"found fact files {through} in {layout.export_dir} but {missing}; run {REPAIR} to "
        "rebuild the state from the files and keep them (or `retail-datagen clear --yes` to "
        "start over)"
    )


def leftover_files(layout: DataLayout, state: GenerationState) -> list[Path]:
    """Leftovers of an interrupted run that no running process is still writing: temporary
    files, fact parts after the committed day, journals of unfinished compactions."""
    last = state.last_generated_timestamp if _has_facts(state) else None
    candidates = set(interrupted_compactions(layout))
    if last is not None:
        candidates.update(uncommitted_files(layout, last.date()))
    for folder in (layout.root, layout.engine_state_dir):
        if folder.is_dir():
            candidates.update(p for p in folder.iterdir() if TEMP_MARKER in p.name)
    if layout.export_dir.is_dir():
        candidates.update(p for p in layout.export_dir.rglob(f"*{TEMP_MARKER}*"))
    return sorted(p for p in candidates if not _is_in_progress(p))


def _interrupted(layout: DataLayout, state: GenerationState) -> list[Problem]:
    leftovers = leftover_files(layout, state)
    if not leftovers:
        return []
    count = len(leftovers)
    return [
        Problem(
            "interrupted run",
            f"an interrupted run left {count} unfinished file{'s' if count > 1 else ''} (e.g. "
            f"{_rel(layout, leftovers[0])}): rerun `retail-datagen generate` to repair (or "
            f"{REPAIR} to repair without generating more days)",
        )
    ]


def _probe_store(layout: DataLayout) -> tuple[str | None, bool]:
    """(why the store cannot be opened, or None; whether it holds the dimensions).

    Attaches the file read-only (``duckdb_store.store_tables``): the readers prefer the
    dimension exports, so only a real open finds a truncated store.
    """
    try:
        present = store_tables(layout.root)
        return None, any(t.name in present for t in DIMENSIONS)
    except (DataStateError, duckdb.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        busy = ("lock", "in use by another process", "different configuration")
        if any(word in first.lower() for word in busy):
            return None, True  # in use by a writer: not damaged
        return first, False


def store_problem(layout: DataLayout) -> Problem | None:
    """A missing or unreadable ``retail.duckdb`` (a store in use by a writer is fine)."""
    path = layout.duckdb_path
    if not path.exists():
        if any(layout.dim_file(t.name).exists() for t in DIMENSIONS):
            return Problem(
                "store", f"{path.name} is missing: run {REPAIR} to rebuild it from the exports"
            )
        return None
    damage, _ = _probe_store(layout)
    if damage is None:
        return None
    return Problem(
        "store",
        f"{path.name} is damaged ({damage[:120]}): run {REPAIR} to rebuild it from "
        "export/dim_*/dim_*.parquet",
    )


def _store_has_dimensions(layout: DataLayout) -> bool:
    return layout.duckdb_path.exists() and _probe_store(layout)[1]


def damaged_dimension_exports(layout: DataLayout) -> list[str]:
    """Dimensions whose Parquet export is missing or unreadable (when any dimension exists)."""
    if not _store_has_dimensions(layout) and not any(
        layout.dim_file(t.name).exists() for t in DIMENSIONS
    ):
        return []
    bad: list[str] = []
    for table in DIMENSIONS:
        path = layout.dim_file(table.name)
        try:
            pq.read_metadata(path)
        except (OSError, ValueError):  # missing, truncated or not Parquet at all
            bad.append(table.name)
    return bad


def _dimension_exports(layout: DataLayout) -> list[Problem]:
    bad = damaged_dimension_exports(layout)
    if not bad:
        return []
    names = ", ".join(bad)
    return [
        Problem(
            "dimension exports",
            f"dimension exports missing or corrupt in {_rel(layout, layout.export_dir)}: "
            f"{names}; run {REPAIR} to write them again from retail.duckdb",
        )
    ]


def _describe(kind: str) -> str:
    return {"parquet": "Parquet", "csv": "monthly CSV", "csv_daily": "daily CSV"}[kind]


def state_kind(state: GenerationState) -> FactKind:
    if state.output_format == "csv":
        return "csv_daily" if state.csv_daily else "csv"
    return "parquet"


def _output_format(
    state: GenerationState, found: dict[str, dict[FactKind, tuple[Path, ...]]]
) -> list[Problem]:
    expected = state_kind(state)
    actual = stored_kind(found)
    if actual is None or any(files[expected] for files in found.values()):
        return []
    return [
        Problem(
            "output format",
            f"generation_state.json says the facts are {_describe(expected)} but the files are "
            f"{_describe(actual)}: run {REPAIR} to set the state from the files",
        )
    ]


def _months(first: date, last: date) -> list[str]:
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _month_files(
    layout: DataLayout, state: GenerationState, found: dict[str, dict[FactKind, tuple[Path, ...]]]
) -> list[Problem]:
    start, end = state.historical_start_date, state.last_generated_timestamp
    if start is None or end is None:
        return []
    kind = stored_kind(found) or state_kind(state)  # a wrong format is reported on its own
    expected = _months(start.date(), end.date())
    present = {table: set(_by_month(layout, table, files[kind])) for table, files in found.items()}
    union = set().union(*present.values())
    gaps: dict[str, list[str]] = {}
    daily = [t for t in ALWAYS_DAILY_TABLES if present.get(t)]  # has rows in some month
    for month in expected:
        tables = [t for t in daily if month not in present[t]]
        if month not in union:
            tables = ["every fact table"]
        if tables:
            gaps[month] = tables
    if not gaps:
        return []
    listed = "; ".join(f"{m} ({', '.join(t)})" for m, t in gaps.items())
    return [
        Problem(
            "month files",
            f"fact files missing for {listed} although the facts run {start:%Y-%m-%d} → "
            f"{end:%Y-%m-%d}: restore them from a backup, or run `retail-datagen clear --yes` "
            "and generate again",
        )
    ]


def inspect(layout: DataLayout) -> list[Problem]:
    """Every problem of the data folder, most fundamental first; [] when it is whole."""
    try:
        state = GenerationStateManager(layout.root).load()
    except DataStateError as exc:
        return [Problem("state file", str(exc))]
    problems: list[Problem] = []
    store = store_problem(layout)
    if store is not None:
        problems.append(store)
    orphaned = orphaned_facts_message(layout, state)
    if orphaned is not None:
        problems.append(Problem("state file", orphaned))
    problems += _interrupted(layout, state)
    problems += _dimension_exports(layout)
    if _has_facts(state):
        found = _all_fact_files(layout)
        problems += _output_format(state, found)
        problems += _month_files(layout, state, found)
    return problems
