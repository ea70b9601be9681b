"""Sink URLs → what to open: pure parsing and validation, no network and no optional imports.

Accepted forms (``ACCEPTED_FORMS``)::

    stdout
    file:///abs/path/events.jsonl[?gzip=true&max_bytes=104857600&gzip_level=6]
    file:stream/events.jsonl                        (relative to the data folder)
    kafka://host:port[,host:port]/topic[?compression=lz4&message.timeout.ms=30000&…]
    kafka:///topic?preset=eventhubs|fabric          (host and credentials from the
                                                     connection string; port 9093)
    eventhub | eventhub://<hub>[?namespace=<fqdn>&timeout=60]

File sinks never write over the data folder's own files: inside the data folder only its
``stream/`` subfolder is allowed (``STREAM_FOLDER``); anywhere outside it is fine.

Hub / topic rules: an ``EntityPath`` in the connection string wins; a hub named in the URL, or
set explicitly in ``stream.hub``, that differs from it is an error (it would silently send
somewhere else). Without an EntityPath the URL's hub, else ``stream.hub``, is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import SecretStr

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError
from retail_datagen.streaming.credentials import ConnectionInfo, describe_connection_string

__all__ = [
    "ACCEPTED_FORMS",
    "STREAM_FOLDER",
    "EventHubTarget",
    "FileTarget",
    "KafkaTarget",
    "eventhub_target",
    "file_target",
    "kafka_config",
    "kafka_target",
    "sink_scheme",
]

ACCEPTED_FORMS = (
    "stdout | file:///abs/path/events.jsonl[?gzip=true&max_bytes=N] | "
    "kafka://host:port/topic[?preset=eventhubs|fabric] | eventhub | eventhub://<hub>"
)
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
KAFKA_PRESETS = ("eventhubs", "fabric")
_PRESET_COMPRESSION = ("none", "gzip")  # what the Event Hubs / Fabric Kafka endpoints accept
_KAFKA_COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")


def _fail(url_kind: str, part: str, problem: str) -> UserError:
    return UserError(f"sink URL {url_kind}: {part} {problem}; accepted forms: {ACCEPTED_FORMS}")


def sink_scheme(url: str) -> str:
    """``stdout`` / ``file`` / ``kafka`` / ``eventhub`` — or a UserError naming the scheme."""
    text = url.strip()
    if not text:
        raise UserError(f"sink URL is empty; accepted forms: {ACCEPTED_FORMS}")
    scheme = re.split(r"[:?]", text, maxsplit=1)[0].lower()
    aliases = {"eventhubs": "eventhub", "stdout": "stdout", "-": "stdout"}
    scheme = aliases.get(scheme, scheme)
    if scheme not in ("stdout", "file", "kafka", "eventhub"):
        raise UserError(
            f"sink URL scheme {scheme!r} is not supported; accepted forms: {ACCEPTED_FORMS}"
        )
    return scheme


def _options(kind: str, query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in options:
            raise _fail(kind, f"option {key!r}", "is given twice")
        options[key] = value
    return options


def _bool(kind: str, key: str, value: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise _fail(kind, f"option {key}={value!r}", "must be true or false")


def _positive_int(kind: str, key: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _fail(kind, f"option {key}={value!r}", "must be a whole number") from None
    if number <= 0:
        raise _fail(kind, f"option {key}={value!r}", "must be greater than 0")
    return number


def _unknown(kind: str, options: dict[str, str], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(options) - set(allowed))
    if extra:
        raise _fail(kind, f"option {extra[0]!r}", f"is unknown (allowed: {', '.join(allowed)})")


# ---------------------------------------------------------------------------------------- file
STREAM_FOLDER = "stream"  # the data folder's only subfolder a file sink may write into


@dataclass(frozen=True)
class FileTarget:
    path: Path
    gzip: bool = False
    max_bytes: int | None = None
    gzip_level: int = 6


def file_target(url: str, *, data_dir: Path | None = None) -> FileTarget:
    """``file:///abs/events.jsonl?gzip=true&max_bytes=N`` (or ``file:relative.jsonl``)."""
    parts = urlsplit(url.strip())
    raw_path = unquote(parts.path)
    if parts.netloc in ("", "localhost") and raw_path.startswith("/"):
        path = Path(raw_path)
    elif parts.netloc == "." or (not parts.netloc and raw_path):
        relative = raw_path.lstrip("/") if parts.netloc == "." else raw_path
        path = (data_dir or Path.cwd()) / relative
    else:
        raise _fail("file", "path", "is missing or has a host (use file:///absolute/path.jsonl)")
    if not path.name or raw_path.endswith("/"):
        raise _fail("file", f"path {raw_path!r}", "must name a file, not a folder")
    options = _options("file", parts.query)
    _unknown("file", options, ("gzip", "max_bytes", "gzip_level"))
    gzip = _bool("file", "gzip", options["gzip"]) if "gzip" in options else False
    max_bytes = (
        _positive_int("file", "max_bytes", options["max_bytes"]) if "max_bytes" in options else None
    )
    level = 6
    if "gzip_level" in options:
        level = _positive_int("file", "gzip_level", options["gzip_level"])
        if level > 9:
            raise _fail("file", f"option gzip_level={level}", "must be between 1 and 9")
    resolved = path.expanduser().resolve()
    if data_dir is not None:
        _outside_own_files(resolved, data_dir)
    return FileTarget(path=resolved, gzip=gzip, max_bytes=max_bytes, gzip_level=level)


