"""One event on its way to a sink: the JSON envelope and what routing needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Event"]


@dataclass(frozen=True, slots=True)
class Event:
    event_type: str  # one of streaming.events.EVENT_TYPES
    trace_id: str  # unique per event (the fact row's TraceId, suffixed for lifecycle events)
    partition_key: str  # store or DC, so one store's events stay ordered
    body: bytes  # the JSON envelope (SPEC §7), UTF-8
    event_time: datetime  # simulated local time at which the event is due
