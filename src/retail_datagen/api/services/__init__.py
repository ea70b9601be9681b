"""The API's service layer: everything the routes call. Routes validate and return models;
services do the work (long work as tasks) by calling the same library functions as the CLI."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from retail_datagen.api.services.config_store import ConfigService
from retail_datagen.api.services.metrics import Metrics
from retail_datagen.api.services.streaming import StreamService
from retail_datagen.api.services.tasks import DataGuard, TaskManager
from retail_datagen.api.settings import ServerSettings

__all__ = ["Services"]

SHUTDOWN_TIMEOUT = 20.0
_log = logging.getLogger("retail_datagen.api")


@dataclass
class Services:
    settings: ServerSettings
    config: ConfigService
    guard: DataGuard
    tasks: TaskManager
    stream: StreamService
    metrics: Metrics

    @classmethod
    def build(cls, settings: ServerSettings) -> Services:
        config = ConfigService(settings)
        guard = DataGuard.for_folder(config.root)
        metrics = Metrics()
        tasks = TaskManager(guard, on_change=metrics.on_task_change)
        stream = StreamService(settings, config, guard)
        metrics.add_stream_collector(stream.prometheus_collector)
        return cls(settings, config, guard, tasks, stream, metrics)

    @property
    def root(self) -> Path:
        return self.config.root

    async def shutdown(self) -> None:
        """Stop the streamer (it flushes) and cancel running tasks, bounded in time."""
        if self.stream.running:
            await self.stream.stop()
        done = await asyncio.to_thread(self.tasks.cancel_all, SHUTDOWN_TIMEOUT)
        if not done:
            _log.warning("some tasks did not stop within %.0f s", SHUTDOWN_TIMEOUT)
