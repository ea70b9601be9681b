"""The simulation driver: where a stream starts, and each simulated day's events after it.

Streaming runs the same simulation a historical run uses (``Simulation.run_day``), one day at a
time from the stored history's end (or, detached, from the present), and puts the day's fact
rows into canonical event order (``events.DayEvents``). Planning is pure given the history,
the carried state and the stored disruptions, so a day planned again (after a restart) has the
same events in the same order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.dates import parse_time
from retail_datagen.engine.carry import in_flight_orders
from retail_datagen.engine.history import History
from retail_datagen.engine.simulation import Simulation
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.storage.layout import DataLayout
from retail_datagen.streaming.disruption_watch import DisruptionWatch
from retail_datagen.streaming.events import PRICE_CHANGES, DayEvents
from retail_datagen.streaming.options import StreamOptions

__all__ = ["PlannedDay", "SimulationDriver", "StartPoint", "order_window"]

BACKLOG_NOTICE = timedelta(days=2)  # a history older than this is announced at the start
_ORDERS = "fact_online_orders"


@dataclass(frozen=True)
class PlannedDay:
    """A planned day: its events and the carried state after it."""

    events: DayEvents
    carry: dict[int, Any]


@dataclass(frozen=True)
class StartPoint:
    """Where a stream starts: the first day to simulate and what the history says."""

    day: date
    watermark: datetime  # the last persisted moment of the history
    fingerprint: str  # which generated history the stream position belongs to
    anchor: datetime | None  # the simulated time at the start (real time), if fixed
    notices: tuple[str, ...] = field(default=())


class SimulationDriver:
    """Runs the simulation forward from the history of ``config``'s data folder."""

    def __init__(self, config: RetailConfig, watch: DisruptionWatch | None = None) -> None:
        self.config = config
        self.root = DataLayout.of(config.paths.data).root
        self.watch = watch or DisruptionWatch(self.root)
        self.history: History | None = None
        self.carry: dict[int, Any] = {}  # carried out of the history: the first day's input
        self._simulation: Simulation | None = None

    @property
    def watermark(self) -> datetime | None:
        return self.history.last_generated if self.history is not None else None

    def open(
        self, options: StreamOptions, now: Callable[[], datetime] = datetime.now
    ) -> StartPoint:
        """Open the history, check ``options.from_watermark``, load dims, state and carry."""
        history = History.open(str(self.root))
        last = history.last_generated
        if last is None:
            raise DataStateError(
                f"no historical data in {self.root}; run `retail-datagen generate` first"
            )
        anchor = options.anchor
        if options.from_now:
            anchor = anchor or now().replace(microsecond=0)
            first_day, notices = _start_at_now(last, anchor)
        else:
            _check_watermark(options.from_watermark, last)
            first_day, notices = last.date() + timedelta(days=1), _backlog_notice(last, now())
        self.advance(history)
        self._build()
        self.carry = history.carry()
        return StartPoint(first_day, last, fingerprint(self.config, history), anchor, notices)

    def take_carry(self) -> dict[int, Any]:
        """The carry out of the history, handed over once (the driver keeps no copy)."""
        carry, self.carry = self.carry, {}
        return carry

    def advance(self, history: History) -> None:
        """The history after a streamed day was appended to it."""
        self.history = history

    def _build(self) -> None:
        history = self.history
        assert history is not None
        disruptions = self.watch.planned()
        start = history.first_day_of_dataset(history.last_day or date.today())
        self._simulation = Simulation(self.config, history.dimensions(), start, disruptions)

    def plan_day(self, day: date, carry: dict[int, Any]) -> PlannedDay:
        """Run the simulation for ``day`` and order its events (worker thread)."""
        if self.watch.changed():
            self._build()
        simulation = self._simulation
        assert simulation is not None, "open() the driver first"
        # the carry object of the previous day is persisted later: never let the next day's
        # simulation change it in place
        tables, carry_after = simulation.run_day(day, copy.deepcopy(carry))
        window = order_window(tables, carry_after)
        streamed = {PRICE_CHANGES: simulation.price_changes(day)}
        return PlannedDay(DayEvents.plan(day, tables, window, streamed), carry_after)


def _start_at_now(last: datetime, now: datetime) -> tuple[date, tuple[str, ...]]:
    """``--from now``: simulate from ``now`` on; nothing is persisted. The first day is today."""
    if last.date() >= now.date():
        raise UserError(
            f"the history already reaches {last.date()}; run `stream` without --from now "
            "to continue it"
        )
    notice = (
        f"starting at the present ({now:%Y-%m-%d %H:%M:%S}); the history ends "
        f"{last:%Y-%m-%d} and stays there: events streamed from now are not persisted"
    )
    return now.date(), (notice,)


def _backlog_notice(last: datetime, now: datetime) -> tuple[str, ...]:
    behind = now - last
    if behind <= BACKLOG_NOTICE:
        return ()
    return (
        f"the history ends {last:%Y-%m-%d %H:%M} ({behind.days:,} days ago): the "
        "stream continues it from there (that backlog first); `stream --from now` "
        "starts at the present instead",
    )


def _check_watermark(given: datetime | date | str | None, last: datetime) -> None:
    if given is None:
        return
    wanted = parse_watermark(given)
    if wanted not in (last, last + timedelta(microseconds=1)):
        raise UserError(
            f"--from {wanted.isoformat()} does not match the stored watermark "
            f"{last.isoformat()}; streaming continues exactly after it (omit --from), "
            "so there are no gaps or overlaps"
        )


def parse_watermark(value: datetime | date | str) -> datetime:
    """``--from``: a timestamp (the stored watermark), naive local time."""
    return parse_time(value, "--from", "the stored watermark, e.g. 2024-03-02T23:59:59.999999")


def fingerprint(config: RetailConfig, history: History) -> str:
    """Identifies the generated history a stream position belongs to: the seed and when the
    dataset started and was (re)generated — a cleared and regenerated folder differs."""
    state = history.state
    started = state.historical_start_date.isoformat() if state.historical_start_date else "-"
    run = state.last_historical_run.isoformat() if state.last_historical_run else "-"
    return f"seed={config.seed};start={started};historical_run={run}"


def order_window(tables: Mapping[str, pa.Table], carry_after: Mapping[int, Any]) -> pa.Table:
    """Every online order with a step on the day: those that became final on it (the day's
    rows) and those still in flight at its end (carried, planned steps included)."""
    final = tables.get(_ORDERS)
    in_flight = in_flight_orders(dict(carry_after))
    if final is not None:
        in_flight = pa.concat_tables([final.cast(in_flight.schema), in_flight])
    return in_flight.sort_by([("EventTS", "ascending"), ("TraceId", "ascending")])
