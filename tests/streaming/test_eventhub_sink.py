"""The Event Hubs sink end to end: the real ``EventHubProducerClient`` talks AMQP 1.0 to the
local test endpoint (``amqp_endpoint.py``) through our sink and delivery pipeline."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from amqp_endpoint import AmqpTestEndpoint, FrameNormaliser, pad_performative

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError
from retail_datagen.streaming.dead_letters import DeadLetterStore
from retail_datagen.streaming.delivery import DeliveryPipeline
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks import open_sink
from retail_datagen.streaming.sinks.eventhub import EventHubSink
from retail_datagen.streaming.stats import StreamStats

EventFactory = Callable[..., list[Event]]


def config_for(endpoint: AmqpTestEndpoint, **realtime: Any) -> RetailConfig:
    return RetailConfig.from_mapping(
        {"realtime": {"azure_connection_string": endpoint.connection_string, **realtime}}
    )


def settle_log() -> tuple[list[tuple[list[Event], str]], Callable[[Sequence[Event], str], None]]:
    log: list[tuple[list[Event], str]] = []
    return log, lambda batch, outcome: log.append((list(batch), outcome))


async def test_events_arrive_with_store_key_and_event_type_property(
    eventhub_endpoint: AmqpTestEndpoint, make_events: EventFactory, no_secret_env: None
) -> None:
    cfg = config_for(eventhub_endpoint, max_batch_size=200, batch_timeout_ms=20)
    sink = open_sink("eventhub", cfg)
    assert isinstance(sink, EventHubSink)
    assert sink.hub == "retail-events"  # the EntityPath
    settled, on_settled = settle_log()
    pipe = DeliveryPipeline(sink, cfg.realtime, dead_letters=None, on_settled=on_settled)
    await pipe.start()
    events = make_events(1000)
    await pipe.put_many(events)
    await asyncio.wait_for(pipe.close(), 60)

    received = eventhub_endpoint.received
    assert len(received) == len(events)
    sent = {e.trace_id: e for e in events}
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, properties, body in received:
        envelope = json.loads(body)
        original = sent[envelope["trace_id"]]
        assert body == original.body
        assert key == original.partition_key
        assert properties == {"event_type": original.event_type}
        per_key[key].append(envelope["payload"]["seq"])
    assert all(seqs == sorted(seqs) for seqs in per_key.values())
    assert [e.trace_id for b, _ in settled for e in b] == [e.trace_id for e in events]
    assert eventhub_endpoint.tokens >= 1  # the SDK authenticated through $cbs


async def test_full_batches_are_split(
    eventhub_endpoint: AmqpTestEndpoint, make_events: EventFactory, no_secret_env: None
) -> None:
    cfg = config_for(eventhub_endpoint, max_batch_size=100)
    sink = open_sink("eventhub://retail-events", cfg)
    await sink.open()
    try:
        big = make_events(40, stores=1, body_bytes=60_000)  # 2.4 MB for one key, 1 MB limit
        await sink.send(big)
    finally:
        await sink.close()
    assert [json.loads(b)["trace_id"] for _, _, b in eventhub_endpoint.received] == [
        e.trace_id for e in big
    ]
    assert eventhub_endpoint.transfers >= 3


async def test_rejected_sends_are_retried_without_loss_or_duplicates(
    eventhub_endpoint: AmqpTestEndpoint, make_events: EventFactory, no_secret_env: None
) -> None:
    cfg = config_for(eventhub_endpoint, max_batch_size=50, retry_attempts=3)
    eventhub_endpoint.reject_next(2)
    stats = StreamStats()
    pipe = DeliveryPipeline(open_sink("eventhub", cfg), cfg.realtime, stats=stats)
    await pipe.start()
    events = make_events(300)
    await pipe.put_many(events)
    await asyncio.wait_for(pipe.close(), 60)
    received = [json.loads(b)["trace_id"] for _, _, b in eventhub_endpoint.received]
    assert sorted(received) == sorted(e.trace_id for e in events)
    assert eventhub_endpoint.rejected == 2
    assert stats.snapshot()["retries"] >= 1
    assert stats.snapshot()["dead_lettered"] == 0


async def test_an_endpoint_that_keeps_failing_holds_events_until_it_is_back(
    eventhub_endpoint: AmqpTestEndpoint,
    make_events: EventFactory,
    tmp_path: Path,
    no_secret_env: None,
) -> None:
    """Failures that a retry can fix never dead-letter: the breaker opens, the batch waits
    (probed every ≤ 2 s), and everything is delivered in order once the hub accepts again."""
    cfg = config_for(
        eventhub_endpoint,
        max_batch_size=100,
        retry_attempts=1,
        circuit_breaker_threshold=3,
    )
    store = DeadLetterStore(tmp_path)
    settled, on_settled = settle_log()
    eventhub_endpoint.mode = "reject"
    pipe = DeliveryPipeline(
        open_sink("eventhub", cfg), cfg.realtime, dead_letters=store, on_settled=on_settled
    )
    await pipe.start()
    events = make_events(500)
    feeder = asyncio.create_task(pipe.put_many(events))
    await asyncio.wait_for(_until(lambda: "OPEN" in pipe.breaker.transitions), 30)
    assert settled == [] and store.count() == 0
    assert eventhub_endpoint.received == []

    eventhub_endpoint.mode = None  # the hub is back
    await asyncio.wait_for(feeder, 60)
    await asyncio.wait_for(pipe.close(), 60)
    assert [e.trace_id for b, _ in settled for e in b] == [e.trace_id for e in events]
    assert {o for _, o in settled} == {"delivered"}
    assert store.count() == 0
    received = [json.loads(b)["trace_id"] for _, _, b in eventhub_endpoint.received]
    assert sorted(received) == sorted(e.trace_id for e in events)
    per_key: dict[str | None, list[str]] = defaultdict(list)
    for key, _, body in eventhub_endpoint.received:
        per_key[key].append(json.loads(body)["trace_id"])
    assert all(ids == sorted(ids) for ids in per_key.values())  # in order per store


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_dropped_connections_are_recovered(
    eventhub_endpoint: AmqpTestEndpoint, make_events: EventFactory, no_secret_env: None
) -> None:
    cfg = config_for(eventhub_endpoint, max_batch_size=50, retry_attempts=5)
    settled, on_settled = settle_log()
    pipe = DeliveryPipeline(open_sink("eventhub", cfg), cfg.realtime, on_settled=on_settled)
    await pipe.start()
    events = make_events(400)
    await pipe.put_many(events[:100])
    await pipe.flush()
    eventhub_endpoint.mode = "drop"  # the next transfer kills the connection, unacknowledged
    feeder = asyncio.create_task(pipe.put_many(events[100:]))
    await asyncio.sleep(0.3)
    eventhub_endpoint.mode = None
    await asyncio.wait_for(feeder, 30)
    await asyncio.wait_for(pipe.close(), 60)
    received = [json.loads(b)["trace_id"] for _, _, b in eventhub_endpoint.received]
    assert sorted(received) == sorted(e.trace_id for e in events)
    assert {o for _, o in settled} == {"delivered"}
    assert eventhub_endpoint.rejected >= 1
    assert eventhub_endpoint.connections_accepted >= 2


async def test_send_timeout_when_the_endpoint_stalls(
    eventhub_endpoint: AmqpTestEndpoint, make_events: EventFactory, no_secret_env: None
) -> None:
    cfg = config_for(eventhub_endpoint)
    sink = open_sink("eventhub?timeout=2", cfg)
    await sink.open()
    try:
        await sink.send(make_events(5))
        eventhub_endpoint.pause()
        from retail_datagen.streaming.sinks.base import SinkError

        with pytest.raises(SinkError) as err:
            await asyncio.wait_for(sink.send(make_events(5, start=5)), 20)
        assert err.value.retriable
        assert err.value.pending is not None and len(err.value.pending) == 5
        eventhub_endpoint.resume()
    finally:
        eventhub_endpoint.resume()
        await asyncio.wait_for(sink.close(), 20)


def test_hub_named_in_the_url_must_match_the_entity_path(
    eventhub_endpoint: AmqpTestEndpoint, no_secret_env: None
) -> None:
    cfg = config_for(eventhub_endpoint)
    with pytest.raises(UserError, match="EntityPath") as err:
        open_sink("eventhub://another-hub", cfg)
    assert "dGVzdA" not in str(err.value)
    explicit = RetailConfig.from_mapping(
        {
            "realtime": {"azure_connection_string": eventhub_endpoint.connection_string},
            "stream": {"hub": "configured-hub"},
        }
    )
    with pytest.raises(UserError, match=r"stream\.hub"):
        open_sink("eventhub", explicit)


def test_without_connection_string_a_namespace_signs_in_with_entra_id(
    no_secret_env: None,
) -> None:
    with pytest.raises(UserError, match="namespace"):
        open_sink("eventhub", RetailConfig())
    sink = open_sink("eventhub://orders?namespace=contoso.servicebus.windows.net", RetailConfig())
    assert isinstance(sink, EventHubSink)
    assert sink.name == "eventhub://contoso.servicebus.windows.net/orders"
    assert sink.target.connection_string is None

    async def lifecycle() -> None:
        await sink.open()  # builds the client with DefaultAzureCredential; no network yet
        await sink.close()

    asyncio.run(lifecycle())


def test_fabric_custom_endpoint_strings_are_recognised(no_secret_env: None) -> None:
    fabric = (
        "Endpoint=sb://eventstream-abc123.servicebus.windows.net/;SharedAccessKeyName=key_1;"
        "SharedAccessKey=c2VjcmV0;EntityPath=es_42"
    )
    cfg = RetailConfig.from_mapping({"realtime": {"azure_connection_string": fabric}})
    sink = open_sink("eventhub", cfg)
    assert isinstance(sink, EventHubSink)
    assert sink.target.kind == "fabric"
    assert sink.hub == "es_42"
    assert "c2VjcmV0" not in sink.name


# ------------------------------------------------------------------ the endpoint's own plumbing
def test_pad_performative_fills_omitted_trailing_fields() -> None:
    # an OPEN with just container-id "c" (list8) → 10 fields, the rest explicit nulls
    short = bytes([0x00, 0x53, 0x10, 0xC0, 0x04, 0x01, 0xA1, 0x01]) + b"c"
    padded = pad_performative(short)
    assert padded[:6] == bytes([0x00, 0x53, 0x10, 0xC0, 4 + 9, 10])
    assert padded.endswith(b"c" + b"\x40" * 9)
    # an empty list0 CLOSE becomes a one-field list
    assert pad_performative(bytes([0x00, 0x53, 0x18, 0x45])) == bytes(
        [0x00, 0x53, 0x18, 0xC0, 0x02, 0x01, 0x40]
    )
    # a TRANSFER keeps its payload after the padded list
    transfer = bytes([0x00, 0x53, 0x14, 0xC0, 0x03, 0x02, 0x43, 0x43]) + b"PAYLOAD"
    padded = pad_performative(transfer)
    assert padded.endswith(b"\x43\x43" + b"\x40" * 9 + b"PAYLOAD")
    # complete frames and unknown descriptors are left alone
    full_close = bytes([0x00, 0x53, 0x18, 0xC0, 0x02, 0x01, 0x40])
    assert pad_performative(full_close) == full_close


def test_frame_normaliser_reassembles_split_frames() -> None:
    body = bytes([0x00, 0x53, 0x18, 0x45])
    frame = (8 + len(body)).to_bytes(4, "big") + bytes([2, 0, 0, 0]) + body
    normaliser = FrameNormaliser()
    out = normaliser.feed(b"AMQP\x00\x01\x00\x00" + frame[:5])
    assert out == b"AMQP\x00\x01\x00\x00"
    out = normaliser.feed(frame[5:])
    assert out[8:] == bytes([0x00, 0x53, 0x18, 0xC0, 0x02, 0x01, 0x40])
    assert int.from_bytes(out[:4], "big") == len(out)


async def test_check_sink_reads_the_hub_properties(
    eventhub_endpoint: AmqpTestEndpoint, no_secret_env: None
) -> None:
    from retail_datagen.streaming.sinks import check_sink

    cfg = config_for(eventhub_endpoint)
    result = await check_sink("eventhub", cfg)
    assert result["ok"], result
    assert result["detail"] == {
        "hub": "retail-events",
        "kind": "emulator",
        "partition_ids": ["0", "1"],
    }
    assert "dGVzdA" not in json.dumps(result)
    eventhub_endpoint.pause()
    try:
        stalled = await check_sink("eventhub?timeout=1", cfg, timeout=5)
    finally:
        eventhub_endpoint.resume()
    assert not stalled["ok"]
