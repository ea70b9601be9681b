"""Plays a planned day: its events, from a settled prefix on, built segment by segment ahead
of the pacer, released in chunks as the pacer allows, and handed to the delivery pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from retail_datagen.streaming.events import DayEvents, EventSegment, ingest_stamp
from retail_datagen.streaming.pacing import Pacer, RealTimePacer, sim_micros
from retail_datagen.streaming.position import StreamPosition

if TYPE_CHECKING:
    from retail_datagen.streaming.delivery import DeliveryPipeline

__all__ = ["REALTIME_SEGMENT_EVENTS", "RELEASE_CHUNK", "SEGMENT_EVENTS", "DayPlayer"]

SEGMENT_EVENTS = 20_000  # envelopes built ahead, per step (bounded memory for big days)
REALTIME_SEGMENT_EVENTS = 2_000  # smaller steps in real time: shorter GIL holds, less lateness
RELEASE_CHUNK = 1_024  # most events released by one pacing decision


class DayPlayer:
    """Releases days through ``pacer`` into ``pipeline`` until ``stopped()`` says so."""

    def __init__(
        self,
        pacer: Pacer,
        pipeline: DeliveryPipeline,
        position: StreamPosition,
        *,
        event_types: tuple[str, ...] | None,
        stopped: Callable[[], bool],
        on_day: Callable[[], None],
    ) -> None:
        self.pacer = pacer
        self.pipeline = pipeline
        self.position = position
        self.event_types = event_types
        self.stopped = stopped
        self.on_day = on_day  # the position moved to a new day (checkpoint it)

    @property
    def segment_events(self) -> int:
        return REALTIME_SEGMENT_EVENTS if isinstance(self.pacer, RealTimePacer) else SEGMENT_EVENTS

    async def play(self, events: DayEvents, skip: int) -> bool:
        """Release the day's events from position ``skip``; False when stopped midway."""
        first = self.position.begin_day(events.day, len(events), skip)
        self.on_day()
        keep = events.keep_mask(self.event_types)
        size, total = self.segment_events, len(events)
        starts = list(range(first, total, size))
        if not starts:
            return not self.stopped()

        def build(a: int) -> asyncio.Task[EventSegment]:
            return asyncio.create_task(
                asyncio.to_thread(events.segment, a, min(a + size, total), keep)
            )

        next_segment = build(starts[0])
        for k in range(len(starts)):
            segment = await next_segment
            if k + 1 < len(starts):
                next_segment = build(starts[k + 1])  # built while this one is released
            if not await self._play_segment(events.day, segment):
                if k + 1 < len(starts):
                    next_segment.cancel()
                return False
        return True

    async def _play_segment(self, day: date, segment: EventSegment) -> bool:
        i, total = 0, len(segment)
        times = segment.times_us
        while i < total:
            if self.stopped():
                return False
            n = await self.pacer.release(times, i, RELEASE_CHUNK)
            if n <= 0:
                continue
            batch = segment.events(i, i + n, ingest_stamp())
            self.position.track(day, batch, segment.positions[i : i + n])
            await self.pipeline.put_many(batch)
            self.position.handed_on(batch)
            i += n
        return True

    async def wait_day_over(self, day: date) -> bool:
        """Real time: wait until the simulated clock passes the end of ``day`` (False when
        stopped first). The rate modes have no simulated clock: a settled day is over."""
        pacer = self.pacer
        if not isinstance(pacer, RealTimePacer):
            return True
        midnight = sim_micros(datetime.combine(day + timedelta(days=1), datetime.min.time()))
        while not await pacer.until(midnight):
            if self.stopped():
                return False
        return not self.stopped()
