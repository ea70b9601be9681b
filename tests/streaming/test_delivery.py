"""DeliveryPipeline: batching, backpressure, retries, the circuit breaker, dead letters, settling.

The real sinks run against real servers in their own test modules; here an in-memory sink with
scripted failures drives every branch, and a fake clock/sleep keeps the backoff and the breaker
instant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_events import build_events

from retail_datagen.config.models import RealtimeConfig
from retail_datagen.streaming.dead_letters import DeadLetterStore
from retail_datagen.streaming.delivery import Backoff, CircuitBreaker, DeliveryPipeline
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import SinkError
from retail_datagen.streaming.stats import StreamStats

EventFactory = Callable[..., list[Event]]


class ScriptedSink:
    """Records every send; ``failures`` is consumed one entry per send call:
    ``None`` = success, ``"fail"`` = retriable error, ``"fatal"`` = non-retriable,
    an int k = acknowledge the first k events then fail (partial)."""

    name = "memory://test"

    def __init__(self, failures: Sequence[Any] = (), *, fail_forever: bool = False) -> None:
        self.failures = list(failures)
        self.fail_forever = fail_forever
        self.calls: list[list[Event]] = []
        self.delivered: list[Event] = []
        self.opened = self.closed = False
        self.gate: asyncio.Event | None = None  # when set, send waits for it

    async def open(self) -> None:
        self.opened = True

    async def send(self, batch: Sequence[Event]) -> None:
        self.calls.append(list(batch))
        if self.gate is not None:
            await self.gate.wait()
        step = self.failures.pop(0) if self.failures else ("fail" if self.fail_forever else None)
        if step is None:
            self.delivered.extend(batch)
            return
        if step == "fatal":
            raise SinkError("rejected for good SharedAccessKey=abc123secret", retriable=False)
        if isinstance(step, int):
            self.delivered.extend(batch[:step])
            raise SinkError("partly sent", pending=list(batch[step:]))
        raise SinkError("temporarily down SharedAccessKey=abc123secret")

    async def close(self) -> None:
        self.closed = True


class MemoryDeadLetters:
    """The two methods the pipeline uses, in memory (the DuckDB store has its own tests)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Event, str, int]] = []

    def add(self, events: Sequence[Event], error: str, sink_name: str, *, attempts: int = 1) -> int:
        self.rows.extend((e, error, attempts) for e in events)
        return len(events)

    def count(self) -> int:
        return len(self.rows)


