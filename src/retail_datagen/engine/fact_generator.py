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

from retail_datagen.config.models import RetailConfig
from retail_datagen.dates import parse_day
from retail_datagen.engine.history import History, end_of, remove_leftovers
from retail_datagen.engine.local import Cancelled, LocalEngine
from retail_datagen.engine.partitions import GENERATED_TABLES, UnitResult, canonical_units
from retail_datagen.engine.progress import ProgressCallback, ProgressTracker
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.facts.supply import region_stores
from retail_datagen.storage.duckdb_store import refresh_fact_views
from retail_datagen.storage.layout import DataLayout

__all__ = ["FactDataGenerator", "GenerationResult", "plan_days"]


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
        first = parse_day(start, "start")
        if follow_on is not None and first != follow_on:
            raise DataStateError(
                f"facts already exist through {last_generated:%Y-%m-%d}; a new run must start "
                f"on {follow_on.isoformat()} (omit --start), or clear the facts first"
            )
    else:
        first = follow_on or config.historical.start_date
    last = parse_day(end, "end") if end is not None else latest
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
        output_url: str | None = None,
    ) -> None:
        if output_format not in ("parquet", "csv", "delta"):
            raise UserError(f"format = {output_format!r}: use parquet, csv or delta")
        self.config = config
        self.workers = workers if workers and workers > 0 else (os.cpu_count() or 1)
        self.output_format = output_format
        self.csv_daily = csv_daily
        self.output_url = output_url  # facts in Azure storage (a Delta output) instead
        self.progress = progress
        self.cancel_event = cancel_event or threading.Event()
        self.layout = DataLayout.of(config.paths.data)

    def generate_historical_data(
        self,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> GenerationResult:
        began = time.monotonic()
        history = History.open(
            str(self.layout.root), self.output_format, self.csv_daily, self.output_url
        )
        first, last = plan_days(self.config, history.last_generated, start, end, date.today())
        if first > last:  # nothing to add, but what an interrupted run left is still repaired
            remove_leftovers(self.layout, history.last_day, history.output())
            return GenerationResult(
                {}, None, None, 0.0, message=f"facts are up to date through {last.isoformat()}"
            )
        dims = history.dimensions()
        appender = history.appender(first, seed=self.config.seed)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        units = canonical_units(days, region_stores(dims))
        tracker = ProgressTracker(self.progress, len(GENERATED_TABLES))
        units_per_day = len(units) // len(days)  # canonical order: day by day
        delivered = 0

        def deliver(result: UnitResult) -> None:
            nonlocal delivered
            appender.add(result.unit.day, result.tables, result.carry)
            delivered += 1
            tracker.update(
                delivered / len(units) * 0.98,
                tables_complete=0,
                tables_in_progress=appender.writer.tables_in_progress,
                message=result.unit.day.isoformat(),
                rows_written=sum(appender.rows.values()),
                days_complete=delivered // units_per_day,
                days_total=len(days),
            )

        cancelled = False
        try:
            LocalEngine(self.workers).run(
                self.config,
                dims,
                units,
                dict(appender.carry),
                deliver,
                self.cancel_event.is_set,
                history.first_day_of_dataset(first),
                history.disruptions(),
            )
            appender.commit(last)
        except Cancelled:
            cancelled = True
            appender.abort()
        except BaseException:
            appender.abort()
            raise
        finally:
            refresh_fact_views(self.layout.root)
        if not cancelled:
            tracker.update(
                1.0,
                tables_complete=len(GENERATED_TABLES),
                message="done",
                rows_written=sum(appender.rows.values()),
                days_complete=len(days),
                days_total=len(days),
                force=True,
            )
        through = appender.committed_through
        return GenerationResult(
            rows={k: v for k, v in appender.rows.items() if k in GENERATED_TABLES},
            start=datetime.combine(first, datetime.min.time()),
            end=end_of(through) if through else None,
            seconds=time.monotonic() - began,
            cancelled=cancelled,
            message="cancelled; committed data is intact" if cancelled else "",
            files=[str(p) for p in appender.writer.committed_files],
        )