def _outside_own_files(path: Path, data_dir: Path) -> None:
    """Refuse a file sink inside the data folder but not under its ``stream/`` subfolder
    (it could overwrite generation_state.json, retail.duckdb or a fact file)."""
    root = data_dir.expanduser().resolve()
    allowed = root / STREAM_FOLDER
    if path.is_relative_to(root) and not path.is_relative_to(allowed):
        raise UserError(
            f"sink URL file: {path} is inside the data folder {root}, where file sinks may "
            f"only write under {STREAM_FOLDER}/ (use file:{STREAM_FOLDER}/{path.name}) or "
            "outside the data folder"
        )


# ---------------------------------------------------------------------------------------- hubs
def _configured_hub(config: RetailConfig) -> str | None:
    """``stream.hub`` when the user set it (not the default), else None."""
    return config.stream.hub if "hub" in config.stream.model_fields_set else None


def _entity_hub(
    kind: str, info: ConnectionInfo | None, url_hub: str | None, config: RetailConfig
) -> str:
    """The hub/topic after the EntityPath-wins rule (see the module docstring)."""
    entity = info.entity_path if info else None
    if entity:
        if url_hub and url_hub != entity:
            raise UserError(
                f"sink URL {kind}: names {url_hub!r} but the connection string's EntityPath is "
                f"{entity!r}; drop the name from the URL or use a namespace-level connection string"
            )
        configured = _configured_hub(config)
        if configured and configured != entity:
            raise UserError(
                f"stream.hub = {configured!r} but the connection string's EntityPath is "
                f"{entity!r}; the EntityPath wins, so remove stream.hub or make them equal"
            )
        return entity
    return url_hub or config.stream.hub


def _secret(value: SecretStr | str | None) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return text.strip() or None


# ---------------------------------------------------------------------------------------- kafka
@dataclass(frozen=True)
class KafkaTarget:
    """Where and how to produce; ``producer_config`` holds the password, so it is not in repr."""

    bootstrap: str
    topic: str
    preset: Literal["eventhubs", "fabric"] | None
    producer_config: dict[str, Any] = field(repr=False)
    timeout_seconds: float = 35.0  # how long send() waits for its delivery reports
    stall_seconds: float = 3.0  # no delivery report for this long: the producer is stuck

    @property
    def name(self) -> str:
        suffix = f"?preset={self.preset}" if self.preset else ""
        return f"kafka://{self.bootstrap}/{self.topic}{suffix}"


