"""Prometheus metrics of one server: its own registry (so several apps in one process, e.g.
tests, never collide), task and row counters, and the live streamer's statistics."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from retail_datagen.api.services.tasks import Task, TaskStatus

__all__ = ["Metrics", "StreamCollector"]


class StreamCollector(Collector):
    """The running streamer's metrics, collected per scrape.

    Delegates to the streamer's own :class:`StreamStats` collector
    (``retail_datagen_stream_*``) while a stream runs; nothing otherwise.
    """

    def __init__(self, source: Callable[[], Collector | None]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        collector = self._source()
        if collector is not None:
            yield from collector.collect()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._seen: set[tuple[str, TaskStatus]] = set()
        self._rows_counted: set[str] = set()
        self.tasks_started = Counter(
            "retail_datagen_tasks_started",
            "Tasks started, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.tasks_finished = Counter(
            "retail_datagen_tasks_finished",
            "Tasks finished, by kind and final status",
            ["kind", "status"],
            registry=self.registry,
        )
        self.tasks_running = Gauge(
            "retail_datagen_tasks_running", "Tasks running now", registry=self.registry
        )
        self.task_progress = Gauge(
            "retail_datagen_task_progress_percent",
            "Progress of the running data-changing task (percent)",
            registry=self.registry,
        )
        self.rows = Counter(
            "retail_datagen_rows_generated",
            "Rows written by generation tasks, by table",
            ["table"],
            registry=self.registry,
        )
        self._running: set[str] = set()

    def add_stream_collector(self, source: Callable[[], Collector | None]) -> None:
        self.registry.register(StreamCollector(source))

    def on_task_change(self, task: Task) -> None:
        """Count each status transition of a task once (called on every change)."""
        with self._lock:
            key = (task.id, task.status)
            if task.progress is not None and task.data_changing and not task.finished:
                self.task_progress.set(task.progress.percent)
            if key in self._seen:
                return
            self._seen.add(key)
            if task.status is TaskStatus.RUNNING:
                self.tasks_started.labels(task.kind).inc()
                self._running.add(task.id)
            elif task.finished:
                self._running.discard(task.id)
                self.tasks_finished.labels(task.kind, task.status.value).inc()
                self._count_rows(task)
            self.tasks_running.set(len(self._running))

    def _count_rows(self, task: Task) -> None:
        rows = (task.result or {}).get("rows")
        if isinstance(rows, dict) and task.id not in self._rows_counted:
            self._rows_counted.add(task.id)
            for table, count in rows.items():
                if isinstance(count, int) and count > 0:
                    self.rows.labels(str(table)).inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
