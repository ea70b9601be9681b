"""The live streamer, dead letters, disruptions and connection checks behind the API.

The streaming modules are imported lazily, on first use: the rest of the API works in a build
without them, and these routes answer 503 "streaming is not available in this build".
The streamer writes streamed days into the data folder, so it claims the folder's
:class:`DataGuard` like a data-changing task: generation and streaming never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from prometheus_client.registry import Collector

from retail_datagen.api.services.config_store import ConfigService
from retail_datagen.api.services.errors import InvalidInput, NotFound, Unavailable
from retail_datagen.api.services.paths import checked_sink_file
from retail_datagen.api.services.tasks import DataGuard, one_line_error
from retail_datagen.api.settings import ServerSettings
from retail_datagen.config.secrets import redact, resolve_connection_string
from retail_datagen.errors import DataStateError, UserError

__all__ = ["STREAMING_UNAVAILABLE", "StreamService", "redact_data", "streaming_module"]

STREAMING_UNAVAILABLE = "streaming is not available in this build"
STREAM_OWNER = "stream"
CONNECTION_TEST_TIMEOUT = 5.0  # the same as a stream's start-up probe
STOP_TIMEOUT = 30.0
START_GRACE = 0.5
START_WAIT = 7.0  # the streamer's sink probe answers within 5 s
_log = logging.getLogger("retail_datagen.api.streaming")
_SECRET_VALUE = re.compile(r"SharedAccess(?:Key|Signature)\s*=\s*([^;]+)", re.IGNORECASE)


def streaming_module(name: str) -> ModuleType:
    """Import ``retail_datagen.<name>`` or raise :class:`Unavailable` (HTTP 503)."""
    module = f"retail_datagen.{name}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module == missing or module.startswith(missing + "."):
            raise Unavailable(STREAMING_UNAVAILABLE) from None
        raise Unavailable(
            f"{STREAMING_UNAVAILABLE}: the package {missing!r} is missing "
            "(reinstall retail-datagen: pip install retail-datagen)"
        ) from None


def redact_data(value: Any) -> Any:
    """``value`` with every string redacted (statistics and events may name a sink)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    for method in ("to_dict", "model_dump"):
        fn = getattr(value, method, None)
        if callable(fn):
            out = fn(mode="json") if method == "model_dump" else fn()
            if isinstance(out, dict):
                return out
    raise TypeError(f"cannot turn {type(value).__name__} into a dict")


