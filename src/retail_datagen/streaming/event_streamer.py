"""EventStreamer: the simulation continued live, as events, with the streamed days persisted.

For each simulated day D after the persisted history (the watermark): run the same simulation a
historical run uses (``Simulation.run_day``), turn the day's fact rows into events in canonical
order (``events.DayEvents``), pace them (``pacing``), hand them to the delivery pipeline, and once
every event of D is settled (delivered or dead-lettered) append D's facts to the history
(``HistoryAppender``, mode "realtime"). So the events are the facts, the history stays
continuous, and the next historical run continues after the last streamed day.

The stream position — (day, settled prefix) — is checkpointed after every settled batch; a
killed streamer regenerates the day and resumes after the prefix: no gaps, and only the last
unacknowledged batch may be sent twice (same ``trace_id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.dates import parse_time
from retail_datagen.engine.carry import in_flight_orders
from retail_datagen.engine.history import History
from retail_datagen.engine.simulation import Simulation
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.storage.layout import DataLayout
from retail_datagen.streaming.checkpoint import Checkpoint, CheckpointStore
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.events import (
    EVENT_TYPES,
    PRICE_CHANGES,
    DayEvents,
    EventSegment,
    check_event_types,
    ingest_stamp,
)
from retail_datagen.streaming.pacing import Clock, Pacer, RealTimePacer, make_pacer, sim_micros
from retail_datagen.streaming.sinks.base import Sink
from retail_datagen.streaming.stats import StreamStats

if TYPE_CHECKING:
    from retail_datagen.streaming.delivery import DeliveryPipeline

__all__ = ["EventStreamer", "order_window"]

_log = logging.getLogger(__name__)

SEGMENT_EVENTS = 20_000  # envelopes built ahead, per step (bounded memory for big days)
REALTIME_SEGMENT_EVENTS = 2_000  # smaller steps in real time: shorter GIL holds, less lateness
RELEASE_CHUNK = 1_024  # most events released by one pacing decision
BACKLOG_NOTICE = timedelta(days=2)  # a history older than this is announced at the start
STOP_SLACK = 0.25  # seconds the day loop gets to stop by itself at the deadline or a stop
WATCH_INTERVAL = 0.05  # how often the day loop is checked against the deadline
CLOSE_SHARE = 0.04  # of the duration, for delivering what is buffered after the deadline
CLOSE_SECONDS = 30.0  # delivering what is buffered after a stop without a deadline
RECENT_EVENTS = 200
_ORDERS = "fact_online_orders"


@dataclass
class _Day:
    """A planned day: its events and the carried state after it."""

    events: DayEvents
    carry: dict[int, Any]


def _parse_watermark(value: datetime | date | str) -> datetime:
    return parse_time(value, "--from", "the stored watermark, e.g. 2024-03-02T23:59:59.999999")


class EventStreamer:
    """Stream the simulation forward from the stored history as events to a sink.

    Pacing: ``speed`` → real time on a simulated clock (backlog first, at full speed); ``rate``
    → that many events per second (``math.inf`` = as fast as the sink takes them);
    ``burst``/``interval_ms`` (or nothing) → bursts as ``realtime.burst`` every
    ``realtime.emit_interval_ms``. ``event_types`` filters what is sent; every fact of a day is
    persisted regardless. ``from_watermark`` may only repeat the stored watermark.
    ``anchor`` (real time only) is the simulated time at the start instead of the wall clock's
    local now — e.g. replay from the watermark at ``speed`` 60; ``clock`` is for tests.

    ``from_now`` (``stream --from now``) starts at the present instead of after the history:
    real time (speed 1 unless given) from the wall clock's now (or ``anchor``), today's events
    before now skipped. Such a stream is *detached*: the history ends where it ended, so its
    days are not persisted and no checkpoint is written — the history, ``generate`` and a later
    ``stream`` continue after the watermark as before. ``notify`` receives one-line notices
    (the history ends far in the past; a detached start).

    ``duration`` bounds the wall time from when events start to flow (the first day is
    simulated), whatever the sink does: at the deadline the day loop stops (or is cancelled),
    what is buffered gets a few percent of the duration to settle, and the rest stays pending
    behind the checkpoint (``unsent``).
    """

    probe_timeout = 5.0  # seconds the destination has to answer before streaming starts

    def __init__(
        self,
        config: RetailConfig,
        *,
        sink: str = "stdout",
        event_types: Sequence[str] | None = None,
        speed: float | None = None,
        rate: float | None = None,
        burst: int | None = None,
        interval_ms: int | None = None,
        duration: float | None = None,
        from_watermark: datetime | None = None,
        clock: Clock | None = None,
        anchor: datetime | None = None,
        from_now: bool = False,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.sink_url = sink
        self.event_types = check_event_types(event_types)
        for name, value in (("speed", speed), ("rate", rate), ("duration", duration)):
            if value is not None and not (value > 0 and not math.isnan(value)):
                raise UserError(f"{name} = {value}: must be a positive number")
        if speed is not None and math.isinf(speed):
            raise UserError("speed = inf: use --rate inf to send as fast as possible")
        if duration is not None and math.isinf(duration):
            duration = None
        for name, ivalue in (("burst", burst), ("interval_ms", interval_ms)):
            if ivalue is not None and ivalue < 1:
                raise UserError(f"{name} = {ivalue}: must be at least 1")
        self.speed, self.rate, self.burst, self.interval_ms = speed, rate, burst, interval_ms
        self.duration = duration
        self.from_watermark = from_watermark
        self.clock = clock
        if from_now:
            if rate is not None or burst is not None or interval_ms is not None:
                raise UserError(
                    "--from now streams in real time: use --speed (default 1), not --rate, "
                    "--burst or --interval-ms"
                )
            if from_watermark is not None:
                raise UserError("--from is either now or the stored watermark, not both")
            speed = 1.0 if speed is None else speed
            self.speed = speed
        self.from_now = from_now
        self._notify = notify or (lambda text: _log.info("%s", text))
        if anchor is not None and speed is None:
            raise UserError("an anchor only applies to real-time mode (give a speed)")
        self.anchor = anchor
        make_pacer(  # validate the combination now, not when starting
            speed=speed,
            rate=rate,
            burst=burst,
            interval_ms=interval_ms,
            default_burst=config.realtime.burst,
            default_interval_ms=config.realtime.emit_interval_ms,
            clock=clock,
        )
        self.layout = DataLayout.of(config.paths.data)
        self.stats = StreamStats()
        self.checkpoints = CheckpointStore(self.layout.root)
        self._lock = threading.Lock()
        self._recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self._inflight: dict[str, tuple[date, int]] = {}
        self._dead_by_type: dict[str, int] = {}
        self._delivered_by_type: dict[str, int] = {}
        self._running = False
        self._stop_requested = False
        self._finished: asyncio.Event | None = None
        self._pacer: Pacer | None = None
        self._pipeline: DeliveryPipeline | None = None
        self._dead_letters: Any = None
        self._history: History | None = None
        self._simulation: Simulation | None = None
        self._sim_disruptions: list[Any] = []
        self._carry: dict[int, Any] = {}
        self._fingerprint: str | None = None
        self._day: date | None = None
        self._day_total = 0
        self._position = 0  # settled canonical positions of ``_day``
        self._generated = 0
        self._persisted_days = 0
        self._last_event_time: datetime | None = None
        self._watermark: datetime | None = None
        self._started_at: float | None = None
        self._began: float | None = None  # start() was called (the --duration clock)
        self._ended_at: float | None = None
        self._flowing_since: float | None = None
        self._deadline: float | None = None  # flowing since + duration
        self._notices: list[str] = []
        self.ready = asyncio.Event()  # set once the sink answered its probe (or start failed)
        self._persisting: asyncio.Future[None] | None = None
        self.unsent = 0  # events left unsettled when the stream stopped (sent again next time)
        self._error: str | None = None
        self._disruption_cache: tuple[float, list[dict[str, Any]]] = (0.0, [])

    # ------------------------------------------------------------------ public API
    @property
    def running(self) -> bool:
        return self._running

    @property
    def mode(self) -> str:
        if self.speed is not None:
            return "realtime"
        if self.rate is not None:
            return "unthrottled" if math.isinf(self.rate) else "rate"
        return "burst"

    async def start(self) -> None:
        """Stream until :meth:`stop`, ``duration`` seconds, or cancellation (then the settled
        position is checkpointed and re-raised). Errors in preparation are ``UserError``s; a
        destination that does not answer its probe raises ``SinkUnreachableError`` before
        anything is generated or checkpointed."""
        from retail_datagen.streaming.sinks import open_sink

        if self._finished is not None and not self._finished.is_set():
            raise UserError("the streamer is already running")
        self._stop_requested = False
        self._finished = asyncio.Event()
        self._error = None
        self._began = time.monotonic()
        self._ended_at = None
        self._flowing_since = self._deadline = None
        self._notices = []
        self.ready.clear()
        try:
            sink = open_sink(self.sink_url, self.config, data_dir=self.layout.root)
            self.stats.set_sink(getattr(sink, "name", self.sink_url))
            first_day, skip = await self._prepare_and_probe(sink)
            self.ready.set()
            for notice in self._notices:  # only once the stream is really starting
                self._notify(notice)
            await self._stream(sink, first_day, skip)
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._running = False
            self._ended_at = time.monotonic()
            self.ready.set()
            self._finished.set()

    start_streaming = start

    async def _prepare_and_probe(self, sink: Sink) -> tuple[date, int]:
        """Probe the sink first (an unreachable one fails within seconds, before the history
        is even loaded), then load the history."""
        from retail_datagen.streaming.sinks import probe_sink

        await probe_sink(sink, self.probe_timeout)
        return await asyncio.to_thread(self._prepare)

    async def stop(self, timeout: float | None = 60.0) -> None:
        """Graceful stop: stop releasing, flush what is buffered, checkpoint; complete days are
        already persisted. Returns when the stream has stopped (or after ``timeout``)."""
        self._stop_requested = True
        finished = self._finished
        if finished is None or finished.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), timeout)

    def statistics(self) -> dict[str, Any]:
        """JSON-ready statistics for the CLI, the API and the UI."""
        snap = self.stats.snapshot()
        pacer = self._pacer
        sim_now = pacer.sim_now() if pacer is not None else None
        current = sim_now or self._last_event_time
        with self._lock:
            dead = dict(sorted(self._dead_by_type.items()))
            delivered = dict(sorted(self._delivered_by_type.items()))
            position = self._position
        lag = (datetime.now() - current).total_seconds() if current else None
        pipeline = self._pipeline
        circuit = getattr(pipeline, "circuit_state", None) if pipeline else None
        return {
            **snap,
            "running": self._running,
            "mode": self.mode,
            "pacing": pacer.describe() if pacer is not None else None,
            "event_types": list(self.event_types) if self.event_types else list(EVENT_TYPES),
            "events_generated": self._generated,
            "delivered_by_type": delivered,
            "dead_lettered_by_type": dead,
            "circuit_state": str(getattr(circuit, "value", circuit) or snap["circuit_state"]),
            "lag_seconds": None if lag is None else round(lag, 3),
            "simulated_time": current.isoformat() if current else None,
            "last_event_time": self._last_event_time.isoformat() if self._last_event_time else None,
            "current_day": self._day.isoformat() if self._day else None,
            "day_position": {"settled": position, "total": self._day_total},
            "watermark": self._watermark.isoformat() if self._watermark else None,
            "days_persisted": self._persisted_days,
            "uptime_seconds": round((self._ended_at or time.monotonic()) - self._started_at, 3)
            if self._started_at is not None
            else 0.0,
            "wall_seconds": round((self._ended_at or time.monotonic()) - self._began, 3)
            if self._began is not None
            else 0.0,
            # since events started to flow: what --duration bounds
            "streamed_seconds": round((self._ended_at or time.monotonic()) - self._flowing_since, 3)
            if self._flowing_since is not None
            else 0.0,
            "unsent": self.unsent,
            "sink_failing": bool(pipeline.failing) if pipeline is not None else False,
            "active_disruptions": self._active_disruptions(current),
            "error": self._error,
        }

    def recent_events(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest events handed to the pipeline (decoded envelopes), newest last."""
        with self._lock:
            events = list(self._recent)[-max(0, limit) :] if limit > 0 else []
        return [json.loads(e.body) for e in events]

    # ------------------------------------------------------------------ preparation
    def _prepare(self) -> tuple[date, int]:
        """Open the history, check ``from_watermark``, load dims, state and recent orders."""
        history = History.open(str(self.layout.root))
        last = history.last_generated
        if last is None:
            raise DataStateError(
                f"no historical data in {self.layout.root}; run `retail-datagen generate` first"
            )
        if self.from_now:
            first_day = self._start_at_now(last)
        else:
            self._check_watermark(last)
            first_day = last.date() + timedelta(days=1)
            behind = datetime.now() - last
            if behind > BACKLOG_NOTICE:
                self._notices.append(
                    f"the history ends {last:%Y-%m-%d %H:%M} ({behind.days:,} days ago): the "
                    "stream continues it from there (that backlog first); `stream --from now` "
                    "starts at the present instead"
                )
        self._history = history
        self._watermark = last
        self._build_simulation(history)
        self._carry = history.carry()
        self._fingerprint = _fingerprint(self.config, history)
        skip = (
            0 if self.from_now else self.checkpoints.resume_position(first_day, self._fingerprint)
        )
        return first_day, skip

    def _check_watermark(self, last: datetime) -> None:
        if self.from_watermark is None:
            return
        wanted = _parse_watermark(self.from_watermark)
        if wanted not in (last, last + timedelta(microseconds=1)):
            raise UserError(
                f"--from {wanted.isoformat()} does not match the stored watermark "
                f"{last.isoformat()}; streaming continues exactly after it (omit --from), "
                "so there are no gaps or overlaps"
            )

    def _start_at_now(self, last: datetime) -> date:
        """``--from now``: simulate from the wall clock on; nothing is persisted (see the
        class docstring). The first day is today."""
        now = self.anchor or datetime.now().replace(microsecond=0)
        self.anchor = now
        if last.date() >= now.date():
            raise UserError(
                f"the history already reaches {last.date()}; run `stream` without --from now "
                "to continue it"
            )
        self._notices.append(
            f"starting at the present ({now:%Y-%m-%d %H:%M:%S}); the history ends "
            f"{last:%Y-%m-%d} and stays there: events streamed from now are not persisted"
        )
        return now.date()

    def _build_simulation(self, history: History) -> None:
        disruptions = self._load_disruption_objects(history)
        start = history.first_day_of_dataset(history.last_day or date.today())
        dims = history.dimensions()
        self._simulation = Simulation(self.config, dims, start, disruptions)
        self._sim_disruptions = disruptions

    def _load_disruption_objects(self, history: History) -> list[Any]:
        return list(history.disruptions())

    # ------------------------------------------------------------------ the day loop
    def _plan_day(self, day: date, carry: dict[int, Any]) -> _Day:
        """Run the simulation for ``day`` and order its events (worker thread)."""
        assert self._simulation is not None
        history = self._history
        if history is not None:
            disruptions = self._load_disruption_objects(history)
            if disruptions != self._sim_disruptions:
                self._build_simulation(history)
        # the carry object of the previous day is persisted later: never let the next day's
        # simulation change it in place
        tables, carry_after = self._simulation.run_day(day, copy.deepcopy(carry))
        window = order_window(tables, carry_after)
        streamed = {PRICE_CHANGES: self._simulation.price_changes(day)}
        events = DayEvents.plan(day, tables, window, streamed)
        return _Day(events, carry_after)

    async def _stream(self, sink: Sink, first_day: date, skip: int) -> None:
        from retail_datagen.streaming.delivery import DeliveryPipeline

        realtime = self.config.realtime
        dead_letters = None
        if realtime.enable_dead_letter_queue:
            from retail_datagen.streaming.dead_letters import DeadLetterStore

            dead_letters = DeadLetterStore(self.layout.root)
        self._dead_letters = dead_letters
        pipeline = DeliveryPipeline(
            sink,
            realtime,
            stats=self.stats,
            dead_letters=dead_letters,
            on_settled=self._on_settled,
        )
        self._pipeline = pipeline
        self._pacer = make_pacer(
            speed=self.speed,
            rate=self.rate,
            burst=self.burst,
            interval_ms=self.interval_ms,
            default_burst=realtime.burst,
            default_interval_ms=realtime.emit_interval_ms,
            clock=self.clock,
            anchor=self.anchor,
        )
        await pipeline.start()
        self._running = True
        self._started_at = time.monotonic()
        days = asyncio.create_task(self._days(pipeline, first_day, skip))
        failed = True
        try:
            await self._await_days(days)
            failed = False
        finally:
            if not days.done():  # this task was cancelled: so is the day loop
                days.cancel()
                await asyncio.gather(days, return_exceptions=True)
            await self._finish(pipeline, failed)

    async def _days(self, pipeline: DeliveryPipeline, day: date, skip: int) -> None:
        """Plan, play and persist day after day until stopped. ``duration`` counts from when
        the first day is ready (events start to flow), so preparation never eats into it."""
        carry = self._carry
        self._carry = {}
        planned = asyncio.ensure_future(asyncio.to_thread(self._plan_day, day, carry))
        plan = await planned
        if self.from_now and isinstance(self._pacer, RealTimePacer):
            skip = max(skip, int(np.searchsorted(plan.events.time_us, self._pacer.sim_now_us())))
        self._flowing_since = time.monotonic()
        deadline = None if self.duration is None else self._flowing_since + self.duration
        self._deadline = deadline
        while True:
            if not await self._play_day(plan, skip, pipeline, deadline):
                return
            skip = 0
            # the next day runs while this one settles (and, in real time, ends)
            planned = asyncio.ensure_future(
                asyncio.to_thread(self._plan_day, day + timedelta(days=1), plan.carry)
            )
            await pipeline.flush()
            if not await self._wait_day_over(day, deadline):
                return
            if not self.from_now:
                self._persisting = asyncio.ensure_future(asyncio.to_thread(self._persist_day, plan))
                await asyncio.shield(self._persisting)
            day += timedelta(days=1)
            plan = await planned

    async def _await_days(self, days: asyncio.Task[None]) -> None:
        """Wait for the day loop. Once stopped (``stop()`` or the deadline) it gets a moment to
        end at a clean point, then it is cancelled — so a sink that stalls (the loop waits in
        the full buffer) holds neither ``duration`` nor a stop."""
        while not days.done():
            deadline = self._deadline
            if self._stop_requested or (deadline is not None and time.monotonic() >= deadline):
                done, _ = await asyncio.wait({days}, timeout=STOP_SLACK)
                if not done:
                    days.cancel()
                    await asyncio.gather(days, return_exceptions=True)
                    return
                break
            await asyncio.wait({days}, timeout=WATCH_INTERVAL)
        await days

    async def _finish(self, pipeline: DeliveryPipeline, failed: bool) -> None:
        """Settle what can be settled (bounded by the duration), then checkpoint."""
        try:
            if self._persisting is not None:  # a day being committed is committed
                await asyncio.gather(self._persisting, return_exceptions=True)
            timeout = CLOSE_SECONDS
            deadline = self._deadline
            if deadline is not None:
                slack = min(STOP_SLACK + CLOSE_SHARE * (self.duration or 0.0), CLOSE_SECONDS)
                timeout = max(0.1, deadline + slack - time.monotonic())
            try:
                await pipeline.close(timeout=timeout)
            except Exception:
                if not failed:
                    raise
        finally:
            self.unsent = pipeline.unsettled
            self._save_checkpoint()

    def _should_stop(self, deadline: float | None) -> bool:
        return self._stop_requested or (deadline is not None and time.monotonic() >= deadline)

    async def _play_day(
        self, plan: _Day, skip: int, pipeline: DeliveryPipeline, deadline: float | None
    ) -> bool:
        """Release the day's events from position ``skip``; False when stopped midway."""
        events = plan.events
        pacer = self._pacer
        assert pacer is not None
        with self._lock:
            self._day = events.day
            self._day_total = len(events)
            self._position = min(skip, len(events))
        self._save_checkpoint()
        keep = events.keep_mask(self.event_types)
        self._generated += len(events) - min(skip, len(events))
        size = REALTIME_SEGMENT_EVENTS if isinstance(pacer, RealTimePacer) else SEGMENT_EVENTS
        starts = list(range(min(skip, len(events)), len(events), size))
        if not starts:
            return not self._should_stop(deadline)
        next_seg = asyncio.create_task(
            asyncio.to_thread(events.segment, starts[0], min(starts[0] + size, len(events)), keep)
        )
        for k in range(len(starts)):
            segment = await next_seg
            if k + 1 < len(starts):
                a = starts[k + 1]
                next_seg = asyncio.create_task(
                    asyncio.to_thread(events.segment, a, min(a + size, len(events)), keep)
                )
            if not await self._play_segment(events.day, segment, pipeline, pacer, deadline):
                if k + 1 < len(starts):
                    next_seg.cancel()
                return False
        return True

    async def _play_segment(
        self,
        day: date,
        segment: EventSegment,
        pipeline: DeliveryPipeline,
        pacer: Pacer,
        deadline: float | None,
    ) -> bool:
        i, total = 0, len(segment)
        times = segment.times_us
        positions = segment.positions
        while i < total:
            if self._should_stop(deadline):
                return False
            n = await pacer.release(times, i, RELEASE_CHUNK)
            if n <= 0:
                continue
            batch = segment.events(i, i + n, ingest_stamp())
            with self._lock:
                for k, event in enumerate(batch):
                    self._inflight[event.trace_id] = (day, int(positions[i + k]))
                self._recent.extend(batch)
            await pipeline.put_many(batch)
            self._last_event_time = batch[-1].event_time
            i += n
        return True

    async def _wait_day_over(self, day: date, deadline: float | None) -> bool:
        """Real time: wait until the simulated clock passes the end of ``day`` (False when
        stopped first). The rate modes have no simulated clock: a settled day is over."""
        pacer = self._pacer
        if not isinstance(pacer, RealTimePacer):
            return True
        midnight = sim_micros(datetime.combine(day + timedelta(days=1), datetime.min.time()))
        while not await pacer.until(midnight):
            if self._should_stop(deadline):
                return False
        return not self._should_stop(deadline)

    def _persist_day(self, plan: _Day) -> None:
        """Append the settled day to the history (worker thread), then move the checkpoint."""
        day = plan.events.day
        history = History.open(str(self.layout.root))
        if history.last_day != day - timedelta(days=1):
            raise DataStateError(
                f"the history changed while streaming (it now ends {history.last_day}); "
                f"cannot append {day.isoformat()}"
            )
        # a fresh appender per day: its writer keeps the rows committed so far in the month
        appender = history.appender(day, mode="realtime", seed=self.config.seed)
        try:
            appender.add(day, plan.events.tables, plan.carry)
            appender.commit(day)
        except BaseException:
            appender.abort()
            raise
        self._history = History.open(str(self.layout.root))
        self._watermark = self._history.last_generated
        self._persisted_days += 1
        with self._lock:
            self._day = day + timedelta(days=1)
            self._day_total = 0
            self._position = 0
        self._save_checkpoint()
        try:
            from retail_datagen.storage.duckdb_store import refresh_fact_views

            refresh_fact_views(self.layout.root)
        except Exception as exc:  # the store may be open elsewhere; the files are committed
            _log.warning("could not refresh the DuckDB fact views: %s", exc)

    # ------------------------------------------------------------------ settlement
    def _on_settled(self, batch: Sequence[Event], outcome: str) -> None:
        """The pipeline settled ``batch`` (in order): advance and checkpoint the position."""
        if not batch:
            return
        with self._lock:
            counts = self._delivered_by_type if outcome == "delivered" else self._dead_by_type
            last: tuple[date, int] | None = None
            for event in batch:
                counts[event.event_type] = counts.get(event.event_type, 0) + 1
                found = self._inflight.pop(event.trace_id, None)
                if found is not None:
                    last = found
            if last is None or last[0] != self._day:
                return
            self._position = max(self._position, last[1] + 1)
        self._save_checkpoint()
        current = self._last_event_time
        if current is not None:
            self.stats.set_lag((datetime.now() - current).total_seconds())

    def _save_checkpoint(self) -> None:
        if self.from_now:  # not a position in the history: nothing to resume
            return
        with self._lock:
            day, settled, total = self._day, self._position, self._day_total
        if day is None:
            return
        self.checkpoints.save(
            Checkpoint(
                day=day,
                settled=settled,
                total=total or None,
                updated_at=datetime.now(),
                event_types=self.event_types,
                history=self._fingerprint,
            )
        )

    # ------------------------------------------------------------------ statistics helpers
    def _active_disruptions(self, moment: datetime | None) -> list[dict[str, Any]]:
        now = time.monotonic()
        stamp, cached = self._disruption_cache
        if now - stamp < 1.0 and stamp:
            return cached
        try:
            from retail_datagen.disruptions import load_disruptions

            items = load_disruptions(self.layout.root)
        except Exception:
            items = []
        at = moment or datetime.now()
        active = [d.model_dump(mode="json") for d in items if d.active_at(at)]
        self._disruption_cache = (now, active)
        return active


def _fingerprint(config: RetailConfig, history: History) -> str:
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
