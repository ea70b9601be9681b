"""``retail-datagen repair``: bring a damaged data folder back without losing committed data.

It rebuilds what can be derived from what is still there, in this order: the store from the
dimension exports (a damaged ``retail.duckdb`` is kept aside), the state file from the fact
files and the carried engine state, the state's output format from the files, then removes the
leftovers of an interrupted run and writes missing dimension exports again from the store.
Fact files are never deleted unless they are after the last day the state can be rebuilt for.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow.parquet as pq

from retail_datagen.engine.carry import carried_days
from retail_datagen.engine.history import end_of, remove_leftovers
from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS, FACTS, TABLES, normalise
from retail_datagen.storage.duckdb_store import (
    reader_sql,
    refresh_fact_views,
)
from retail_datagen.storage.integrity import (
    damaged_dimension_exports,
    fact_extent,
    leftover_files,
    state_kind,
    store_problem,
    stored_kind,
    writers_in_progress,
)
from retail_datagen.storage.layout import DataLayout, FactKind
from retail_datagen.storage.sql import ident
from retail_datagen.storage.state import GenerationState, GenerationStateManager
from retail_datagen.storage.store_writer import (
    open_writer,
    repair_dimension_exports,
    replace_dimensions,
)

__all__ = ["repair"]


def _set_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    return aside


def _rebuild_store(layout: DataLayout, actions: list[str]) -> None:
    if store_problem(layout) is None:
        return
    bad = damaged_dimension_exports(layout)
    if bad:
        raise DataStateError(
            f"{layout.duckdb_path.name} is damaged and the exports of {', '.join(bad)} are "
            "missing too, so the dimensions cannot be rebuilt; restore the folder from a backup "
            "or run `retail-datagen clear --yes` and generate again"
        )
    if layout.duckdb_path.exists():
        aside = _set_aside(layout.duckdb_path)
        actions.append(f"kept the damaged store as {aside.name}")
    wal = layout.wal_of(layout.duckdb_path)
    if wal.exists():
        _set_aside(wal)
    tables = {t.name: normalise(t, pq.read_table(layout.dim_file(t.name))) for t in DIMENSIONS}
    with open_writer(layout.root, create=True) as con:
        replace_dimensions(con, tables)
    actions.append(f"rebuilt {layout.duckdb_path.name} from the dimension exports")


def _files_after(layout: DataLayout, kind: FactKind, day: date) -> bool:
    """True when a file that starts on or before ``day`` holds rows after it (then the state
    cannot end on ``day``: a part is only ever committed whole)."""
    con = duckdb.connect()
    try:
        for table in FACTS:
            files = [
                f
                for f in layout.fact_files(table.name)[kind]
                if (name := layout.fact_file(table.name, f)) is not None
                and name.first_day <= day
                and name.month == f"{day.year:04d}-{day.month:02d}"
            ]
            if not files:
                continue
            column = ident(table.time_column or "EventTS")
            row = con.execute(
                f"SELECT max({column}) FROM ({reader_sql(TABLES[table.name], kind, files)})"
            ).fetchone()
            if row and row[0] is not None and row[0] > end_of(day):
                return True
    finally:
        con.close()
    return False


def _rebuild_state(layout: DataLayout, state: GenerationState, actions: list[str]) -> None:
    """A state for facts the state file does not record, from the files and the carried state."""
    if state.has_fact_data and state.last_generated_timestamp is not None:
        return
    found = {t.name: layout.fact_files(t.name) for t in FACTS}
    kind = stored_kind(found)
    extent = fact_extent(layout)
    if kind is None or extent is None:
        return
    first, last = extent
    usable = [d for d in carried_days(layout) if first <= d <= last]
    usable = [d for d in usable if d == last or not _files_after(layout, kind, d)]
    if not usable:
        raise DataStateError(
            f"the fact files run {first} → {last} but {layout.engine_state_dir} holds no carried "
            "state for a day in that range, so they cannot be continued; move "
            f"{layout.export_dir} away to keep them, or run `retail-datagen clear --yes` and "
            "generate again"
        )
    through = max(usable)
    GenerationStateManager(layout.root).update(
        last_generated_timestamp=end_of(through),
        historical_start_date=datetime.combine(first, datetime.min.time()),
        has_fact_data=True,
        output_format=_format_of(layout, kind),
        csv_daily=kind == "csv_daily",
    )
    actions.append(f"rebuilt generation_state.json: facts {first} → {through} ({kind})")


def _format_of(layout: DataLayout, kind: str) -> Literal["parquet", "csv", "delta"]:
    """The output format of files of ``kind``: Parquet files under a Delta log are delta."""
    if kind != "parquet":
        return "csv"
    logs = [layout.table_dir(t.name) / "_delta_log" for t in FACTS]
    return "delta" if any(log.is_dir() for log in logs) else "parquet"


def _fix_format(layout: DataLayout, state: GenerationState, actions: list[str]) -> None:
    found = {t.name: layout.fact_files(t.name) for t in FACTS}
    actual = stored_kind(found)
    expected = state_kind(state)
    if actual is None or any(files[expected] for files in found.values()):
        return
    GenerationStateManager(layout.root).update(
        output_format="parquet" if actual == "parquet" else "csv", csv_daily=actual == "csv_daily"
    )
    actions.append(f"set the state's output format to {actual} (as the files are)")


def repair(data_dir: str | Path) -> list[str]:
    """Repair the data folder; return one line per thing done ([] when it was whole)."""
    layout = DataLayout.of(data_dir)
    actions: list[str] = []
    manager = GenerationStateManager(layout.root)
    try:
        state = manager.load()
    except DataStateError:
        aside = _set_aside(layout.state_path)
        actions.append(f"kept the damaged state file as {aside.name}")
        state = GenerationState()
    running = writers_in_progress(layout)
    if running:
        raise DataStateError(
            f"a run (process {running[0]}) is writing {layout.root}; repair after it finishes"
        )
    _rebuild_store(layout, actions)
    _rebuild_state(layout, state, actions)
    state = manager.load()
    _fix_format(layout, state, actions)
    state = manager.load()
    last = state.last_generated_timestamp
    last_day = last.date() if state.has_fact_data and last is not None else None
    if leftover_files(layout, state):
        remove_leftovers(layout, last_day)
        actions.append("removed the leftovers of an interrupted run")
    if damaged_dimension_exports(layout):
        with open_writer(layout.root) as con:
            rewritten = repair_dimension_exports(con, layout)
        actions.append(f"wrote the dimension exports again: {', '.join(rewritten)}")
    if actions and layout.duckdb_path.exists():
        refresh_fact_views(layout.root)
    return actions
