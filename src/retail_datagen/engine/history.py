"""The generated history of a data folder, and the one way to append days to it.

Both historical runs and the streamer append whole days through :class:`HistoryAppender`, which
writes period files under temporary names and commits — files, then carried state, then the
state file — at every period boundary and at the end, so the history is always consistent and
the next run (or the streamer) continues exactly after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_datagen.engine.carry import in_flight_orders, load_carry, save_carry
from retail_datagen.engine.prices import publish_prices
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.dims.dates import build_dates
from retail_datagen.generators.facts.order_lifecycle import as_of, end_of_day_us
from retail_datagen.generators.facts.region_day import RegionCarry
from retail_datagen.storage.compact import finish_interrupted_compactions
from retail_datagen.storage.dimension_store import extend_dimensions
from retail_datagen.storage.duckdb_store import load_dimensions
from retail_datagen.storage.fact_writer import (
    FactWriter,
    discard_uncommitted,
    remove_in_flight,
    write_in_flight,
)
from retail_datagen.storage.integrity import orphaned_facts_message
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.outputs import FactOutput, check_output, open_output
from retail_datagen.storage.state import GenerationState, GenerationStateManager

__all__ = [
    "END_OF_DAY",
    "History",
    "HistoryAppender",
    "cover_dates",
    "end_of",
    "remove_leftovers",
]

END_OF_DAY = timedelta(days=1, microseconds=-1)


def end_of(day: date) -> datetime:
    """The last microsecond of ``day`` (what ``last_generated_timestamp`` records)."""
    return datetime.combine(day, datetime.min.time()) + END_OF_DAY


def remove_leftovers(
    layout: DataLayout, last_day: date | None, output: FactOutput | None = None
) -> None:
    """Repair what an interrupted run left: finish an interrupted compaction, then remove
    temporary files and parts after ``last_day`` (and, for Delta, publish committed days the
    log lacks). Fact files the state does not record are refused (:class:`DataStateError`),
    never deleted."""
    if last_day is None:
        orphaned = orphaned_facts_message(layout, GenerationStateManager(layout.root).load())
        if orphaned is not None:
            raise DataStateError(orphaned)
    finish_interrupted_compactions(layout)
    discard_uncommitted(layout, last_day)
    if output is not None:
        output.repair(last_day)


def cover_dates(layout: DataLayout, through: date) -> None:
    """Extend dim_date to December 31 of ``through``'s year when facts reach past its end.

    The extended range is what :func:`~retail_datagen.generators.dims.dates.date_range` gives
    for facts up to ``through``, so it depends on the generated range, never on the clock.
    """
    file = layout.dim_file("dim_date")
    if not file.exists():
        return  # no dimensions yet (or an export being repaired): nothing to extend
    days = pq.read_table(file, columns=["Date"]).column("Date")
    if len(days) == 0 or pc.max(days).as_py() >= through:
        return
    table = build_dates(pc.min(days).as_py(), date(through.year, 12, 31))
    extend_dimensions(layout.root, {"dim_date": table})


@dataclass
class History:
    layout: DataLayout
    manager: GenerationStateManager
    state: GenerationState
    output_format: str
    csv_daily: bool
    output_url: str | None = None

    @classmethod
    def open(
        cls,
        data_dir: str,
        output_format: str | None = None,
        csv_daily: bool | None = None,
        output_url: str | None = None,
    ) -> History:
        """The folder's history; a format or output different from the stored facts' is
        refused."""
        layout = DataLayout.of(data_dir)
        manager = GenerationStateManager(layout.root)
        state = manager.load()
        fmt, daily = state.continued_output(output_format or None, csv_daily)
        if fmt not in ("parquet", "csv", "delta"):
            raise UserError(f"format = {fmt!r}: use parquet, csv or delta")
        if state.has_history and (state.output_format != fmt or state.csv_daily != daily):
            stored = "daily CSV" if state.csv_daily else state.output_format
            raise DataStateError(
                f"the existing facts are {stored}; continue in that format, or convert them with"
                " `retail-datagen export`, or clear the facts first"
            )
        url = check_output(state, state.has_history, fmt, output_url)
        return cls(layout, manager, state, fmt, daily, url)

    def output(self) -> FactOutput | None:
        """The Delta output of the facts (None for Parquet or CSV in the data folder)."""
        return open_output(self.layout, self.output_format, self.output_url)

    @property
    def last_generated(self) -> datetime | None:
        return self.state.last_generated_timestamp if self.state.has_fact_data else None

    @property
    def last_day(self) -> date | None:
        last = self.last_generated
        return last.date() if last else None

    def first_day_of_dataset(self, run_first: date) -> date:
        """The dataset's first day: the stored start, or this run's first day."""
        if self.last_generated is not None and self.state.historical_start_date is not None:
            return self.state.historical_start_date.date()
        return run_first

    def dimensions(self) -> dict[str, pa.Table]:
        return load_dimensions(self.layout.root)

    def disruptions(self) -> list[Any]:
        """Supply-chain disruptions stored with the data folder (they shape generated days)."""
        try:
            from retail_datagen.disruptions import load_disruptions
        except ImportError:  # the disruption service is optional
            return []
        return list(load_disruptions(self.layout.root))

    def carry(self) -> dict[int, RegionCarry]:
        """The state carried out of the last generated day (empty before any facts)."""
        last = self.last_day
        return load_carry(self.layout, last) if last else {}

    def appender(
        self,
        run_first: date,
        mode: Literal["historical", "realtime"] = "historical",
        *,
        seed: int | None = None,
    ) -> HistoryAppender:
        """An appender from ``run_first``; with the configuration's ``seed``, every commit also
        brings the price history (dim_product_prices, dim_products.SalePrice) up to date."""
        return HistoryAppender(self, run_first, mode, seed)


class HistoryAppender:
    """Appends consecutive whole days to the history, committing at period boundaries."""

    def __init__(
        self,
        history: History,
        run_first: date,
        mode: Literal["historical", "realtime"],
        seed: int | None = None,
    ) -> None:
        last = history.last_day
        if last is not None and run_first != last + timedelta(days=1):
            raise DataStateError(
                f"facts exist through {last.isoformat()}; appending must continue on "
                f"{(last + timedelta(days=1)).isoformat()}"
            )
        self.history = history
        self.mode = mode
        self.seed = seed
        self.first_day = history.first_day_of_dataset(run_first)
        self.run_start = datetime.combine(run_first, datetime.min.time())
        self.output = history.output()
        remove_leftovers(history.layout, last, self.output)
        self.writer = (
            self.output.writer()
            if self.output is not None
            else FactWriter(history.layout, history.output_format, history.csv_daily)
        )
        self.carry: dict[int, RegionCarry] = history.carry()
        self.committed_through: date | None = last
        self._next = run_first
        self._publish_in_flight(last)  # an interrupted commit may have written a later one

    def add(
        self, day: date, tables: Mapping[str, pa.Table], carry: Mapping[int, RegionCarry]
    ) -> None:
        """Add (part of) a day's tables; ``carry`` holds state carried out of that day."""
        if day != self._next and day != self._next - timedelta(days=1):
            raise ValueError(f"days must be appended in order: expected {self._next}, got {day}")
        if day == self._next:
            if self.writer.current_period not in (None, self.writer.period_of(day)):
                self._commit(day - timedelta(days=1))
            self._next = day + timedelta(days=1)
        self.writer.add(day, tables)
        self.carry.update(carry)

    def commit(self, through: date) -> None:
        """Make everything up to the end of ``through`` durable and visible (a Delta output:
        the run's files in one append commit per table, after the state commit)."""
        self._commit(through)
        if self.output is not None:
            self.output.publish(through)

    def _commit(self, through: date) -> None:
        """Commit files, carried state and the state file through ``through``."""
        self.writer.close_period()
        layout = self.history.layout
        cover_dates(layout, through)
        self._publish_in_flight(through)
        save_carry(layout, self.carry, through)
        manager = self.history.manager
        if self.mode == "historical":
            manager.mark_historical_run(end_of(through), self.run_start)
        else:
            manager.update(
                last_generated_timestamp=end_of(through),
                historical_start_date=self.history.state.historical_start_date or self.run_start,
                has_fact_data=True,
                last_realtime_run=datetime.now(),
            )
        manager.update(
            output_format=self.history.output_format,
            csv_daily=self.history.csv_daily,
            output_url=self.history.output_url,
        )
        self.committed_through = through
        if self.seed is not None:
            publish_prices(self.history.layout.root, self.seed, self.first_day, through)

    def _publish_in_flight(self, through: date | None) -> None:
        """Show the orders in flight as of the end of ``through`` (none before any day)."""
        layout = self.history.layout
        if through is None:
            remove_in_flight(layout, "fact_online_orders")
            return
        rows = as_of(in_flight_orders(self.carry), end_of_day_us(through))
        fmt = "parquet" if self.history.output_format == "delta" else self.history.output_format
        write_in_flight(layout, "fact_online_orders", rows, fmt)

    def abort(self) -> None:
        """Drop whatever is not committed; committed days stay."""
        self.writer.abort()

    @property
    def rows(self) -> dict[str, int]:
        return self.writer.rows
