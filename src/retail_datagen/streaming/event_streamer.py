"""EventStreamer: the simulation continued live, as events, with the streamed days persisted.

For each simulated day D after the persisted history (the watermark): run the same simulation a
historical run uses and order the day's fact rows as events (``driver``), pace them (``pacing``)
and play them into the delivery pipeline (``player``), and once every event of D is settled
(delivered or dead-lettered) append D's facts to the history (``persistence``). So the events
are the facts, the history stays continuous, and the next historical run continues after the
last streamed day.

The stream position — (day, settled prefix) — is checkpointed after every settled batch
(``position``, ``persistence``); a killed streamer regenerates the day and resumes after the
prefix: no gaps, and only the last unacknowledged batch may be sent twice (same ``trace_id``).
This module only coordinates those parts: start, stop, the day loop and the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError
from retail_datagen.streaming.driver import SimulationDriver, StartPoint, order_window
from retail_datagen.streaming.event import Event, EventEnvelope
from retail_datagen.streaming.events import EVENT_TYPES
from retail_datagen.streaming.options import StreamMode, StreamOptions
from retail_datagen.streaming.pacing import Clock, Pacer, RealTimePacer
from retail_datagen.streaming.persistence import StreamPersistence
from retail_datagen.streaming.player import RELEASE_CHUNK, SEGMENT_EVENTS, DayPlayer
from retail_datagen.streaming.position import StreamPosition
from retail_datagen.streaming.report import StreamerStatistics
from retail_datagen.streaming.sinks.base import Sink
from retail_datagen.streaming.stats import StreamStats
from retail_datagen.streaming.timing import RunTimes

if TYPE_CHECKING:
    from retail_datagen.streaming.checkpoint import CheckpointStore
    from retail_datagen.streaming.delivery import DeliveryPipeline
    from retail_datagen.streaming.driver import PlannedDay

__all__ = ["RELEASE_CHUNK", "SEGMENT_EVENTS", "EventStreamer", "order_window"]

_log = logging.getLogger(__name__)

STOP_SLACK = 0.25  # seconds the day loop gets to stop by itself at the deadline or a stop
WATCH_INTERVAL = 0.05  # how often the day loop is checked against the deadline
CLOSE_SHARE = 0.04  # of the duration, for delivering what is buffered after the deadline
CLOSE_SECONDS = 30.0  # delivering what is buffered after a stop without a deadline


@dataclass
class _Run:
    """One ``start()``: what it made and how it ends."""

    finished: asyncio.Event = field(default_factory=asyncio.Event)
    running: bool = False  # delivering (the pipeline is started)
    stop_requested: bool = False
    pacer: Pacer | None = None
    pipeline: DeliveryPipeline | None = None
    persisting: asyncio.Future[None] | None = None  # the day being appended to the history
    unsent: int = 0
    error: str | None = None


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
        self.options = StreamOptions.checked(
            config.realtime,
            sink=sink,
            event_types=event_types,
            speed=speed,
            rate=rate,
            burst=burst,
            interval_ms=interval_ms,
            duration=duration,
            from_watermark=from_watermark,
            from_now=from_now,
            anchor=anchor,
        )
        self.stats = StreamStats()
        self.ready = asyncio.Event()  # set once the sink answered its probe (or start failed)
        self._clock = clock
        self._notify = notify or (lambda text: _log.info("%s", text))
        self._driver = SimulationDriver(config)
        self._position = StreamPosition()
        self._persistence = StreamPersistence(
            self._driver.root,
            seed=config.seed,
            event_types=self.options.event_types,
            detached=from_now,
        )
        self._times = RunTimes()
        self._run: _Run | None = None

    # ------------------------------------------------------------------ public API
    @property
    def config(self) -> RetailConfig:
        return self._driver.config

    @property
    def checkpoints(self) -> CheckpointStore:
        return self._persistence.checkpoints

    @property
    def event_types(self) -> tuple[str, ...] | None:
        return self.options.event_types

    @property
    def running(self) -> bool:
        return self._run is not None and self._run.running

    @property
    def mode(self) -> StreamMode:
        return self.options.mode

    @property
    def unsent(self) -> int:
        """Events left unsettled when the stream stopped (sent again next time)."""
        return self._run.unsent if self._run is not None else 0

    async def start(self) -> None:
        """Stream until :meth:`stop`, ``duration`` seconds, or cancellation (then the settled
        position is checkpointed and re-raised). Errors in preparation are ``UserError``s; a
        destination that does not answer its probe raises ``SinkUnreachableError`` before
        anything is generated or checkpointed."""
        from retail_datagen.streaming.sinks import open_sink

        if self._run is not None and not self._run.finished.is_set():
            raise UserError("the streamer is already running")
        run = self._run = _Run()
        self._times.begin()
        self.ready.clear()
        try:
            sink = open_sink(self.options.sink, self.config, data_dir=self._driver.root)
            self.stats.set_sink(getattr(sink, "name", self.options.sink))
            start, skip = await self._prepare_and_probe(sink)
            self.ready.set()
            for notice in start.notices:  # only once the stream is really starting
                self._notify(notice)
            await self._stream(run, sink, start, skip)
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            run.running = False
            self._times.end()
            self.ready.set()
            run.finished.set()

    start_streaming = start

    async def stop(self, timeout: float | None = 60.0) -> None:
        """Graceful stop: stop releasing, flush what is buffered, checkpoint; complete days are
        already persisted. Returns when the stream has stopped (or after ``timeout``)."""
        run = self._run
        if run is None or run.finished.is_set():
            return
        run.stop_requested = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.finished.wait(), timeout)

    def statistics(self) -> dict[str, Any]:
        """JSON-ready statistics for the CLI and the UI (:meth:`report`, as a plain dict)."""
        return {**self.report()}

    def report(self) -> StreamerStatistics:
        """The statistics, typed (the API's response schema)."""
        snap = self.stats.snapshot()
        run = self._run or _Run()
        pacer, pipeline = run.pacer, run.pipeline
        sim_now = pacer.sim_now() if pacer is not None else None
        progress = self._position.progress(sim_now, datetime.now())
        watermark = self._driver.watermark
        report: StreamerStatistics = {
            **snap,
            **progress,  # its lag (behind the simulated clock) replaces the sink's
            **self._times.seconds(),
            "running": run.running,
            "mode": self.mode,
            "pacing": pacer.describe() if pacer is not None else None,
            "event_types": list(self.event_types or EVENT_TYPES),
            "circuit_state": pipeline.circuit_state if pipeline else snap["circuit_state"],
            "watermark": watermark.isoformat() if watermark else None,
            "days_persisted": self._persistence.days,
            "unsent": run.unsent,
            "sink_failing": bool(pipeline.failing) if pipeline is not None else False,
            "active_disruptions": self._driver.watch.active(
                sim_now or self._position.last_event_time or datetime.now()
            ),
            "error": run.error,
        }
        return report

    def recent_events(self, limit: int = 50) -> list[EventEnvelope]:
        """The newest events handed to the pipeline (decoded envelopes), newest last."""
        return self._position.recent(limit)

    # ------------------------------------------------------------------ preparation
    async def _prepare_and_probe(self, sink: Sink) -> tuple[StartPoint, int]:
        """Probe the sink first (an unreachable one fails within seconds, before the history
        is even loaded), then load the history and find the settled prefix to skip."""
        from retail_datagen.streaming.sinks import probe_sink

        await probe_sink(sink, self.probe_timeout)
        return await asyncio.to_thread(self._prepare)

    def _prepare(self) -> tuple[StartPoint, int]:
        start = self._driver.open(self.options)
        self._persistence.history = start.fingerprint
        return start, self._persistence.resume_position(start.day)

    # ------------------------------------------------------------------ the day loop
    async def _stream(self, run: _Run, sink: Sink, start: StartPoint, skip: int) -> None:
        from retail_datagen.streaming.delivery import DeliveryPipeline

        realtime = self.config.realtime
        dead_letters = None
        if realtime.enable_dead_letter_queue:
            from retail_datagen.streaming.dead_letters import DeadLetterStore

            dead_letters = DeadLetterStore(self._driver.root)
        pipeline = DeliveryPipeline(
            sink, realtime, stats=self.stats, dead_letters=dead_letters, on_settled=self._settled
        )
        run.pipeline = pipeline
        run.pacer = self.options.pacer(realtime, clock=self._clock, anchor=start.anchor)
        await pipeline.start()
        run.running = True
        self._times.start_delivery()
        player = DayPlayer(
            run.pacer,
            pipeline,
            self._position,
            event_types=self.event_types,
            stopped=lambda: run.stop_requested or self._times.expired(),
            on_day=self._save_checkpoint,
        )
        days = asyncio.create_task(self._days(run, player, start.day, skip))
        failed = True
        try:
            await self._await_days(run, days)
            failed = False
        finally:
            if not days.done():  # this task was cancelled: so is the day loop
                days.cancel()
                await asyncio.gather(days, return_exceptions=True)
            await self._finish(run, pipeline, failed)

    async def _days(self, run: _Run, player: DayPlayer, day: date, skip: int) -> None:
        """Plan, play and persist day after day until stopped. ``duration`` counts from when
        the first day is ready (events start to flow), so preparation never eats into it."""
        plan = await asyncio.to_thread(self._driver.plan_day, day, self._driver.take_carry())
        pacer = player.pacer
        if self.options.from_now and isinstance(pacer, RealTimePacer):
            skip = max(skip, int(np.searchsorted(plan.events.time_us, pacer.sim_now_us())))
        self._times.start_flowing(self.options.duration)
        while True:
            if not await player.play(plan.events, skip):
                return
            skip = 0
            # the next day runs while this one settles (and, in real time, ends)
            planned = asyncio.ensure_future(
                asyncio.to_thread(self._driver.plan_day, day + timedelta(days=1), plan.carry)
            )
            await player.pipeline.flush()
            if not await player.wait_day_over(day):
                return
            if not self.options.from_now:
                run.persisting = asyncio.ensure_future(asyncio.to_thread(self._persist_day, plan))
                await asyncio.shield(run.persisting)
            day += timedelta(days=1)
            plan = await planned

    async def _await_days(self, run: _Run, days: asyncio.Task[None]) -> None:
        """Wait for the day loop. Once stopped (``stop()`` or the deadline) it gets a moment to
        end at a clean point, then it is cancelled — so a sink that stalls (the loop waits in
        the full buffer) holds neither ``duration`` nor a stop."""
        while not days.done():
            if run.stop_requested or self._times.expired():
                done, _ = await asyncio.wait({days}, timeout=STOP_SLACK)
                if not done:
                    days.cancel()
                    await asyncio.gather(days, return_exceptions=True)
                    return
                break
            await asyncio.wait({days}, timeout=WATCH_INTERVAL)
        await days

    async def _finish(self, run: _Run, pipeline: DeliveryPipeline, failed: bool) -> None:
        """Settle what can be settled (bounded by the duration), then checkpoint."""
        try:
            if run.persisting is not None:  # a day being committed is committed
                await asyncio.gather(run.persisting, return_exceptions=True)
            timeout = CLOSE_SECONDS
            left = self._times.left()
            if left is not None:
                slack = min(
                    STOP_SLACK + CLOSE_SHARE * (self.options.duration or 0.0), CLOSE_SECONDS
                )
                timeout = max(0.1, left + slack)
            try:
                await pipeline.close(timeout=timeout)
            except Exception:
                if not failed:
                    raise
        finally:
            run.unsent = pipeline.unsettled
            self._save_checkpoint()

    def _persist_day(self, plan: PlannedDay) -> None:
        """Append the settled day to the history (worker thread), then move the checkpoint."""
        history = self._persistence.append(plan.events, plan.carry)
        self._driver.advance(history)
        self._position.next_day(plan.events.day + timedelta(days=1))
        self._save_checkpoint()
        self._persistence.refresh_views()

    # ------------------------------------------------------------------ settlement
    def _settled(self, batch: Sequence[Event], outcome: str) -> None:
        """The pipeline settled ``batch`` (in order): advance and checkpoint the position."""
        if not batch or not self._position.settle(batch, outcome):
            return
        self._save_checkpoint()
        current = self._position.last_event_time
        if current is not None:
            self.stats.set_lag((datetime.now() - current).total_seconds())

    def _save_checkpoint(self) -> None:
        self._persistence.save(self._position.mark())
