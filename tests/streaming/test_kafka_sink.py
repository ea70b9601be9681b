"""The Kafka sink against a real Kafka-protocol broker (tansu): delivery, pauses, restarts.

With memory storage a restarted broker has lost every earlier message, so the restart tests
assert on what the producer reported: every event ends acknowledged or dead-lettered, exactly
once, and what was acknowledged after the restart is really in the topic.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tansu_broker import TansuBroker, free_port, headers_of, read_topic

from retail_datagen.config.models import RetailConfig
from retail_datagen.streaming.dead_letters import DeadLetterStore
from retail_datagen.streaming.delivery import DeliveryPipeline
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks import open_sink
from retail_datagen.streaming.sinks.base import SinkError
from retail_datagen.streaming.sinks.kafka import KafkaSink
from retail_datagen.streaming.stats import StreamStats

EventFactory = Callable[..., list[Event]]


def config(**realtime: Any) -> RetailConfig:
    return RetailConfig.from_mapping({"realtime": realtime})


class Settlements:
    def __init__(self) -> None:
        self.items: list[tuple[list[Event], str, float]] = []

    def __call__(self, batch: Sequence[Event], outcome: str) -> None:
        self.items.append((list(batch), outcome, time.monotonic()))

    def ids(self, outcome: str | None = None) -> list[str]:
        return [e.trace_id for b, o, _ in self.items if outcome in (None, o) for e in b]


def kafka_sink(url: str, cfg: RetailConfig) -> KafkaSink:
    sink = open_sink(url, cfg)
    assert isinstance(sink, KafkaSink)
    return sink


async def test_batches_arrive_intact_in_order_with_headers(
    tansu: TansuBroker, make_events: EventFactory
) -> None:
    tansu.create_topic("retail-events", partitions=3)
    cfg = config(max_batch_size=100, batch_timeout_ms=20)
    settled = Settlements()
    pipe = DeliveryPipeline(
        kafka_sink(f"kafka://{tansu.bootstrap}", cfg),  # topic defaults to stream.hub
        cfg.realtime,
        stats=StreamStats(),
        dead_letters=None,
        on_settled=settled,
    )
    await pipe.start()
    events = make_events(1000)
    await pipe.put_many(events)
    await asyncio.wait_for(pipe.close(), 30)
    assert settled.ids("delivered") == [e.trace_id for e in events]

    messages = read_topic(tansu.bootstrap, "retail-events", len(events))
    assert len(messages) == len(events)
    sent = {e.trace_id: e for e in events}
    by_key: dict[str, list[int]] = defaultdict(list)
    partitions_of_key: dict[str, set[int]] = defaultdict(set)
    for message in sorted(messages, key=lambda m: (m.partition(), m.offset())):
        body = message.value() or b""
        envelope = json.loads(body)
        original = sent[envelope["trace_id"]]
        assert body == original.body
        assert message.key() == original.partition_key.encode()
        assert headers_of(message) == {"event_type": original.event_type.encode()}
        by_key[original.partition_key].append(envelope["payload"]["seq"])
        partitions_of_key[original.partition_key].add(message.partition() or 0)
    assert all(len(p) == 1 for p in partitions_of_key.values())  # a store sticks to a partition
    assert all(seqs == sorted(seqs) for seqs in by_key.values())  # and stays in order
    assert pipe.stats.snapshot()["events_sent"] == 1000


async def test_paused_broker_loses_nothing(tansu: TansuBroker, make_events: EventFactory) -> None:
    tansu.create_topic("paused", partitions=2)
    cfg = config(max_batch_size=200, batch_timeout_ms=10)
    settled = Settlements()
    pipe = DeliveryPipeline(
        kafka_sink(f"kafka://{tansu.bootstrap}/paused", cfg),
        cfg.realtime,
        dead_letters=None,
        on_settled=settled,
    )
    await pipe.start()
    events = make_events(3000)
    await pipe.put_many(events[:1000])
    await pipe.flush()
    tansu.pause()
    try:
        feeder = asyncio.create_task(pipe.put_many(events[1000:]))
        await asyncio.sleep(2.5)
        assert pipe.settled_count < len(events)  # stuck while the broker is stopped
    finally:
        tansu.resume()
    await asyncio.wait_for(feeder, 30)
    await asyncio.wait_for(pipe.close(), 30)
    assert settled.ids("delivered") == [e.trace_id for e in events]
    received = {
        json.loads(m.value() or b"")["trace_id"]
        for m in read_topic(tansu.bootstrap, "paused", 3000)
    }
    assert received == {e.trace_id for e in events}


# Delivery resumed 0.2-1.2 s after the broker's return when it had been down longer than the
# sink's stall window (3 s), and up to ~2.7 s after a 1 s outage (measured on 2 cores); a
# generous bound keeps the test honest on a busy machine.
RESUME_BOUND = 15.0


async def test_restarted_broker_delivery_resumes_promptly_and_nothing_is_dead_lettered(
    make_events: EventFactory, tmp_path: Path
) -> None:
    """Kill a dedicated broker mid-stream and restart it on the same port (memory storage: it
    forgot the producer's id): delivery resumes within seconds, every event is delivered exactly
    once and in order, nothing is dead-lettered, and what was acknowledged after the restart is
    in the (new) topic."""
    broker = TansuBroker(tmp_path, port=free_port()).start()
    try:
        cfg = config(max_batch_size=100, batch_timeout_ms=10)  # default retries and breaker
        store = DeadLetterStore(tmp_path)
        settled = Settlements()
        sink = kafka_sink(f"kafka://{broker.bootstrap}/restarts", cfg)
        pipe = DeliveryPipeline(sink, cfg.realtime, dead_letters=store, on_settled=settled)
        await pipe.start()
        events = make_events(6000)

        async def feed() -> None:
            for start in range(0, len(events), 100):
                await pipe.put_many(events[start : start + 100])
                await asyncio.sleep(0.01)

        feeder = asyncio.create_task(feed())
        await asyncio.wait_for(_until(lambda: pipe.settled_count >= 1000), 20)
        broker.kill()
        await asyncio.sleep(3.5)
        before = len(settled.items)
        broker.restart()
        restarted_at = time.monotonic()
        await asyncio.wait_for(_until(lambda: len(settled.items) > before), 60)
        resumed_after = settled.items[before][2] - restarted_at
        await asyncio.wait_for(feeder, 60)
        await asyncio.wait_for(pipe.close(), 60)

        assert resumed_after < RESUME_BOUND, f"delivery resumed {resumed_after:.1f} s after"
        assert settled.ids("delivered") == [e.trace_id for e in events]  # once, in order
        assert settled.ids("dead_lettered") == [] and store.count() == 0
        after_restart = [
            e.trace_id
            for batch, outcome, at in settled.items
            if outcome == "delivered" and at > restarted_at + 0.5
            for e in batch
        ]
        assert after_restart, "delivery must resume after the restart"
        in_topic = {
            json.loads(m.value() or b"")["trace_id"]
            for m in read_topic(broker.bootstrap, "restarts", len(after_restart), timeout=20)
        }
        # one batch is in flight at a time: only the one cut by the kill may hold events the
        # old broker acknowledged (they settle after the restart, in order, behind the rest)
        assert len(set(after_restart) - in_topic) <= 100
    finally:
        broker.stop()


async def test_circuit_breaker_opens_while_the_broker_is_down_and_recovers(
    tansu: TansuBroker, make_events: EventFactory
) -> None:
    cfg = config(
        max_batch_size=50,
        batch_timeout_ms=5,
        retry_attempts=10,
        circuit_breaker_threshold=2,
        circuit_breaker_recovery_seconds=0.5,
        enable_dead_letter_queue=False,
    )
    settled = Settlements()
    sink = kafka_sink(f"kafka://{tansu.bootstrap}/breaker?timeout_ms=800", cfg)
    pipe = DeliveryPipeline(sink, cfg.realtime, dead_letters=None, on_settled=settled)
    await pipe.start()
    events = make_events(300)
    await pipe.put_many(events[:100])
    await pipe.flush()
    tansu.kill()
    feeder = asyncio.create_task(pipe.put_many(events[100:]))
    await asyncio.wait_for(_until(lambda: "OPEN" in pipe.breaker.transitions), 20)
    assert pipe.circuit_state in ("OPEN", "HALF_OPEN")
    tansu.restart()
    await asyncio.wait_for(feeder, 30)
    await asyncio.wait_for(pipe.close(), 60)
    assert state_of(pipe) == "CLOSED"
    transitions = pipe.breaker.transitions
    assert transitions[0] == "OPEN" and transitions[-1] == "CLOSED"
    assert "HALF_OPEN" in transitions
    # no DLQ: everything was held back and delivered in the end, in order
    assert settled.ids("delivered") == [e.trace_id for e in events]


async def test_fatal_producer_error_recreates_the_producer_and_resends(
    tansu: TansuBroker, make_events: EventFactory
) -> None:
    """After a restart the broker no longer knows the idempotent producer's id: librdkafka
    fails (fatally, or by looping until the messages time out); the sink rebuilds its producer
    and resends exactly the unacknowledged events."""
    tansu.create_topic("fatal", partitions=1)
    cfg = config()
    sink = kafka_sink(f"kafka://{tansu.bootstrap}/fatal?timeout_ms=2000", cfg)
    await sink.open()
    try:
        first = make_events(50, stores=1)
        await sink.send(first)
        tansu.restart()
        tansu.create_topic("fatal", partitions=1)
        batch: Sequence[Event] = make_events(50, start=50, stores=1)
        errors: list[SinkError] = []
        for _ in range(5):
            try:
                await sink.send(batch)
                break
            except SinkError as exc:
                errors.append(exc)
                assert exc.pending is not None
                batch = exc.pending
        else:
            raise AssertionError(f"never recovered: {[str(e) for e in errors]}")
    finally:
        await sink.close()
    received = [
        json.loads(m.value() or b"")["trace_id"] for m in read_topic(tansu.bootstrap, "fatal", 50)
    ]
    assert {e.trace_id for e in make_events(50, start=50, stores=1)} <= set(received)
    if errors:  # the old producer stalled or died: a fresh one delivered the batch
        assert sink.recreated >= 1


def state_of(pipe: DeliveryPipeline) -> str:
    """The breaker state, read fresh (it changes with the clock)."""
    return str(pipe.circuit_state)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_check_sink_talks_to_the_broker(tansu: TansuBroker) -> None:
    from retail_datagen.streaming.sinks import check_sink

    tansu.create_topic("checked", partitions=2)
    result = await check_sink(f"kafka://{tansu.bootstrap}/checked", RetailConfig())
    assert result["ok"], result
    assert result["detail"] == {"brokers": 1, "topic": "checked", "partitions": 2}
    tansu.kill()
    down = await check_sink(f"kafka://{tansu.bootstrap}/checked", RetailConfig(), timeout=1)
    assert not down["ok"]
