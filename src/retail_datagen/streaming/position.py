"""The stream position and what the sink settled of it.

A day's events have canonical positions; the position is the settled prefix of the current
day (what a checkpoint stores). Events are tracked when handed to the delivery pipeline and
settled (delivered or dead-lettered) in order from its sender task, while the API reads from its
thread: one lock, a handful of operations per batch.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from typing_extensions import TypedDict

from retail_datagen.streaming.event import Event, EventEnvelope

__all__ = ["RECENT_EVENTS", "DayPosition", "Mark", "SimulationProgress", "StreamPosition"]

RECENT_EVENTS = 200  # the newest events kept for the API and the UI


class DayPosition(TypedDict):
    settled: int  # canonical positions of the current day settled (delivered or dead-lettered)
    total: int  # events of the current day (0 before it is planned)


class SimulationProgress(TypedDict):
    """Where the simulation is; simulated times are local times without a zone."""

    events_generated: int
    delivered_by_type: dict[str, int]
    dead_lettered_by_type: dict[str, int]
    lag_seconds: float | None  # how far the simulated clock is behind the wall clock
    simulated_time: str | None
    last_event_time: str | None  # of the newest event handed to the sink
    current_day: str | None
    day_position: DayPosition


@dataclass(frozen=True)
class Mark:
    """A consistent reading of the position."""

    day: date | None
    settled: int  # canonical positions of ``day`` settled
    total: int  # events of ``day`` (0 before it is planned)


class StreamPosition:
    """Thread-safe: the current day, its settled prefix, counts per outcome, recent events."""

    def __init__(self, recent: int = RECENT_EVENTS) -> None:
        self._lock = threading.Lock()
        self._mark = Mark(None, 0, 0)
        self._inflight: dict[str, tuple[date, int]] = {}  # trace id → (day, position)
        self._delivered: dict[str, int] = {}
        self._dead: dict[str, int] = {}
        self._recent: deque[Event] = deque(maxlen=recent)
        self.generated = 0  # events planned to be sent (a resumed day's prefix excluded)
        self.last_event_time: datetime | None = None  # of the newest event handed on

    def mark(self) -> Mark:
        with self._lock:
            return self._mark

    def begin_day(self, day: date, total: int, skip: int) -> int:
        """Start ``day`` (``total`` events) after the settled prefix ``skip``; returns the
        first position to release."""
        first = min(skip, total)
        with self._lock:
            self._mark = Mark(day, first, total)
        self.generated += total - first
        return first

    def next_day(self, day: date) -> None:
        """The previous day is persisted: the position moves to the start of ``day``."""
        with self._lock:
            self._mark = Mark(day, 0, 0)

    def track(self, day: date, batch: Sequence[Event], positions: np.ndarray) -> None:
        """``batch`` (at canonical ``positions`` of ``day``) goes to the pipeline."""
        with self._lock:
            for event, position in zip(batch, positions, strict=True):
                self._inflight[event.trace_id] = (day, int(position))
            self._recent.extend(batch)

    def handed_on(self, batch: Sequence[Event]) -> None:
        """The pipeline took ``batch``."""
        if batch:
            self.last_event_time = batch[-1].event_time

    def settle(self, batch: Sequence[Event], outcome: str) -> bool:
        """The pipeline settled ``batch`` in order; True when the position moved."""
        with self._lock:
            counts = self._delivered if outcome == "delivered" else self._dead
            last: tuple[date, int] | None = None
            for event in batch:
                counts[event.event_type] = counts.get(event.event_type, 0) + 1
                found = self._inflight.pop(event.trace_id, None)
                if found is not None:
                    last = found
            mark = self._mark
            if last is None or last[0] != mark.day:
                return False
            self._mark = Mark(mark.day, max(mark.settled, last[1] + 1), mark.total)
            return True

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Events (delivered, dead-lettered) per type, sorted by type."""
        with self._lock:
            return dict(sorted(self._delivered.items())), dict(sorted(self._dead.items()))

    def recent(self, limit: int) -> list[EventEnvelope]:
        """The newest ``limit`` envelopes handed on, decoded, newest last."""
        with self._lock:
            events = list(self._recent)[-limit:] if limit > 0 else []
        return [json.loads(e.body) for e in events]

    def progress(self, sim_now: datetime | None, now: datetime) -> SimulationProgress:
        """Where the simulation is at ``sim_now`` (the pacer's clock, if it has one)."""
        current = sim_now or self.last_event_time
        last = self.last_event_time
        delivered, dead = self.counts()
        mark = self.mark()
        return SimulationProgress(
            events_generated=self.generated,
            delivered_by_type=delivered,
            dead_lettered_by_type=dead,
            lag_seconds=None if current is None else round((now - current).total_seconds(), 3),
            simulated_time=current.isoformat() if current else None,
            last_event_time=last.isoformat() if last else None,
            current_day=mark.day.isoformat() if mark.day else None,
            day_position=DayPosition(settled=mark.settled, total=mark.total),
        )