def _bootstrap(netloc: str, default_port: int) -> str:
    servers = []
    for part in netloc.split(","):
        part = part.strip()
        if not part:
            continue
        host, sep, port = part.rpartition(":") if not part.endswith("]") else (part, "", "")
        if not sep:
            host, port = part, str(default_port)
        if not _HOST.match(host):
            raise _fail("kafka", f"host {host!r}", "is not a valid host name")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise _fail("kafka", f"port {port!r}", "must be a number between 1 and 65535")
        servers.append(f"{host}:{port}")
    return ",".join(servers)


def kafka_target(
    url: str, config: RetailConfig, connection_string: SecretStr | str | None
) -> KafkaTarget:
    """Parse a ``kafka://`` URL into a producer configuration and topic (no network)."""
    parts = urlsplit(url.strip())
    options = _options("kafka", parts.query)
    named = ("preset", "compression", "idempotence", "timeout_ms")
    for key in options:
        if key not in named and "." not in key:
            raise _fail(
                "kafka",
                f"option {key!r}",
                f"is unknown (allowed: {', '.join(named)}, or any librdkafka property such as "
                "linger.ms)",
            )
    preset = options.get("preset", "").lower() or None
    if preset is not None and preset not in KAFKA_PRESETS:
        raise _fail(
            "kafka", f"option preset={preset!r}", f"must be one of {', '.join(KAFKA_PRESETS)}"
        )
    url_topic = unquote(parts.path.lstrip("/")) or None
    if url_topic is not None and not _TOPIC.match(url_topic):
        raise _fail(
            "kafka", f"topic {url_topic!r}", "may only use letters, digits, '.', '_' and '-'"
        )
    compression = options.get("compression", "none").lower()
    allowed = _PRESET_COMPRESSION if preset else _KAFKA_COMPRESSION
    if compression not in allowed:
        raise _fail(
            "kafka", f"option compression={compression!r}", f"must be one of {', '.join(allowed)}"
        )
    idempotence = (
        _bool("kafka", "idempotence", options["idempotence"]) if "idempotence" in options else True
    )
    timeout_ms = (
        _positive_int("kafka", "timeout_ms", options["timeout_ms"])
        if "timeout_ms" in options
        else 30_000
    )

    conf: dict[str, Any] = {
        "client.id": "retail-datagen",
        "enable.idempotence": idempotence,
        "acks": "all",
        # send() hands librdkafka whole batches and waits for them: lingering only adds latency
        "linger.ms": 0,
        "compression.type": compression,
        "message.timeout.ms": timeout_ms,
        "queue.buffering.max.messages": 500_000,
        # reconnect at least every second while a broker is away: delivery resumes promptly
        "reconnect.backoff.max.ms": 1_000,
    }
    secret = _secret(connection_string)
    if preset is None:
        if not parts.netloc:
            raise _fail(
                "kafka", "host", "is missing (kafka://host:port/topic), or add ?preset=eventhubs"
            )
        bootstrap = _bootstrap(parts.netloc, 9092)
        topic = url_topic or config.stream.hub
    else:
        if secret is None:
            raise UserError(
                f"sink URL kafka: preset {preset} needs an Event Hubs connection string; set "
                "AZURE_EVENTHUB_CONNECTION_STRING (or realtime.azure_connection_string / Key Vault)"
            )
        info = describe_connection_string(secret)
        bootstrap = _bootstrap(parts.netloc, 9093) if parts.netloc else f"{info.host}:9093"
        topic = _entity_hub("kafka", info, url_topic, config)
        conf.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "PLAIN",
                "sasl.username": "$ConnectionString",
                "sasl.password": secret,
                # the Event Hubs recommendations for librdkafka clients
                "socket.keepalive.enable": True,
                "metadata.max.age.ms": 180_000,
                "connections.max.idle.ms": 180_000,
                "request.timeout.ms": 60_000,
                "message.max.bytes": 1_000_000,
                # over the WAN a few ms buy fewer, fuller requests (the service limits requests)
                "linger.ms": 5,
            }
        )
        if timeout_ms < 60_000 and "timeout_ms" not in options:
            conf["message.timeout.ms"] = 120_000
    conf["bootstrap.servers"] = bootstrap
    for key, value in options.items():
        if "." in key:
            conf[key] = value
    wait = float(conf["message.timeout.ms"]) / 1000 + 5.0
    return KafkaTarget(
        bootstrap=bootstrap,
        topic=topic,
        preset=preset,  # type: ignore[arg-type]
        producer_config=conf,
        timeout_seconds=wait,
        # a cloud endpoint may throttle for a while; a local broker answers in milliseconds
        stall_seconds=3.0 if preset is None else 20.0,
    )


