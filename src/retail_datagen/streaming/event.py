"""One event on its way to a sink: the JSON envelope and what routing needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from typing_extensions import TypedDict

__all__ = ["Event", "EventEnvelope"]


@dataclass(frozen=True, slots=True)
class Event:
    event_type: str  # one of streaming.events.EVENT_TYPES
    trace_id: str  # unique per event (the fact row's TraceId, suffixed for lifecycle events)
    partition_key: str  # store or DC, so one store's events stay ordered
    body: bytes  # the JSON envelope (SPEC §7), UTF-8
    event_time: datetime  # simulated local time at which the event is due


class EventEnvelope(TypedDict):
    """An event's JSON envelope, decoded (SPEC §7; ``docs/events/`` has each type's schema)."""

    event_type: str
    payload: dict[str, Any]  # the fact row in snake_case (money as decimal strings)
    trace_id: str
    ingest_timestamp: str  # UTC send time, ISO-8601 with "Z"
    schema_version: str
    source: str
    partition_key: str  # store-<id>, dc-<id> or network
