"""The live streamer, dead letters, disruptions and connection checks behind the API.

Streaming is imported directly and answers in typed shapes (``StreamerStatistics``,
``EventEnvelope``, ``DeadLetter``, ``ConnectionInfo``, …) that the response models declare, so
mypy checks this seam and the OpenAPI document shows what the routes return.
The streamer writes streamed days into the data folder, so it claims the folder's
:class:`DataGuard` like a data-changing task: generation and streaming never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client.registry import Collector

from retail_datagen.api.models import (
    ConnectionTestResult,
    ConnectionValidation,
    DeadLetterList,
    DisruptionCreate,
    DisruptionInfo,
    ReplayResponse,
    StreamParams,
    StreamStartRequest,
    StreamStatus,
)
from retail_datagen.api.services.config_store import ConfigService
from retail_datagen.api.services.errors import InvalidInput, NotFound, Unavailable
from retail_datagen.api.services.paths import checked_sink_file
from retail_datagen.api.services.tasks import DataGuard, one_line_error
from retail_datagen.api.settings import ServerSettings
from retail_datagen.config.secrets import redact, resolve_connection_string
from retail_datagen.disruptions import Disruption, DisruptionService
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.streaming.credentials import ConnectionInfo, describe_connection_string
from retail_datagen.streaming.dead_letters import DeadLetterStore
from retail_datagen.streaming.event import EventEnvelope
from retail_datagen.streaming.event_streamer import EventStreamer
from retail_datagen.streaming.events import EVENT_TYPES
from retail_datagen.streaming.report import StreamerStatistics
from retail_datagen.streaming.sinks import SinkUnreachableError, check_sink, open_sink
from retail_datagen.streaming.sinks.urls import file_target, sink_scheme

__all__ = ["StreamService"]

STREAM_OWNER = "stream"
CONNECTION_TEST_TIMEOUT = 5.0  # the same as a stream's start-up probe
STOP_TIMEOUT = 30.0
START_GRACE = 0.5
START_WAIT = 7.0  # the streamer's sink probe answers within 5 s
_log = logging.getLogger("retail_datagen.api.streaming")
_SECRET_VALUE = re.compile(r"SharedAccess(?:Key|Signature)\s*=\s*([^;]+)", re.IGNORECASE)


class StreamService:
    """At most one streamer per server; start/stop/status and the resilience helpers."""

    def __init__(self, settings: ServerSettings, config: ConfigService, guard: DataGuard) -> None:
        self.settings = settings
        self.config = config
        self.guard = guard
        self._streamer: EventStreamer | None = None
        self._task: asyncio.Task[None] | None = None
        self._params: StreamParams | None = None
        self._started_at: datetime | None = None
        self._stopped_at: datetime | None = None
        self._error: str | None = None
        self._start_error: UserError | None = None
        self._lock = asyncio.Lock()

    @property
    def root(self) -> Path:
        return self.config.root

    @staticmethod
    def event_types() -> list[str]:
        return list(EVENT_TYPES)

    # -------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def checked_sink(self, sink: str) -> str:
        """A sink URL the server may use: file sinks only inside the data folder or an allowed
        directory (parsed by the sinks' own URL parser, so the check sees the real path)."""
        text = sink.strip()
        if sink_scheme(text) == "file":
            target = file_target(text, data_dir=self.root)
            checked_sink_file(target.path, self.root, self.settings.allowed_sink_dirs)
        return text

    async def start(self, request: StreamStartRequest) -> StreamStatus:
        """Start streaming in the background; 409 while a task or another stream runs."""
        async with self._lock:
            if self.running:
                raise DataStateError("the streamer is already running; stop it first")
            sink = self.checked_sink(request.sink)
            _check_event_types(request.event_types)
            self.guard.claim(STREAM_OWNER, "the streamer")
            try:
                streamer = EventStreamer(
                    self.config.config,
                    sink=sink,
                    event_types=request.event_types or None,
                    speed=request.speed,
                    rate=request.rate,
                    burst=request.burst,
                    interval_ms=request.interval_ms,
                    duration=request.duration,
                    from_now=request.from_now,
                )
            except BaseException:
                self.guard.release(STREAM_OWNER)
                raise
            self._streamer = streamer
            self._params = StreamParams.model_validate(
                {**request.model_dump(), "sink": redact(sink)}
            )
            self._started_at = datetime.now(UTC)
            self._stopped_at = None
            self._error = None
            self._start_error = None
            task = self._task = asyncio.create_task(
                self._run(streamer), name="retail-datagen-stream"
            )
        # a stream that cannot start (no history, a sink that does not answer its probe) fails
        # within moments: report that as this request's error rather than as a stopped stream
        ready = asyncio.ensure_future(streamer.ready.wait())
        try:
            await asyncio.wait({task, ready}, timeout=START_WAIT)
            await asyncio.wait({task}, timeout=START_GRACE)
        finally:
            ready.cancel()
        if task.done() and self._error is not None and self._start_error is not None:
            raise self._start_error
        return self.status()

    async def _run(self, streamer: EventStreamer) -> None:
        try:
            await streamer.start()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._error = one_line_error(exc)
            self._start_error = _start_error(exc)
            if self._start_error is None:
                _log.error("the streamer stopped with an error", exc_info=True)
        finally:
            self._stopped_at = datetime.now(UTC)
            self.guard.release(STREAM_OWNER)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> StreamStatus:
        """Stop gracefully (the streamer flushes); cancel it when it does not end in time."""
        async with self._lock:
            task, streamer = self._task, self._streamer
            if task is None or task.done() or streamer is None:
                return self.status()
            with contextlib.suppress(Exception):
                await streamer.stop(timeout=timeout)
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            return self.status()

    def status(self) -> StreamStatus:
        return StreamStatus(
            running=self.running,
            sink=self._params.sink if self._params else None,
            started_at=self._started_at,
            stopped_at=self._stopped_at,
            params=self._params,
            error=self._error,
        )

    def statistics(self) -> StreamerStatistics | None:
        """The current (or last) streamer's statistics; None before any stream."""
        if self._streamer is None:
            return None
        try:
            stats = self._streamer.report()
        except Exception:  # statistics must never break a page or /metrics
            _log.warning("could not read the streamer's statistics", exc_info=True)
            return None
        stats["sink"] = redact(stats["sink"])  # the sinks name themselves redacted already
        stats["error"] = redact(stats["error"]) if stats["error"] else None
        return stats

    def prometheus_collector(self) -> Collector | None:
        """The running streamer's StreamStats collector (for /metrics), if it runs."""
        if not self.running or self._streamer is None:
            return None
        return self._streamer.stats.prometheus_collector()

    def recent_events(self, limit: int) -> list[EventEnvelope]:
        """The newest envelopes sent (built from generated facts only: nothing to redact)."""
        if self._streamer is None:
            return []
        return self._streamer.recent_events(limit=limit)

    # -------------------------------------------------------------- connections
    def validate_connection(self, text: str | None) -> ConnectionValidation:
        source = "request"
        if text is None or not text.strip():
            secret = resolve_connection_string(self.config.config)
            if secret is None:
                return ConnectionValidation(
                    valid=False,
                    source="none",
                    error="no connection string is configured (set "
                    "AZURE_EVENTHUB_CONNECTION_STRING or realtime.azure_connection_string)",
                )
            text, source = secret.get_secret_value(), "configured"
        keys = _SECRET_VALUE.findall(text)
        try:
            info = describe_connection_string(text)
        except (UserError, ValueError) as exc:
            error = redact(str(exc), [text, *keys])
            return ConnectionValidation(valid=False, source=source, error=error)
        return ConnectionValidation(valid=True, source=source, info=_masked(info, keys))

    async def test_connection(self, url: str) -> ConnectionTestResult:
        """Contact the destination (the probe a stream runs before it starts), within
        ``CONNECTION_TEST_TIMEOUT``; ok only when it answered. Errors are redacted."""
        began = time.monotonic()
        checked = self.checked_sink(url)
        result = await check_sink(
            checked, self.config.config, data_dir=self.root, timeout=CONNECTION_TEST_TIMEOUT
        )
        return ConnectionTestResult(
            ok=result["ok"],
            sink=redact(url.strip()),
            error=result["error"],
            detail=_redacted(result["detail"]) if result["detail"] is not None else None,
            seconds=round(time.monotonic() - began, 3),
        )

    # -------------------------------------------------------------- dead letters
    def dead_letters(self, limit: int, offset: int, event_type: str | None) -> DeadLetterList:
        store = DeadLetterStore(self.root)
        items = store.list(limit=limit, offset=offset, event_type=event_type)
        return DeadLetterList(count=store.count(), items=items)

    async def replay(self, url: str, ids: list[int] | None) -> ReplayResponse:
        store = DeadLetterStore(self.root)
        sink = open_sink(self.checked_sink(url), self.config.config, data_dir=self.root)
        await sink.open()
        try:
            result = await store.replay(sink, ids=ids)
        finally:
            with contextlib.suppress(Exception):
                await sink.close()
        return ReplayResponse(result=result)

    # -------------------------------------------------------------- disruptions
    def list_disruptions(self, active_at: datetime | None) -> list[DisruptionInfo]:
        return [_info(d) for d in DisruptionService(self.root).list(active_at=active_at)]

    def create_disruption(self, request: DisruptionCreate) -> DisruptionInfo:
        try:
            return _info(DisruptionService(self.root).create(**request.model_dump()))
        except DataStateError:
            raise
        except UserError as exc:  # a bad window, target type or a target that does not exist
            raise InvalidInput(str(exc)) from None

    def delete_disruption(self, disruption_id: str) -> DisruptionInfo:
        try:
            return _info(DisruptionService(self.root).delete(disruption_id))
        except UserError as exc:
            raise NotFound(str(exc)) from None

    def clear_disruptions(self) -> int:
        return DisruptionService(self.root).clear()


def _check_event_types(event_types: list[str] | None) -> None:
    unknown = sorted(set(event_types or ()) - set(EVENT_TYPES))
    if unknown:
        raise UserError(
            f"event_types: unknown {', '.join(unknown)}; known: {', '.join(sorted(EVENT_TYPES))}"
        )


def _start_error(exc: BaseException) -> UserError | None:
    """The error a start request reports: the user's (400/409) or an unreachable sink's
    (503); None for a crash (logged, shown in the status)."""
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, SinkUnreachableError):
        return Unavailable(f"the sink is not reachable: {redact(str(exc))}")
    return None


def _info(disruption: Disruption) -> DisruptionInfo:
    return DisruptionInfo.model_validate(disruption.model_dump())


def _masked(info: ConnectionInfo, secrets: list[str]) -> ConnectionInfo:
    """Defence in depth: ``info`` with any literal secret masked wherever it appears."""
    return dataclasses.replace(
        info,
        endpoint=redact(info.endpoint, secrets),
        namespace=redact(info.namespace, secrets),
        entity_path=redact(info.entity_path, secrets) if info.entity_path else None,
        key_name=redact(info.key_name, secrets) if info.key_name else None,
    )


def _redacted(value: Any) -> Any:
    """``value`` (what a destination said) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value