class StreamService:
    """At most one streamer per server; start/stop/status and the resilience helpers."""

    def __init__(self, settings: ServerSettings, config: ConfigService, guard: DataGuard) -> None:
        self.settings = settings
        self.config = config
        self.guard = guard
        self._streamer: Any = None
        self._task: asyncio.Task[None] | None = None
        self._sink_label: str | None = None
        self._started_at: datetime | None = None
        self._stopped_at: datetime | None = None
        self._params: dict[str, Any] = {}
        self._error: str | None = None
        self._start_error: UserError | None = None
        self._lock = asyncio.Lock()

    @property
    def root(self) -> Path:
        return self.config.root

    # -------------------------------------------------------------- availability
    @staticmethod
    def available() -> tuple[bool, str]:
        try:
            streaming_module("streaming.event_streamer")
        except Unavailable as exc:
            return False, str(exc)
        return True, ""

    def event_types(self) -> list[str]:
        events = streaming_module("streaming.events")
        return [str(t) for t in events.EVENT_TYPES]

    # -------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def checked_sink(self, sink: str) -> str:
        """A sink URL the server may use: file sinks only inside the data folder or an allowed
        directory (parsed by the sinks' own URL parser, so the check sees the real path)."""
        urls = streaming_module("streaming.sinks.urls")
        text = sink.strip()
        if urls.sink_scheme(text) == "file":
            target = urls.file_target(text, data_dir=self.root)
            checked_sink_file(target.path, self.root, self.settings.allowed_sink_dirs)
        return text

    async def start(self, params: dict[str, Any]) -> dict[str, Any]:
        """Start streaming in the background; 409 while a task or another stream runs."""
        module = streaming_module("streaming.event_streamer")
        async with self._lock:
            if self.running:
                raise DataStateError("the streamer is already running; stop it first")
            sink = self.checked_sink(str(params.get("sink") or "stdout"))
            event_types = params.get("event_types")
            if event_types:
                known = set(self.event_types())
                unknown = sorted(set(event_types) - known)
                if unknown:
                    raise UserError(
                        f"event_types: unknown {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(known))}"
                    )
            options = {
                k: params.get(k)
                for k in ("speed", "rate", "burst", "interval_ms", "duration")
                if params.get(k) is not None
            }
            from_now = bool(params.get("from_now"))
            self.guard.claim(STREAM_OWNER, "the streamer")
            try:
                streamer = module.EventStreamer(
                    self.config.config,
                    sink=sink,
                    event_types=event_types or None,
                    from_now=from_now,
                    **options,
                )
            except BaseException:
                self.guard.release(STREAM_OWNER)
                raise
            self._streamer = streamer
            self._sink_label = redact(sink)
            self._started_at = datetime.now(UTC)
            self._stopped_at = None
            self._error = None
            self._start_error = None
            self._params = {
                "sink": self._sink_label,
                "event_types": event_types,
                "from_now": from_now,
                **options,
            }
            self._task = asyncio.create_task(self._run(streamer), name="retail-datagen-stream")
        # a stream that cannot start (no history, a sink that does not answer its probe) fails
        # within moments: report that as this request's error rather than as a stopped stream
        ready = asyncio.ensure_future(streamer.ready.wait())
        try:
            await asyncio.wait({self._task, ready}, timeout=START_WAIT)
            await asyncio.wait({self._task}, timeout=START_GRACE)
        finally:
            ready.cancel()
        if self._task.done() and self._error is not None and self._start_error is not None:
            raise self._start_error
        return self.status()

    async def _run(self, streamer: Any) -> None:
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

    async def stop(self, timeout: float = STOP_TIMEOUT) -> dict[str, Any]:
        """Stop gracefully (the streamer flushes); cancel it when it does not end in time."""
        async with self._lock:
            task, streamer = self._task, self._streamer
            if task is None or task.done():
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

    def status(self) -> dict[str, Any]:
        available, message = self.available()
        return {
            "available": available,
            "running": self.running,
            "sink": self._sink_label,
            "started_at": self._started_at,
            "stopped_at": self._stopped_at,
            "params": self._params,
            "error": self._error,
            "message": message,
        }

    def statistics(self) -> dict[str, Any] | None:
        """The current (or last) streamer's statistics; None before any stream."""
        if self._streamer is None:
            return None
        try:
            stats = self._streamer.statistics()
        except Exception as exc:  # statistics must never break a page or /metrics
            return {"error": one_line_error(exc)}
        return redact_data(_as_dict(stats)) if stats is not None else None

    def prometheus_collector(self) -> Collector | None:
        """The running streamer's StreamStats collector (for /metrics), if it has one."""
        if not self.running:
            return None
        stats = getattr(self._streamer, "stats", None)
        make = getattr(stats, "prometheus_collector", None)
        collector = make() if callable(make) else None
        return collector if callable(getattr(collector, "collect", None)) else None

    def recent_events(self, limit: int) -> list[dict[str, Any]]:
        if self._streamer is None:
            return []
        events = self._streamer.recent_events(limit=limit)
        return [redact_data(_as_dict(e)) for e in events][-limit:]

    # -------------------------------------------------------------- connections
    def validate_connection(self, text: str | None) -> dict[str, Any]:
        credentials = streaming_module("streaming.credentials")
        source = "request"
        if text is None or not text.strip():
            secret = resolve_connection_string(self.config.config)
            if secret is None:
                return {
                    "valid": False,
                    "source": "none",
                    "info": None,
                    "error": "no connection string is configured (set "
                    "AZURE_EVENTHUB_CONNECTION_STRING or realtime.azure_connection_string)",
                }
            text, source = secret.get_secret_value(), "configured"
        try:
            info = credentials.describe_connection_string(text)
        except (UserError, ValueError) as exc:
            return {
                "valid": False,
                "source": source,
                "info": None,
                "error": redact(str(exc), [text, *_SECRET_VALUE.findall(text)]),
            }
        keys = _SECRET_VALUE.findall(text)
        return {
            "valid": True,
            "source": source,
            "info": _without(redact_data(_as_dict(info)), keys),
            "error": None,
        }

    async def open_sink(self, url: str) -> Any:
        sinks = streaming_module("streaming.sinks")
        checked = self.checked_sink(url)
        return sinks.open_sink(checked, self.config.config, data_dir=self.root)

    async def test_connection(self, url: str) -> dict[str, Any]:
        """Contact the destination (the probe a stream runs before it starts), within
        ``CONNECTION_TEST_TIMEOUT``; ok only when it answered. Errors are redacted."""
        sinks = streaming_module("streaming.sinks")
        began = time.monotonic()
        checked = self.checked_sink(url)
        result = await sinks.check_sink(
            checked, self.config.config, data_dir=self.root, timeout=CONNECTION_TEST_TIMEOUT
        )
        return {
            "ok": bool(result["ok"]),
            "sink": redact(url.strip()),
            "error": result["error"],
            "detail": redact_data(result["detail"]) if result["detail"] is not None else None,
            "seconds": round(time.monotonic() - began, 3),
        }

    # -------------------------------------------------------------- dead letters
    def _dead_letters(self) -> Any:
        module = streaming_module("streaming.dead_letters")
        return module.DeadLetterStore(self.root)

    def dead_letters(self, limit: int, offset: int, event_type: str | None) -> dict[str, Any]:
        store = self._dead_letters()
        items = store.list(limit=limit, offset=offset, event_type=event_type)
        return {"count": int(store.count()), "items": [redact_data(_as_dict(i)) for i in items]}

    async def replay(self, url: str, ids: list[int] | None) -> dict[str, Any]:
        store = self._dead_letters()
        sink = await self.open_sink(url)
        await sink.open()
        try:
            result = await store.replay(sink, ids=ids)
        finally:
            with contextlib.suppress(Exception):
                await sink.close()
        data = _as_dict(result) if not isinstance(result, int) else {"replayed": result}
        out: dict[str, Any] = redact_data(data)
        return out

    # -------------------------------------------------------------- disruptions
    def _disruptions(self) -> Any:
        module = streaming_module("disruptions")
        return module.DisruptionService(self.root)

    def list_disruptions(self, active_at: datetime | None) -> list[dict[str, Any]]:
        return [_as_dict(d) for d in self._disruptions().list(active_at=active_at)]

    def create_disruption(self, fields: dict[str, Any]) -> dict[str, Any]:
        service = self._disruptions()
        try:
            return _as_dict(service.create(**fields))
        except DataStateError:
            raise
        except UserError as exc:  # a bad window, target type or a target that does not exist
            raise InvalidInput(str(exc)) from None

    def delete_disruption(self, disruption_id: str) -> dict[str, Any]:
        service = self._disruptions()
        try:
            return _as_dict(service.delete(disruption_id))
        except UserError as exc:
            raise NotFound(str(exc)) from None

    def clear_disruptions(self) -> int:
        return int(self._disruptions().clear())


def _start_error(exc: BaseException) -> UserError | None:
    """The error a start request reports: the user's (400/409) or an unreachable sink's
    (503); None for a crash (logged, shown in the status)."""
    if isinstance(exc, UserError):
        return exc
    unreachable = streaming_module("streaming.sinks").SinkUnreachableError  # loaded by now
    if isinstance(exc, unreachable):
        return Unavailable(f"the sink is not reachable: {redact(str(exc))}")
    return None


def _without(value: Any, secrets: list[str]) -> Any:
    """Defence in depth: ``value`` with any literal secret masked wherever it appears."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _without(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, secrets) for v in value]
    return value
