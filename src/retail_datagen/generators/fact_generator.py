"""FactDataGenerator: historical facts for a range of days — a short recipe over the engine.

Plan the range from the continuation state, load the dimensions and the carried state, run the
units on the local engine, write period files, and commit (files, carried state, then the state
file) at every period boundary so an interrupted run loses nothing that was committed.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.carry import load_carry, save_carry
from retail_datagen.engine.local import Cancelled, LocalEngine
from retail_datagen.engine.partitions import GENERATED_TABLES, UnitResult, canonical_units
from retail_datagen.engine.progress import ProgressCallback, ProgressTracker
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.storage.duckdb_store import load_dimensions, refresh_fact_views
from retail_datagen.storage.fact_writer import FactWriter, discard_uncommitted
from retail_datagen.storage.layout import DataLayout

__all__ = ["FactDataGenerator", "GenerationResult", "plan_days"]

END_OF_DAY = timedelta(days=1, microseconds=-1)


@dataclass(frozen=True)
class GenerationResult:
    rows: dict[str, int]
    start: datetime | None
    end: datetime | None
    seconds: float
    cancelled: bool = False
    message: str = ""
    files: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _as_day(value: date | datetime | str, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} = {value!r}: not a date (use YYYY-MM-DD)") from None


def plan_days(
    config: RetailConfig,
    last_generated: datetime | None,
    start: date | datetime | str | None,
    end: date | datetime | str | None,
    today: date,
) -> tuple[date, date]:
    """First and last day (inclusive) of the next run; history ends with yesterday.

    A later run continues the day after the last generated one: an explicit start must equal it
    (overlap would duplicate rows; a gap would break the carried state).
    """
    latest = today - timedelta(days=1)
    follow_on = last_generated.date() + timedelta(days=1) if last_generated else None
    if start is not None:
        first = _as_day(start, "start")
        if follow_on is not None and first != follow_on:
            raise DataStateError(
                f"facts already exist through {last_generated:%Y-%m-%d}; a new run must start "
                f"on {follow_on.isoformat()} (omit --start), or clear the facts first"
            )
    else:
        first = follow_on or config.historical.start_date
    last = _as_day(end, "end") if end is not None else latest
    if last > latest:
        raise UserError(
            f"end = {last.isoformat()} is not in the past; the latest complete day is "
            f"{latest.isoformat()} (streaming covers today)"
        )
    return first, last


class FactDataGenerator:
    """Generate historical facts into the data folder of ``config.paths.data``."""

    def __init__(
        self,
        config: RetailConfig,
        *,
        workers: int | None = None,
        output_format: str = "parquet",
        csv_daily: bool = False,
        progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
    ) -> None:
        if output_format not in ("parquet", "csv"):
            raise UserError(f"format = {output_format!r}: use parquet or csv")
        self.config = config
        self.workers = workers if workers and workers > 0 else (os.cpu_count() or 1)
        self.output_format = output_format
        self.csv_daily = csv_daily
        self.progress = progress
        self.cancel_event = cancel_event or threading.Event()
        self.layout = DataLayout.of(config.paths.data)

    def generate_historical_data(
        self,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> GenerationResult:
        began = time.monotonic()
        manager = GenerationStateManager(self.layout.root)
        state = manager.load()
        last_generated = state.last_generated_timestamp if state.has_fact_data else None
        if last_generated is not None and (
            state.output_format != self.output_format or state.csv_daily != self.csv_daily
        ):
            stored = "daily CSV" if state.csv_daily else state.output_format
            raise DataStateError(
                f"the existing facts are {stored}; continue in that format, or convert them with"
                " `retail-datagen export`, or clear the facts first"
            )
        first, last = plan_days(self.config, last_generated, start, end, date.today())
        if first > last:
            return GenerationResult(
                {}, None, None, 0.0, message=f"facts are up to date through {last.isoformat()}"
            )
        dims = load_dimensions(self.layout.root)
        discard_uncommitted(self.layout, last_generated.date() if last_generated else None)
        carry = load_carry(self.layout, first - timedelta(days=1)) if last_generated else {}

        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        n_stores = dims["dim_stores"].num_rows
        units = canonical_units(days, n_stores)
        writer = FactWriter(self.layout, self.output_format, self.csv_daily, last_generated)
        tracker = ProgressTracker(self.progress, len(GENERATED_TABLES))
        committed: dict[int, pa.Table] = dict(carry)
        run_start = datetime.combine(first, datetime.min.time())
        history_start = (
            state.historical_start_date.date()
            if last_generated is not None and state.historical_start_date is not None
            else first
        )
        delivered = 0

        def commit(through: date) -> None:
            writer.close_period()
            save_carry(self.layout, committed, through)
            manager.mark_historical_run(
                datetime.combine(through, datetime.min.time()) + END_OF_DAY, run_start
            )
            manager.update(output_format=self.output_format, csv_daily=self.csv_daily)

        def deliver(result: UnitResult) -> None:
            nonlocal delivered
            day = result.unit.day
            period = writer.period_of(day)
            if writer.current_period not in (None, period):
                commit(day - timedelta(days=1))
            writer.add(day, result.tables)
            if result.carry is not None:
                committed[result.unit.partition] = result.carry
            delivered += 1
            tracker.update(
                delivered / len(units) * 0.98,
                tables_complete=0,
                tables_in_progress=writer.tables_in_progress,
                message=f"{day.isoformat()}",
                rows_written=sum(writer.rows.values()),
            )

        cancelled = False
        try:
            LocalEngine(self.workers).run(
                self.config, dims, units, carry, deliver, self.cancel_event.is_set, history_start
            )
            commit(last)
        except Cancelled:
            cancelled = True
            writer.abort()
        except BaseException:
            writer.abort()
            raise
        finally:
            self._refresh_views(tracker, writer)
        final_state = manager.load()
        end_ts = final_state.last_generated_timestamp if final_state.has_fact_data else None
        return GenerationResult(
            rows={k: v for k, v in writer.rows.items() if k in GENERATED_TABLES},
            start=run_start,
            end=end_ts,
            seconds=time.monotonic() - began,
            cancelled=cancelled,
            message="cancelled; committed data is intact" if cancelled else "",
            files=[str(Path(p)) for p in writer.committed_files],
        )

    def _refresh_views(self, tracker: ProgressTracker, writer: FactWriter) -> None:
        refresh_fact_views(self.layout.root)
        tracker.update(
            1.0,
            tables_complete=len(GENERATED_TABLES),
            message="done",
            rows_written=sum(writer.rows.values()),
            force=True,
        )
