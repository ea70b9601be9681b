"""Streaming statistics: one thread-safe object the pipeline writes and the API/metrics read.

The delivery pipeline, the Kafka poll thread and the web server touch these counters from
different threads, hence one lock; every update is a handful of integer operations per *batch*
(never per event outside a ``Counter`` over the batch), so the lock is cheap.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from typing_extensions import TypedDict

from retail_datagen.streaming.event import Event

__all__ = [
    "CIRCUIT_STATES",
    "DeliveryCounts",
    "StatsSnapshot",
    "StreamStats",
    "StreamStatsCollector",
    "render_prometheus",
]

CIRCUIT_STATES = ("CLOSED", "OPEN", "HALF_OPEN")
RATE_WINDOW_SECONDS = 10.0
_PREFIX = "retail_datagen_stream"


class DeliveryCounts(TypedDict):
    """What the sink took and refused, JSON-ready (typed for the API's schema)."""

    sink: str
    started_at: str  # UTC, ISO-8601 with the offset
    last_sent_at: str | None
    events_sent: int
    events_failed: int
    sent_by_type: dict[str, int]
    failed_by_type: dict[str, int]
    bytes_sent: int
    batches_sent: int
    batches_failed: int
    retries: int
    dead_lettered: int
    replayed: int
    dlq_size: int
    buffered: int
    events_per_second: float


class StatsSnapshot(DeliveryCounts):
    """Everything :class:`StreamStats` counts."""

    circuit_state: str
    lag_seconds: float


class StreamStats:
    """Counters and gauges of one stream. ``snapshot()`` is JSON-ready.

    * ``sent`` / ``failed`` per event type: events acknowledged by the sink / events in a send
      attempt that failed (an event retried twice counts twice in ``failed``);
    * ``dead_lettered``: events moved to the dead-letter store;
    * ``events_per_second``: delivered events over the last 10 s;
    * ``lag_seconds``: how far the stream runs behind real time (set by the streamer).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._sent: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._bytes = 0
        self._batches = 0
        self._failed_batches = 0
        self._retries = 0
        self._dead_lettered = 0
        self._replayed = 0
        self._circuit_state = "CLOSED"
        self._dlq_size = 0
        self._buffered = 0
        self._lag_seconds = 0.0
        self._sink = ""
        self._started_at = self._wall()
        self._last_sent_at: float | None = None
        self._window: deque[tuple[float, int]] = deque()  # (monotonic second, events)

    # ------------------------------------------------------------------ writers
    def record_sent(self, events: Sequence[Event]) -> None:
        """A batch (or part of one) the sink acknowledged."""
        types = Counter(e.event_type for e in events)
        size = sum(len(e.body) for e in events)
        now = self._clock()
        with self._lock:
            self._sent.update(types)
            self._bytes += size
            self._batches += 1
            self._last_sent_at = self._wall()
            second = float(int(now))
            if self._window and self._window[-1][0] == second:
                self._window[-1] = (second, self._window[-1][1] + len(events))
            else:
                self._window.append((second, len(events)))
            self._trim(now)

    def record_failed(self, events: Iterable[Event]) -> None:
        """Events of a send attempt that failed (they may still be delivered by a retry)."""
        types = Counter(e.event_type for e in events)
        with self._lock:
            self._failed.update(types)
            self._failed_batches += 1

    def record_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def record_dead_lettered(self, count: int) -> None:
        with self._lock:
            self._dead_lettered += count

    def record_replayed(self, count: int) -> None:
        with self._lock:
            self._replayed += count

    def set_circuit_state(self, state: str) -> None:
        with self._lock:
            self._circuit_state = state

    def set_dlq_size(self, size: int) -> None:
        with self._lock:
            self._dlq_size = size

    def set_buffered(self, count: int) -> None:
        with self._lock:
            self._buffered = count

    def set_lag(self, seconds: float) -> None:
        with self._lock:
            self._lag_seconds = float(seconds)

    def set_sink(self, name: str) -> None:
        with self._lock:
            self._sink = name

    # ------------------------------------------------------------------ readers
    def _trim(self, now: float) -> None:
        horizon = now - RATE_WINDOW_SECONDS
        while self._window and self._window[0][0] < horizon:
            self._window.popleft()

    def events_per_second(self) -> float:
        """Delivered events per second over the last 10 s (or since the start, if shorter)."""
        now = self._clock()
        with self._lock:
            self._trim(now)
            total = sum(count for _, count in self._window)
            if not self._window:
                return 0.0
            span = min(RATE_WINDOW_SECONDS, max(now - self._window[0][0], 1.0))
        return total / span

    @property
    def circuit_state(self) -> str:
        with self._lock:
            return self._circuit_state

    @property
    def events_sent(self) -> int:
        with self._lock:
            return sum(self._sent.values())

    def snapshot(self) -> StatsSnapshot:
        """Everything, JSON-ready (no secrets: the sink name is already redacted)."""
        rate = self.events_per_second()
        with self._lock:
            return StatsSnapshot(
                sink=self._sink,
                started_at=_iso(self._started_at),
                last_sent_at=_iso(self._last_sent_at) if self._last_sent_at else None,
                events_sent=sum(self._sent.values()),
                events_failed=sum(self._failed.values()),
                sent_by_type=dict(sorted(self._sent.items())),
                failed_by_type=dict(sorted(self._failed.items())),
                bytes_sent=self._bytes,
                batches_sent=self._batches,
                batches_failed=self._failed_batches,
                retries=self._retries,
                dead_lettered=self._dead_lettered,
                replayed=self._replayed,
                dlq_size=self._dlq_size,
                buffered=self._buffered,
                circuit_state=self._circuit_state,
                events_per_second=round(rate, 1),
                lag_seconds=round(self._lag_seconds, 3),
            )

    def prometheus_collector(self) -> StreamStatsCollector:
        """A collector to ``registry.register(...)``; it reads a fresh snapshot per scrape."""
        return StreamStatsCollector(self)


class StreamStatsCollector(Collector):
    """Exposes a :class:`StreamStats` as ``retail_datagen_stream_*`` metrics."""

    def __init__(self, stats: StreamStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        snap = self._stats.snapshot()
        sent = CounterMetricFamily(
            f"{_PREFIX}_events_sent", "Events acknowledged by the sink", labels=["event_type"]
        )
        for event_type, count in snap["sent_by_type"].items():
            sent.add_metric([event_type], count)
        yield sent
        failed = CounterMetricFamily(
            f"{_PREFIX}_events_failed",
            "Events in send attempts that failed (retries count again)",
            labels=["event_type"],
        )
        for event_type, count in snap["failed_by_type"].items():
            failed.add_metric([event_type], count)
        yield failed
        counters = (
            ("bytes_sent", "Body bytes acknowledged by the sink"),
            ("batches_sent", "Batches acknowledged by the sink"),
            ("batches_failed", "Send attempts that failed"),
            ("retries", "Send retries"),
            ("dead_lettered", "Events moved to the dead-letter store"),
            ("replayed", "Dead letters replayed successfully"),
        )
        values: Mapping[str, Any] = snap  # looked up by the names above
        for key, doc in counters:
            yield CounterMetricFamily(f"{_PREFIX}_{key}", doc, value=values[key])
        gauges = (
            ("events_per_second", "Delivered events per second over the last 10 s"),
            ("lag_seconds", "How far the stream runs behind real time"),
            ("dlq_size", "Events waiting in the dead-letter store"),
            ("buffered", "Events buffered for delivery"),
        )
        for key, doc in gauges:
            yield GaugeMetricFamily(f"{_PREFIX}_{key}", doc, value=values[key])
        circuit = GaugeMetricFamily(
            f"{_PREFIX}_circuit_state",
            "1 for the circuit breaker's current state",
            labels=["state"],
        )
        for state in CIRCUIT_STATES:
            circuit.add_metric([state], 1.0 if snap["circuit_state"] == state else 0.0)
        yield circuit


def render_prometheus(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The text exposition of ``registry`` and its content type (for a ``/metrics`` route)."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()
