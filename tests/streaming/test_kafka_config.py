"""Kafka producer configuration for plain brokers and the Event Hubs / Fabric Kafka presets.

SASL_SSL/PLAIN cannot run locally, so the presets are validated by confluent-kafka itself (the
``Producer`` must accept the configuration) plus an optional live test that runs only with a
real connection string in the environment.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Producer

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks import kafka_config, open_sink
from retail_datagen.streaming.sinks.kafka import KafkaSink
from retail_datagen.streaming.sinks.urls import kafka_target

KEY = "c2VjcmV0LWtleS12YWx1ZS1mb3ItdGVzdHM="
EVENTHUBS = (
    "Endpoint=sb://contoso-ns.servicebus.windows.net/;SharedAccessKeyName=send;"
    f"SharedAccessKey={KEY};EntityPath=retail-events"
)
NAMESPACE_LEVEL = f"Endpoint=sb://contoso-ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={KEY}"
FABRIC = (
    "Endpoint=sb://eventstream-1a2b3c4d.servicebus.windows.net/;SharedAccessKeyName=key_123;"
    f"SharedAccessKey={KEY};EntityPath=es_5f6e7d8c"
)
LIVE_CONNECTION = os.environ.get("AZURE_EVENTHUB_CONNECTION_STRING", "")
LIVE_KAFKA = os.environ.get("RETAIL_DATAGEN_LIVE_KAFKA", "")


def accept(conf: dict[str, Any]) -> None:
    """confluent-kafka validates every property when the producer is built (no I/O needed)."""
    producer = Producer(dict(conf, **{"socket.connection.setup.timeout.ms": 1000}))
    producer.purge()
    producer.flush(0)


def test_plain_broker_config_is_idempotent_and_acks_all() -> None:
    conf = kafka_config("kafka://127.0.0.1:9092/orders", RetailConfig(), None)
    assert conf["bootstrap.servers"] == "127.0.0.1:9092"
    assert conf["enable.idempotence"] is True
    assert conf["acks"] == "all"
    assert 0 <= conf["linger.ms"] <= 5
    assert "security.protocol" not in conf
    accept(conf)
    assert kafka_target("kafka://127.0.0.1:9092/orders", RetailConfig(), None).topic == "orders"


def test_topic_defaults_to_the_configured_hub_and_options_pass_through() -> None:
    cfg = RetailConfig.from_mapping({"stream": {"hub": "my-hub"}})
    target = kafka_target(
        "kafka://b1:9092,b2/?compression=lz4&linger.ms=7&timeout_ms=2000", cfg, None
    )
    assert target.topic == "my-hub"
    assert target.bootstrap == "b1:9092,b2:9092"
    conf = target.producer_config
    assert conf["compression.type"] == "lz4"
    assert conf["linger.ms"] == "7"
    assert conf["message.timeout.ms"] == 2000
    assert target.timeout_seconds == pytest.approx(7.0)
    accept(conf)


@pytest.mark.parametrize(
    ("preset", "connection", "host", "topic"),
    [
        ("eventhubs", EVENTHUBS, "contoso-ns.servicebus.windows.net", "retail-events"),
        ("fabric", FABRIC, "eventstream-1a2b3c4d.servicebus.windows.net", "es_5f6e7d8c"),
    ],
)
def test_presets_use_sasl_ssl_plain_with_the_connection_string(
    preset: str, connection: str, host: str, topic: str
) -> None:
    url = f"kafka:///?preset={preset}&compression=gzip"
    target = kafka_target(url, RetailConfig(), connection)
    conf = target.producer_config
    assert conf["bootstrap.servers"] == f"{host}:9093"
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "PLAIN"
    assert conf["sasl.username"] == "$ConnectionString"
    assert conf["sasl.password"] == connection
    assert conf["compression.type"] == "gzip"
    assert target.topic == topic  # the EntityPath
    accept(conf)
    # the secret stays out of everything that gets printed or logged
    for text in (target.name, repr(target), str(target)):
        assert KEY not in text


def test_preset_without_entity_path_uses_url_topic_or_hub() -> None:
    assert (
        kafka_target("kafka:///hub-a?preset=eventhubs", RetailConfig(), NAMESPACE_LEVEL).topic
        == "hub-a"
    )
    assert kafka_target("kafka://?preset=eventhubs", RetailConfig(), NAMESPACE_LEVEL).topic == (
        "retail-events"
    )


def test_entity_path_wins_and_a_different_name_is_an_error() -> None:
    with pytest.raises(UserError, match="EntityPath") as err:
        kafka_target("kafka:///other?preset=eventhubs", RetailConfig(), EVENTHUBS)
    assert KEY not in str(err.value)
    explicit = RetailConfig.from_mapping({"stream": {"hub": "something-else"}})
    with pytest.raises(UserError, match=r"stream\.hub"):
        kafka_target("kafka://?preset=eventhubs", explicit, EVENTHUBS)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("kafka://?preset=azure", "preset"),
        ("kafka://?preset=eventhubs&compression=lz4", "compression"),
        ("kafka://host:notaport/t", "port"),
        ("kafka://host:9092/bad topic", "topic"),
        ("kafka:///topic", "host"),
        ("kafka://h/t?colour=red", "colour"),
        ("kafka://h/t?idempotence=maybe", "idempotence"),
    ],
)
def test_bad_kafka_urls_name_the_part(url: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment) as err:
        kafka_target(url, RetailConfig(), EVENTHUBS)
    assert "accepted forms" in str(err.value) or "preset" in str(err.value)


def test_preset_needs_a_connection_string(no_secret_env: None) -> None:
    with pytest.raises(UserError, match="connection string"):
        open_sink("kafka://?preset=fabric", RetailConfig())


def test_open_sink_reads_the_connection_string_from_the_environment(
    no_secret_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", FABRIC)
    sink = open_sink("kafka://?preset=fabric", RetailConfig())
    assert isinstance(sink, KafkaSink)
    assert (
        sink.name
        == "kafka://eventstream-1a2b3c4d.servicebus.windows.net:9093/es_5f6e7d8c?preset=fabric"
    )
    assert KEY not in sink.name


def test_rejected_librdkafka_option_is_a_user_error() -> None:
    sink = open_sink("kafka://127.0.0.1:9092/t?no.such.property=1", RetailConfig())
    with pytest.raises(UserError, match=r"no\.such\.property"):
        asyncio.run(sink.open())


@pytest.mark.skipif(
    not LIVE_CONNECTION,
    reason="live test: set AZURE_EVENTHUB_CONNECTION_STRING (and RETAIL_DATAGEN_LIVE_KAFKA="
    "eventhubs|fabric) to send through a real Event Hubs / Fabric Kafka endpoint",
)
def test_live_preset_sends_through_the_real_kafka_endpoint(
    make_events: Callable[..., list[Event]],
) -> None:  # pragma: no cover - needs Azure
    preset = LIVE_KAFKA if LIVE_KAFKA in ("eventhubs", "fabric") else "eventhubs"
    cfg = RetailConfig.from_mapping({"realtime": {"azure_connection_string": LIVE_CONNECTION}})
    sink = open_sink(f"kafka://?preset={preset}", cfg)

    async def send() -> None:
        await sink.open()
        try:
            await sink.send(make_events(20, prefix="LIVE"))
        finally:
            await sink.close()

    asyncio.run(send())
    assert json.loads(make_events(1, prefix="LIVE")[0].body)["source"] == "retail-datagen"
