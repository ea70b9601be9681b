"""StreamStats: counters, the rolling rate, JSON snapshots and Prometheus exposition."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from retail_datagen.streaming.event import Event
from retail_datagen.streaming.stats import StreamStats, render_prometheus

EventFactory = Callable[..., list[Event]]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_snapshot_counts_by_type_and_is_json_safe(make_events: EventFactory) -> None:
    stats = StreamStats()
    events = make_events(12)
    stats.record_sent(events[:10])
    stats.record_failed(events[10:])
    stats.record_retry()
    stats.record_dead_lettered(2)
    stats.set_circuit_state("OPEN")
    stats.set_dlq_size(2)
    stats.set_lag(1.5)
    stats.set_sink("kafka://h:9092/t")
    snap = stats.snapshot()
    assert json.loads(json.dumps(snap)) == snap
    assert snap["events_sent"] == 10
    assert snap["events_failed"] == 2
    assert sum(snap["sent_by_type"].values()) == 10
    assert snap["bytes_sent"] == sum(len(e.body) for e in events[:10])
    assert snap["batches_sent"] == 1 and snap["batches_failed"] == 1
    assert (snap["retries"], snap["dead_lettered"], snap["dlq_size"]) == (1, 2, 2)
    assert snap["circuit_state"] == "OPEN"
    assert snap["lag_seconds"] == 1.5
    assert snap["started_at"].endswith("+00:00")


def test_rate_is_a_rolling_ten_second_window(make_events: EventFactory) -> None:
    clock = Clock()
    stats = StreamStats(clock=clock)
    assert stats.events_per_second() == 0.0
    for _ in range(10):
        stats.record_sent(make_events(100))
        clock.now += 1.0
    assert stats.events_per_second() == 100.0
    clock.now += 30.0  # nothing sent for a while: the window empties
    assert stats.events_per_second() == 0.0


def test_counters_are_thread_safe(make_events: EventFactory) -> None:
    stats = StreamStats()
    batch = make_events(10)

    def hammer() -> None:
        for _ in range(500):
            stats.record_sent(batch)
            stats.record_retry()

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    snap = stats.snapshot()
    assert snap["events_sent"] == 4 * 500 * 10
    assert snap["retries"] == 2000


def test_prometheus_exposition(make_events: EventFactory) -> None:
    stats = StreamStats()
    stats.record_sent(make_events(6))
    stats.set_circuit_state("HALF_OPEN")
    registry = CollectorRegistry()
    registry.register(stats.prometheus_collector())
    body, content_type = render_prometheus(registry)
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'retail_datagen_stream_events_sent_total{event_type="receipt_created"} 1.0' in text
    assert 'retail_datagen_stream_circuit_state{state="HALF_OPEN"} 1.0' in text
    assert 'retail_datagen_stream_circuit_state{state="OPEN"} 0.0' in text
    for name in (
        "bytes_sent_total",
        "dead_lettered_total",
        "events_per_second",
        "dlq_size",
        "lag_seconds",
        "retries_total",
    ):
        assert f"retail_datagen_stream_{name}" in text
