"""Event destinations behind one small interface (``base.Sink``), chosen by URL.

``open_sink(url, config)`` is the one entry point the streamer, the CLI and the API use; the URL
forms are documented in :mod:`retail_datagen.streaming.sinks.urls` and docs/STREAMING.md.
The Kafka and Event Hubs clients are optional dependencies, imported only when used.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from retail_datagen.config.models import RetailConfig
from retail_datagen.config.secrets import redact, resolve_connection_string
from retail_datagen.errors import UserError
from retail_datagen.streaming.sinks.base import Sink, SinkError
from retail_datagen.streaming.sinks.urls import (
    ACCEPTED_FORMS,
    eventhub_target,
    file_target,
    kafka_config,
    kafka_target,
    sink_scheme,
)

__all__ = ["ACCEPTED_FORMS", "Sink", "SinkError", "check_sink", "kafka_config", "open_sink"]

_INSTALL = "install the streaming extras: pip install 'retail-datagen[stream]'"


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


async def check_sink(
    url: str, config: RetailConfig, *, data_dir: Path | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """Can ``url`` be reached? For the API's connection test; never raises, never leaks secrets.

    Kafka: the broker answers a metadata request for the topic. Event Hubs: the hub answers a
    management READ (its partitions). Files: the folder can be created and the file opened.
    Returns ``{"ok", "sink", "detail", "error"}``.
    """
    try:
        sink = open_sink(url, config, data_dir=data_dir)
    except UserError as exc:
        return {"ok": False, "sink": None, "detail": None, "error": redact(str(exc))}
    name = redact(sink.name)
    try:
        detail = await asyncio.wait_for(_probe(sink, timeout), timeout + 1)
    except TimeoutError:
        return {"ok": False, "sink": name, "detail": None, "error": f"no answer in {timeout:g} s"}
    except Exception as exc:  # any failure is the answer to "can it be reached?"
        error = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        return {
            "ok": False,
            "sink": name,
            "detail": None,
            "error": f"{type(exc).__name__}: {error}",
        }
    return {"ok": True, "sink": name, "detail": detail, "error": None}


async def _probe(sink: Sink, timeout: float) -> dict[str, Any]:
    from retail_datagen.streaming.sinks.file import FileSink

    if isinstance(sink, FileSink):
        await sink.open()
        await sink.close()
        return {"path": str(sink.path)}
    if sink.name == "stdout":
        return {}
    if sink.name.startswith("kafka://"):
        from confluent_kafka import Producer

        from retail_datagen.streaming.sinks.kafka import KafkaSink

        assert isinstance(sink, KafkaSink)
        quiet = logging.getLogger("retail_datagen.streaming.sinks.librdkafka")
        producer = Producer(dict(sink.target.producer_config, logger=quiet))
        metadata = await asyncio.to_thread(producer.list_topics, sink.topic, timeout)
        topic = metadata.topics.get(sink.topic)
        return {
            "brokers": len(metadata.brokers),
            "topic": sink.topic,
            "partitions": len(topic.partitions) if topic is not None else 0,
        }
    from retail_datagen.streaming.sinks.eventhub import EventHubSink

    assert isinstance(sink, EventHubSink)
    await sink.open()
    try:
        properties = await sink.properties()
    finally:
        await sink.close()
    return properties