class FakeTime:
    """A clock that only moves when the pipeline sleeps (backoff / breaker waits)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def settings_for(**overrides: Any) -> RealtimeConfig:
    values: dict[str, Any] = {
        "max_batch_size": 10,
        "batch_timeout_ms": 20,
        "retry_attempts": 3,
        "backoff_multiplier": 2.0,
        "circuit_breaker_enabled": True,
        "circuit_breaker_threshold": 5,
        "circuit_breaker_recovery_seconds": 30.0,
        "max_buffer_size": 1000,
        "enable_dead_letter_queue": True,
    }
    values.update(overrides)
    return RealtimeConfig(**values)


def pipeline_for(
    sink: ScriptedSink,
    *,
    dlq: Any = None,
    time_source: FakeTime | None = None,
    settled: list[tuple[list[Event], str]] | None = None,
    **overrides: Any,
) -> DeliveryPipeline:
    fake = time_source or FakeTime()
    record = settled if settled is not None else []
    return DeliveryPipeline(
        sink,
        settings_for(**overrides),
        stats=StreamStats(),
        dead_letters=dlq,
        on_settled=lambda batch, outcome: record.append((list(batch), outcome)),
        clock=fake.clock,
        sleep=fake.sleep,
    )


async def test_batches_are_cut_at_max_batch_size(make_events: EventFactory) -> None:
    sink = ScriptedSink()
    pipe = pipeline_for(sink, max_batch_size=10, batch_timeout_ms=5_000)
    await pipe.start()
    events = make_events(35)
    for event in events:
        await pipe.put(event)
    await pipe.close()
    assert [len(c) for c in sink.calls] == [10, 10, 10, 5]
    assert sink.delivered == events
    assert sink.closed


async def test_a_partial_batch_leaves_after_batch_timeout(make_events: EventFactory) -> None:
    sink = ScriptedSink()
    pipe = pipeline_for(sink, max_batch_size=100, batch_timeout_ms=50)
    await pipe.start()
    for event in make_events(3):
        await pipe.put(event)
    await asyncio.sleep(0.02)
    assert sink.calls == []  # still collecting
    await asyncio.wait_for(_until(lambda: len(sink.calls) == 1), 2)
    assert len(sink.calls[0]) == 3
    await pipe.close()


async def test_flush_sends_at_once_and_waits_for_settlement(make_events: EventFactory) -> None:
    sink = ScriptedSink()
    pipe = pipeline_for(sink, max_batch_size=100, batch_timeout_ms=60_000)
    await pipe.start()
    for event in make_events(7):
        await pipe.put(event)
    await asyncio.wait_for(pipe.flush(), 2)
    assert len(sink.delivered) == 7
    assert pipe.settled_count == 7
    await pipe.close()


async def test_put_waits_while_the_buffer_is_full(make_events: EventFactory) -> None:
    sink = ScriptedSink()
    sink.gate = asyncio.Event()  # the sink hangs until released
    pipe = pipeline_for(sink, max_batch_size=5, max_buffer_size=10, batch_timeout_ms=1)
    await pipe.start()
    events = make_events(40)
    producer = asyncio.create_task(pipe.put_many(events))
    await asyncio.sleep(0.1)
    # 5 in the stuck send + 10 buffered: the producer is blocked, nothing was dropped
    assert not producer.done()
    assert pipe.buffered == 10
    assert pipe.put_count == 15
    sink.gate.set()
    await asyncio.wait_for(producer, 5)
    await pipe.close()
    assert sink.delivered == events


async def test_retries_back_off_exponentially_then_succeed(make_events: EventFactory) -> None:
    fake = FakeTime()
    sink = ScriptedSink(["fail", "fail", "fail", None])
    pipe = pipeline_for(sink, time_source=fake, retry_attempts=3, backoff_multiplier=3.0)
    await pipe.start()
    for event in make_events(5):
        await pipe.put(event)
    await pipe.close()
    assert fake.sleeps == pytest.approx([0.1, 0.3, 0.9])
    assert len(sink.delivered) == 5
    snap = pipe.stats.snapshot()
    assert snap["retries"] == 3
    assert snap["events_failed"] == 15
    assert snap["dead_lettered"] == 0


def test_backoff_is_capped() -> None:
    backoff = Backoff(2.0, base=0.1, cap=1.0)
    assert [backoff.delay(n) for n in range(1, 7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1, 1])


async def test_exhausted_retries_open_the_breaker_and_dead_letter_nothing(
    make_events: EventFactory,
) -> None:
    fake = FakeTime()
    dlq = MemoryDeadLetters()
    settled: list[tuple[list[Event], str]] = []
    sink = ScriptedSink(["fail"] * 3)
    pipe = pipeline_for(
        sink, dlq=dlq, settled=settled, time_source=fake, retry_attempts=2, max_batch_size=4
    )
    await pipe.start()
    events = make_events(8)
    for event in events:
        await pipe.put(event)
    await pipe.close()
    assert dlq.rows == []  # a sink that fails for a while is waited for, not dead-lettered
    assert sink.delivered == events
    assert [(len(b), outcome) for b, outcome in settled] == [(4, "delivered"), (4, "delivered")]
    assert pipe.breaker.transitions == ["OPEN", "HALF_OPEN", "CLOSED"]
    assert pipe.stats.snapshot()["dead_lettered"] == 0


async def test_non_retriable_errors_skip_the_retries(make_events: EventFactory) -> None:
    fake = FakeTime()
    dlq = MemoryDeadLetters()
    sink = ScriptedSink(["fatal"])
    pipe = pipeline_for(sink, dlq=dlq, time_source=fake, retry_attempts=5)
    await pipe.start()
    for event in make_events(3):
        await pipe.put(event)
    await pipe.close()
    assert len(sink.calls) == 1
    assert fake.sleeps == []
    assert len(dlq.rows) == 3


async def test_non_retriable_error_without_dlq_stops_delivery(make_events: EventFactory) -> None:
    sink = ScriptedSink(["fatal"])
    settled: list[tuple[list[Event], str]] = []
    pipe = pipeline_for(sink, settled=settled, enable_dead_letter_queue=False)
    await pipe.start()
    for event in make_events(3):
        await pipe.put(event)
    with pytest.raises(SinkError, match="dead-letter queue is disabled"):
        await asyncio.wait_for(pipe.flush(), 2)
    with pytest.raises(SinkError):
        await pipe.put(make_events(1, start=99)[0])
    with pytest.raises(SinkError):
        await pipe.close()
    assert settled == []  # still pending: the checkpoint has not moved past them
    assert sink.closed


async def test_partial_failure_settles_the_acknowledged_part_first(
    make_events: EventFactory,
) -> None:
    settled: list[tuple[list[Event], str]] = []
    sink = ScriptedSink([3, None])
    pipe = pipeline_for(sink, settled=settled, max_batch_size=10)
    await pipe.start()
    events = make_events(10)
    for event in events:
        await pipe.put(event)
    await pipe.close()
    assert sink.calls[1] == events[3:]  # only the unacknowledged events were resent
    assert sink.delivered == events  # no duplicates
    assert [(b, o) for b, o in settled] == [(events[:3], "delivered"), (events[3:], "delivered")]


async def test_open_breaker_holds_batches_without_dead_lettering_and_recovers(
    make_events: EventFactory,
) -> None:
    fake = FakeTime()
    dlq = MemoryDeadLetters()
    sink = ScriptedSink(["fail"] * 3)
    pipe = pipeline_for(
        sink,
        dlq=dlq,
        time_source=fake,
        retry_attempts=5,
        circuit_breaker_threshold=3,
        circuit_breaker_recovery_seconds=10.0,
        max_batch_size=2,
        batch_timeout_ms=1,
    )
    await pipe.start()
    events = make_events(6)
    await pipe.put_many(events)
    await pipe.close()
    # three failed attempts opened the breaker; the batch waited (0.25 s) and was the probe
    assert len(sink.calls) == 3 + 3
    assert dlq.rows == []
    assert sink.delivered == events
    assert state_of(pipe) == "CLOSED"
    assert pipe.breaker.transitions == ["OPEN", "HALF_OPEN", "CLOSED"]
    assert 0.25 in fake.sleeps


async def test_breaker_probes_back_off_to_the_recovery_cap() -> None:
    fake = FakeTime()
    breaker = CircuitBreaker(1, 2.0, clock=fake.clock)
    waits = []
    for _ in range(6):
        breaker.record_failure()  # the first opens it; later ones are failed probes
        assert str(breaker.state) == "OPEN"
        waits.append(breaker.seconds_until_half_open())
        fake.now += waits[-1]
        assert str(breaker.state) == "HALF_OPEN"
    assert waits == pytest.approx([0.25, 0.5, 1.0, 2.0, 2.0, 2.0])
    breaker.record_success()
    breaker.record_failure()
    assert breaker.seconds_until_half_open() == pytest.approx(0.25)  # reset after success


async def test_failed_probe_reopens_the_breaker() -> None:
    fake = FakeTime()
    breaker = CircuitBreaker(2, 5.0, clock=fake.clock, first_recovery=5.0)
    breaker.record_failure()
    assert str(breaker.state) == "CLOSED"
    breaker.record_failure()
    assert str(breaker.state) == "OPEN"
    assert breaker.seconds_until_half_open() == pytest.approx(5.0)
    fake.now = 5.0
    assert str(breaker.state) == "HALF_OPEN"
    breaker.record_failure()
    assert str(breaker.state) == "OPEN"
    fake.now = 10.0
    assert str(breaker.state) == "HALF_OPEN"
    breaker.record_success()
    assert str(breaker.state) == "CLOSED"
    assert breaker.transitions == ["OPEN", "HALF_OPEN", "OPEN", "HALF_OPEN", "CLOSED"]


def test_disabled_breaker_never_opens() -> None:
    breaker = CircuitBreaker(1, 1.0, enabled=False)
    for _ in range(10):
        breaker.record_failure()
    assert str(breaker.state) == "CLOSED"


async def test_without_dlq_an_open_breaker_holds_events_until_the_probe(
    make_events: EventFactory,
) -> None:
    fake = FakeTime()
    sink = ScriptedSink(["fail"] * 4)
    settled: list[tuple[list[Event], str]] = []
    pipe = pipeline_for(
        sink,
        time_source=fake,
        settled=settled,
        enable_dead_letter_queue=False,
        retry_attempts=1,
        circuit_breaker_threshold=2,
        circuit_breaker_recovery_seconds=7.0,
    )
    await pipe.start()
    events = make_events(3)
    for event in events:
        await pipe.put(event)
    await pipe.close()
    # fail, fail → OPEN → wait → probe fails → OPEN → longer wait → …, then succeeds
    assert sink.delivered == events
    assert [o for _, o in settled] == ["delivered"]
    waits = [round(x, 6) for x in fake.sleeps if x > 0.05]  # (0.01: float rounding re-checks)
    assert waits == [0.1, 0.25, 0.5, 1.0]  # one backoff, then the breaker's growing waits
    assert "HALF_OPEN" in pipe.breaker.transitions
    assert state_of(pipe) == "CLOSED"


async def test_dead_letters_persist_in_the_real_store(
    make_events: EventFactory, tmp_path: Path
) -> None:
    store = DeadLetterStore(tmp_path)
    sink = ScriptedSink(["fatal"])  # a permanent rejection: retrying cannot help
    pipe = pipeline_for(sink, dlq=store, retry_attempts=0, max_batch_size=50)
    await pipe.start()
    for event in make_events(20):
        await pipe.put(event)
    await pipe.close()
    assert DeadLetterStore(tmp_path).count() == 20
    assert pipe.stats.snapshot()["dlq_size"] == 20
    errors = {entry["error"] for entry in DeadLetterStore(tmp_path).list(limit=20)}
    assert errors and all("abc123secret" not in error for error in errors)  # redacted


async def test_close_twice_and_put_after_close(make_events: EventFactory) -> None:
    sink = ScriptedSink()
    pipe = pipeline_for(sink)
    await pipe.start()
    await pipe.put(make_events(1)[0])
    await pipe.close()
    await pipe.close()
    with pytest.raises(SinkError, match="closed"):
        await pipe.put(make_events(1, start=5)[0])
    assert len(sink.delivered) == 1


async def test_close_with_timeout_leaves_unsettled_events_pending(
    make_events: EventFactory,
) -> None:
    sink = ScriptedSink()
    sink.gate = asyncio.Event()  # never released
    settled: list[tuple[list[Event], str]] = []
    pipe = pipeline_for(sink, settled=settled)
    await pipe.start()
    for event in make_events(3):
        await pipe.put(event)
    await asyncio.wait_for(pipe.close(timeout=0.1), 2)
    assert settled == []
    assert sink.closed


async def test_unexpected_sink_exceptions_are_retried(make_events: EventFactory) -> None:
    class Flaky(ScriptedSink):
        async def send(self, batch: Sequence[Event]) -> None:
            if not self.calls:
                self.calls.append(list(batch))
                raise ConnectionResetError("peer reset")
            await super().send(batch)

    sink = Flaky()
    pipe = pipeline_for(sink)
    await pipe.start()
    for event in make_events(4):
        await pipe.put(event)
    await pipe.close()
    assert len(sink.delivered) == 4


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(0, 120),
    batch=st.integers(1, 16),
    retries=st.integers(0, 3),
    threshold=st.integers(1, 4),
    use_dlq=st.booleans(),
    script=st.lists(
        st.one_of(st.none(), st.just("fail"), st.just("fatal"), st.integers(0, 15)),
        max_size=40,
    ),
)
def test_every_event_is_settled_exactly_once_in_order(
    count: int,
    batch: int,
    retries: int,
    threshold: int,
    use_dlq: bool,
    script: list[Any],
) -> None:
    if not use_dlq:  # without a DLQ a non-retriable error stops delivery (tested above)
        script = [s for s in script if s != "fatal"]
    events = build_events(count)

    async def scenario() -> tuple[list[tuple[list[Event], str]], ScriptedSink, Any]:
        settled: list[tuple[list[Event], str]] = []
        sink = ScriptedSink(script)
        dlq = MemoryDeadLetters() if use_dlq else None
        pipe = pipeline_for(
            sink,
            dlq=dlq,
            settled=settled,
            max_batch_size=batch,
            batch_timeout_ms=1,
            retry_attempts=retries,
            circuit_breaker_threshold=threshold,
            circuit_breaker_recovery_seconds=3.0,
            enable_dead_letter_queue=use_dlq,
            max_buffer_size=max(batch, 8),
        )
        await pipe.start()
        await pipe.put_many(events)
        await asyncio.wait_for(pipe.close(), 10)
        return settled, sink, dlq

    settled, sink, dlq = asyncio.run(scenario())
    order = [e.trace_id for chunk, _ in settled for e in chunk]
    assert order == [e.trace_id for e in events]  # exactly once, in order
    delivered = [e for chunk, o in settled if o == "delivered" for e in chunk]
    dead = [e for chunk, o in settled if o == "dead_lettered" for e in chunk]
    assert [e.trace_id for e in sink.delivered] == [e.trace_id for e in delivered]
    if dlq is not None:
        assert [e.trace_id for e, _, _ in dlq.rows] == [e.trace_id for e in dead]
    else:
        assert dead == []


def state_of(pipe: DeliveryPipeline) -> str:
    """The breaker state, read fresh (it changes with the clock)."""
    return str(pipe.circuit_state)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)


async def test_settlement_never_overtakes_a_pending_event(make_events: EventFactory) -> None:
    """Kafka can acknowledge one partition's events and not another's: the acknowledged events
    after a pending one wait for it, so the checkpoint never passes an undelivered event."""
    events = make_events(6)

    class OddPartitionsFirst:
        name = "memory://partitions"

        def __init__(self) -> None:
            self.calls: list[list[Event]] = []

        async def open(self) -> None: ...

        async def close(self) -> None: ...

        async def send(self, batch: Sequence[Event]) -> None:
            self.calls.append(list(batch))
            if len(self.calls) == 1:  # events 1, 3, 5 acknowledged; 0, 2, 4 not
                raise SinkError("partition 0 timed out", pending=list(batch[::2]))

    sink = OddPartitionsFirst()
    settled: list[tuple[list[Event], str]] = []
    pipe = DeliveryPipeline(
        sink,
        settings_for(max_batch_size=6),
        on_settled=lambda batch, outcome: settled.append((list(batch), outcome)),
        sleep=FakeTime().sleep,
    )
    await pipe.start()
    await pipe.put_many(events)
    await pipe.close()
    assert sink.calls[1] == events[::2]  # only the unacknowledged events were resent
    assert [e for batch, _ in settled for e in batch] == events  # settled in order
    assert {outcome for _, outcome in settled} == {"delivered"}
