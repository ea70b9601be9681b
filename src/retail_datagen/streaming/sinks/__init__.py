"""Event destinations behind one small interface (``base.Sink``), chosen by URL.

``open_sink(url, config)`` is the one entry point the streamer, the CLI and the API use; the URL
forms are documented in :mod:`retail_datagen.streaming.sinks.urls` and docs/STREAMING.md.
The Kafka and Event Hubs clients are core dependencies, imported only when used (start-up
stays fast).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from retail_datagen.config.models import RetailConfig
from retail_datagen.config.secrets import redact, resolve_connection_string
from retail_datagen.errors import UserError
from retail_datagen.streaming.sinks.base import Sink, SinkError, SinkUnreachableError
from retail_datagen.streaming.sinks.urls import (
    ACCEPTED_FORMS,
    eventhub_target,
    file_target,
    kafka_config,
    kafka_target,
    sink_scheme,
)

__all__ = [
    "ACCEPTED_FORMS",
    "PROBE_TIMEOUT",
    "Sink",
    "SinkCheck",
    "SinkError",
    "SinkUnreachableError",
    "check_sink",
    "kafka_config",
    "open_sink",
    "probe_sink",
]

_INSTALL = "it is a dependency of retail-datagen: reinstall it (pip install retail-datagen)"


def open_sink(url: str, config: RetailConfig, *, data_dir: Path | None = None) -> Sink:
    """The sink for ``url`` (not yet opened: call ``await sink.open()``).

    Bad URLs raise :class:`UserError` naming the part and listing the accepted forms.
    ``data_dir`` anchors relative ``file:`` paths (default: the current folder).
    """
    scheme = sink_scheme(url)
    if scheme == "stdout":
        from retail_datagen.streaming.sinks.stdout import StdoutSink

        return StdoutSink()
    if scheme == "file":
        from retail_datagen.streaming.sinks.file import FileSink

        target = file_target(url, data_dir=data_dir)
        return FileSink(
            target.path, gzip=target.gzip, max_bytes=target.max_bytes, gzip_level=target.gzip_level
        )
    if scheme == "kafka":
        needs_secret = "preset=" in url.lower()
        secret = resolve_connection_string(config) if needs_secret else None
        kafka = kafka_target(url, config, secret)
        try:
            from retail_datagen.streaming.sinks.kafka import KafkaSink
        except ImportError:
            raise UserError(f"the kafka sink needs confluent-kafka; {_INSTALL}") from None
        return KafkaSink(kafka)
    hub = eventhub_target(url, config, resolve_connection_string(config))
    try:
        from retail_datagen.streaming.sinks.eventhub import EventHubSink
    except ImportError:
        raise UserError(f"the eventhub sink needs azure-eventhub; {_INSTALL}") from None
    return EventHubSink(hub)


PROBE_TIMEOUT = 5.0  # seconds a destination has to answer before a stream starts


async def probe_sink(sink: Sink, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Contact the destination once, within ``timeout`` seconds; what it said, as a dict.

    Kafka: the broker answers a metadata request for the topic. Event Hubs: the hub answers a
    management read (its partitions). Files: the folder exists (or can be created) and is
    writable. Raises :class:`SinkUnreachableError` (one line, secrets redacted) otherwise.
    """
    from retail_datagen.streaming.sinks.file import FileSink

    if isinstance(sink, FileSink):
        return await asyncio.to_thread(_probe_folder, sink.path)
    if sink.name.startswith("kafka://"):
        from retail_datagen.streaming.sinks.kafka import KafkaSink, probe

        assert isinstance(sink, KafkaSink)
        return await probe(sink.target, timeout)
    if sink.name.startswith("eventhub"):
        return await _probe_hub(sink, timeout)
    return {}


async def _probe_hub(sink: Sink, timeout: float) -> dict[str, Any]:
    from retail_datagen.streaming.sinks.eventhub import EventHubSink

    assert isinstance(sink, EventHubSink)
    probe = EventHubSink(sink.target)  # its own client: the stream's opens when it starts
    try:
        await probe.open()
        return await asyncio.wait_for(probe.properties(), timeout)
    except TimeoutError:
        raise SinkUnreachableError(
            f"event hub {redact(sink.name)} did not answer within {timeout:g} s"
        ) from None
    except UserError:
        raise
    except Exception as exc:
        raise SinkUnreachableError(
            f"event hub {redact(sink.name)} is not reachable: {type(exc).__name__}: "
            f"{_first_line(exc)}"
        ) from None
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(probe.close(), 2.0)


def _probe_folder(path: Path) -> dict[str, Any]:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SinkUnreachableError(f"cannot create {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SinkUnreachableError(f"the folder {folder} is not writable")
    return {"path": str(path)}


class SinkCheck(TypedDict):
    """The answer of :func:`check_sink` (redacted)."""

    ok: bool  # the destination answered
    sink: str | None  # its name; None when the URL could not be opened
    detail: dict[str, Any] | None  # what it said (brokers/partitions, hub partitions, path)
    error: str | None


async def check_sink(
    url: str, config: RetailConfig, *, data_dir: Path | None = None, timeout: float = 10.0
) -> SinkCheck:
    """Can ``url`` be reached? For the API's connection test; never raises, never leaks secrets.

    The same probe a stream runs before it starts (:func:`probe_sink`).
    """
    try:
        sink = open_sink(url, config, data_dir=data_dir)
    except UserError as exc:
        return SinkCheck(ok=False, sink=None, detail=None, error=redact(str(exc)))
    name = redact(sink.name)
    try:
        detail = await asyncio.wait_for(probe_sink(sink, timeout), timeout + 1)
    except TimeoutError:
        return SinkCheck(ok=False, sink=name, detail=None, error=f"no answer in {timeout:g} s")
    except Exception as exc:  # any failure is the answer to "can it be reached?"
        error = _first_line(exc)
        if not isinstance(exc, SinkError | UserError):
            error = f"{type(exc).__name__}: {error}"
        return SinkCheck(ok=False, sink=name, detail=None, error=error)
    return SinkCheck(ok=True, sink=name, detail=detail, error=None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else "")[:300]