def kafka_config(
    url: str, config: RetailConfig, connection_string: SecretStr | str | None
) -> dict[str, Any]:
    """The confluent-kafka ``Producer`` configuration for ``url`` (pure: no network).

    Contains the SASL password for the presets — pass it to ``Producer`` only; never log it.
    """
    return dict(kafka_target(url, config, connection_string).producer_config)


# ---------------------------------------------------------------------------------------- eventhub
@dataclass(frozen=True)
class EventHubTarget:
    """An Event Hub to send to: by connection string, or by namespace + Entra ID credential."""

    hub: str
    namespace: str  # fully qualified host, e.g. "myns.servicebus.windows.net" (or host:port)
    info: ConnectionInfo | None  # None when signing in with a credential
    connection_string: str | None = field(default=None, repr=False)
    timeout_seconds: float = 60.0

    @property
    def kind(self) -> str:
        return self.info.kind if self.info else "eventhubs"

    @property
    def name(self) -> str:
        return f"eventhub://{self.namespace}/{self.hub}"


def eventhub_target(
    url: str, config: RetailConfig, connection_string: SecretStr | str | None
) -> EventHubTarget:
    """Parse ``eventhub`` / ``eventhub://<hub>?namespace=…&timeout=…`` (no network)."""
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        url_hub = unquote(parts.netloc + parts.path).strip("/") or None
        query = parts.query
    else:
        base, _, query = text.partition("?")
        if base.lower().rstrip(":") not in ("eventhub", "eventhubs"):
            raise _fail("eventhub", "form", "is not recognised")
        url_hub = None
    options = _options("eventhub", query)
    _unknown("eventhub", options, ("namespace", "timeout"))
    if url_hub is not None and not _TOPIC.match(url_hub):
        raise _fail(
            "eventhub", f"hub {url_hub!r}", "may only use letters, digits, '.', '_' and '-'"
        )
    timeout = 60.0
    if "timeout" in options:
        timeout = float(_positive_int("eventhub", "timeout", options["timeout"]))
    namespace_option = options.get("namespace", "").strip() or None
    secret = _secret(connection_string)
    if secret is not None:
        info = describe_connection_string(secret)
        if namespace_option and namespace_option.lower() != info.host.lower():
            raise UserError(
                f"sink URL eventhub: namespace {namespace_option!r} differs from the connection "
                f"string's endpoint {info.host!r}; drop ?namespace= or fix the connection string"
            )
        hub = _entity_hub("eventhub", info, url_hub, config)
        return EventHubTarget(hub, info.endpoint, info, secret, timeout)
    if namespace_option is None:
        raise UserError(
            "sink URL eventhub: no connection string is configured (Key Vault, "
            "AZURE_EVENTHUB_CONNECTION_STRING or realtime.azure_connection_string) and no "
            "?namespace=<name>.servicebus.windows.net to sign in with Entra ID"
        )
    if not _HOST.match(namespace_option):
        raise _fail("eventhub", f"namespace {namespace_option!r}", "is not a host name")
    hub = url_hub or config.stream.hub
    return EventHubTarget(hub, namespace_option, None, None, timeout)
