"""Realistic events for streaming tests and the benchmark: ~400-byte JSON envelopes (SPEC §7)
spread over 42 stores, with unique, ordered trace ids."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from retail_datagen.streaming.event import Event

__all__ = ["EVENT_TYPES", "build_events"]

EVENT_TYPES = (
    "receipt_created",
    "receipt_line_added",
    "payment_processed",
    "inventory_updated",
    "customer_entered",
    "ble_ping_detected",
)


def build_events(
    count: int,
    *,
    stores: int = 42,
    start: int = 0,
    prefix: str = "T",
    body_bytes: int = 400,
) -> list[Event]:
    """``count`` events with unique trace ids ``{prefix}{i}`` and ~``body_bytes`` JSON bodies."""
    base = datetime(2024, 6, 1, 9, 0, 0)
    events = []
    for i in range(start, start + count):
        store = i % stores + 1
        event_type = EVENT_TYPES[i % len(EVENT_TYPES)]
        trace = f"{prefix}{i:08d}"
        moment = base + timedelta(milliseconds=250 * i)
        envelope = {
            "event_type": event_type,
            "payload": {"store_id": store, "trace_id": trace, "seq": i, "pad": ""},
            "trace_id": trace,
            "ingest_timestamp": moment.isoformat(),
            "schema_version": "1.0",
            "source": "retail-datagen",
            "partition_key": f"store-{store}",
        }
        raw = json.dumps(envelope, separators=(",", ":"))
        envelope["payload"]["pad"] = "x" * max(0, body_bytes - len(raw))  # type: ignore[index]
        body = json.dumps(envelope, separators=(",", ":")).encode()
        events.append(Event(event_type, trace, f"store-{store}", body, moment))
    return events
