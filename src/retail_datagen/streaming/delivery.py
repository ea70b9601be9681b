"""Delivery: batching, retries, a circuit breaker, backpressure and dead letters in front of a sink.

The streamer ``put``s events; one sender task takes them out **in order**, in batches of up to
``max_batch_size`` events (or whatever arrived within ``batch_timeout_ms`` of the first one),
and sends one batch at a time, so a store's events never overtake each other. Its promise:
every event ``put`` ends either *delivered* or *dead-lettered*, and ``on_settled(events,
outcome)`` reports it, in order, exactly once — the streamer checkpoints on it. Nothing is
dropped:

* the buffer is bounded (``max_buffer_size``): ``put`` waits while it is full (backpressure on
  generation, never a drop);
* a failed send is retried with exponential backoff (``retry_attempts``, ``backoff_multiplier``,
  0.1 s base, capped at ``circuit_breaker_recovery_seconds``); a non-retriable error skips them;
* the circuit breaker opens after ``circuit_breaker_threshold`` consecutive failed sends (every
  attempt counts), or when a batch has used up its ``retry_attempts``. While it is OPEN nothing
  is sent and nothing is dead-lettered: the batch waits, the bounded buffer fills and holds
  generation back. After a short recovery wait (0.25 s, doubling after every failed probe up to
  ``circuit_breaker_recovery_seconds``) it turns HALF_OPEN and the waiting batch is the probe:
  success → CLOSED, failure → OPEN again. So delivery resumes within about that cap of the
  sink's return, with every event still in order;
* only a *permanent* error (``SinkError.retriable`` false, e.g. an event larger than the
  destination accepts) dead-letters a batch; with the DLQ disabled it stops the pipeline
  (``put``/``flush``/``close`` raise, and the unsettled events stay pending for the checkpoint).
  The buffer never overflows (``put`` waits), so nothing else is dead-lettered.

When a sink reports that only part of a batch failed (``SinkError.pending``), only the rest is
retried, so retries add no duplicates; the acknowledged events before the first pending one are
settled at once, those after it when it settles — settlement never overtakes an unsettled
event. ``on_settled`` may thus be called several times for one batch, always in order.

Clock and sleep are injectable so tests drive the backoff and the breaker without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Literal

from retail_datagen.config.models import RealtimeConfig
from retail_datagen.config.secrets import redact
from retail_datagen.streaming.dead_letters import DeadLetterStore
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import Sink, SinkError
from retail_datagen.streaming.stats import StreamStats

__all__ = [
    "Backoff",
    "CircuitBreaker",
    "CircuitState",
    "DeliveryPipeline",
    "Outcome",
    "PipelineClosedError",
]

log = logging.getLogger(__name__)

CircuitState = Literal["CLOSED", "OPEN", "HALF_OPEN"]
Outcome = Literal["delivered", "dead_lettered"]
SettledCallback = Callable[[Sequence[Event], str], None]
SINK_CLOSE_SECONDS = 15.0  # closing a sink without a deadline of its own
Sleep = Callable[[float], Awaitable[None]]


class CircuitBreaker:
    """CLOSED → OPEN after ``threshold`` consecutive failures (or :meth:`trip`) → HALF_OPEN
    after a recovery wait (read from ``clock``) → CLOSED on the probe's success, OPEN on its
    failure. The wait starts at ``first_recovery`` and doubles with every failed probe up to
    ``recovery_seconds``, so a sink that comes back is probed again within that cap."""

    def __init__(
        self,
        threshold: int,
        recovery_seconds: float,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        first_recovery: float = 0.25,
    ) -> None:
        self.threshold = threshold
        self.recovery_seconds = recovery_seconds
        self.first_recovery = min(first_recovery, recovery_seconds)
        self.enabled = enabled
        self._clock = clock
        self._state: CircuitState = "CLOSED"
        self._failures = 0
        self._opened_at = 0.0
        self._wait = self.first_recovery  # the current recovery wait
        self._reopened = 0  # OPEN entries since the last CLOSED
        self.transitions: list[CircuitState] = []  # every state entered, oldest first

    @property
    def state(self) -> CircuitState:
        if self._state == "OPEN" and self._clock() - self._opened_at >= self._wait:
            self._enter("HALF_OPEN")
        return self._state

    def seconds_until_half_open(self) -> float:
        if self._state != "OPEN":
            return 0.0
        return max(0.0, self._opened_at + self._wait - self._clock())

    def record_success(self) -> None:
        self._failures = 0
        self._reopened = 0
        if self._state != "CLOSED":
            self._enter("CLOSED")

    def record_failure(self) -> None:
        if not self.enabled:
            return
        self._failures += 1
        if self._state == "HALF_OPEN" or (
            self._state == "CLOSED" and self._failures >= self.threshold
        ):
            self._open()

    def trip(self) -> None:
        """Open now (a batch used up its retries): wait for the half-open probe."""
        if self.enabled and self._state != "OPEN":
            self._open()

    def _open(self) -> None:
        self._wait = min(
            self.recovery_seconds, self.first_recovery * 2.0 ** min(self._reopened, 32)
        )
        self._reopened += 1
        self._opened_at = self._clock()
        self._enter("OPEN")

    def _enter(self, state: CircuitState) -> None:
        self._state = state
        self.transitions.append(state)
        level = logging.INFO if state != "OPEN" else logging.WARNING
        log.log(level, "circuit breaker %s", state)


class Backoff:
    """Delay before retry ``n`` (1-based): ``base × multiplier^(n-1)``, at most ``cap``."""

    def __init__(self, multiplier: float, *, base: float = 0.1, cap: float = 30.0) -> None:
        self.multiplier = multiplier
        self.base = base
        self.cap = cap

    def delay(self, retry: int) -> float:
        return float(min(self.cap, self.base * self.multiplier ** max(0, retry - 1)))


class PipelineClosedError(SinkError):
    """``put`` after ``close``."""

    def __init__(self) -> None:
        super().__init__("the delivery pipeline is closed", retriable=False)


class DeliveryPipeline:
    """Batches, retries and settles events in front of one sink (see the module docstring)."""

    def __init__(
        self,
        sink: Sink,
        settings: RealtimeConfig,
        *,
        stats: StreamStats | None = None,
        dead_letters: DeadLetterStore | None = None,
        on_settled: SettledCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.sink = sink
        self.settings = settings
        self.stats = stats if stats is not None else StreamStats()
        self.dead_letters = dead_letters if settings.enable_dead_letter_queue else None
        self._on_settled = on_settled
        self._sleep = sleep
        self.backoff = backoff or Backoff(
            settings.backoff_multiplier, cap=settings.circuit_breaker_recovery_seconds
        )
        self.breaker = breaker or CircuitBreaker(
            settings.circuit_breaker_threshold,
            settings.circuit_breaker_recovery_seconds,
            enabled=settings.circuit_breaker_enabled,
            clock=clock,
        )
        self._capacity = settings.max_buffer_size
        self._max_batch = settings.max_batch_size
        self._batch_timeout = settings.batch_timeout_ms / 1000.0
        self._buffer: deque[Event] = deque()
        self._first_arrival = 0.0  # loop time when the buffer last became non-empty
        self._waiter: asyncio.Future[None] | None = None
        self._want = 1
        self._space: deque[asyncio.Future[None]] = deque()
        self._flushes: list[tuple[int, asyncio.Future[None]]] = []
        self._flushing = 0
        self._closing = False
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self.put_count = 0
        self.settled_count = 0
        self.delivered_count = 0
        self.dead_lettered_count = 0
        self._last_error = ""
        self._warned_dead_letters = False

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open the sink and start the sender task."""
        if self._task is not None:
            return
        await self.sink.open()
        self.stats.set_sink(self.sink.name)
        self.stats.set_circuit_state(self.breaker.state)
        if self.dead_letters is not None:
            self.stats.set_dlq_size(await asyncio.to_thread(self.dead_letters.count))
        self._task = asyncio.create_task(self._run(), name="delivery-sender")

    @property
    def circuit_state(self) -> CircuitState:
        return self.breaker.state

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def failing(self) -> bool:
        """The latest send attempt failed (and none succeeded since)."""
        return bool(self._last_error)

    @property
    def unsettled(self) -> int:
        """Events put but neither delivered nor dead-lettered (yet)."""
        return self.put_count - self.settled_count

    async def put(self, event: Event) -> None:
        """Queue one event; waits while the buffer is full (backpressure)."""
        if self._failure is not None:
            raise self._failure_error()
        if self._closing:
            raise PipelineClosedError()
        buffer = self._buffer
        while len(buffer) >= self._capacity:
            await self._wait_for_space()
        if not buffer:
            self._first_arrival = asyncio.get_running_loop().time()
        buffer.append(event)
        self.put_count += 1
        waiter = self._waiter
        if waiter is not None and len(buffer) >= self._want:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def put_many(self, events: Iterable[Event]) -> None:
        """``put`` each event, in order (with the same backpressure)."""
        for event in events:
            await self.put(event)

    async def flush(self) -> None:
        """Return when every event put so far is settled (delivered or dead-lettered)."""
        if self._failure is not None:
            raise self._failure_error()
        target = self.put_count
        if self.settled_count >= target or self._task is None:
            return
        future = asyncio.get_running_loop().create_future()
        self._flushes.append((target, future))
        self._flushing += 1
        self._wake_sender()
        try:
            await future
        finally:
            self._flushing -= 1

    async def close(self, timeout: float | None = None) -> None:
        """Deliver everything still buffered, stop the sender, close the sink.

        With ``timeout`` (seconds) the sender is cancelled when it runs out; events not
        settled by then stay pending (they were never reported to ``on_settled``).
        """
        if self._closed:
            if self._failure is not None:
                raise self._failure_error()
            return
        self._closing = True
        self._wake_sender()
        task = self._task
        ends = None if timeout is None else asyncio.get_running_loop().time() + timeout
        try:
            if task is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(task), timeout)
                except TimeoutError:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    log.info(
                        "delivery stopped after %.1f s with %d events unsettled",
                        timeout,
                        self.unsettled,
                    )
        finally:
            self._closed = True
            self._release_all(PipelineClosedError())
            if task is not None:
                await self._close_sink(ends)
        if self._failure is not None:
            raise self._failure_error()

    async def _close_sink(self, ends: float | None) -> None:
        """Close the sink, within what is left of ``close``'s timeout (a stalled sink must not
        hold a stopping stream); its errors must not hide the delivery result."""
        left = SINK_CLOSE_SECONDS
        if ends is not None:
            left = max(0.1, ends - asyncio.get_running_loop().time())
        try:
            await asyncio.wait_for(self.sink.close(), left)
        except TimeoutError:
            log.warning("closing sink %s took longer than %.1f s; abandoned", self.sink.name, left)
        except Exception as exc:
            log.warning("closing sink %s failed: %s", self.sink.name, redact(str(exc)))

    # ------------------------------------------------------------------ waiting helpers
    async def _wait_for_space(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self._space.append(future)
        await future
        if self._failure is not None:
            raise self._failure_error()
        if self._closing and self._closed:
            raise PipelineClosedError()

    def _release_space(self) -> None:
        free = self._capacity - len(self._buffer)
        while self._space and free > 0:
            future = self._space.popleft()
            if not future.done():
                future.set_result(None)
                free -= 1

    def _wake_sender(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait_for_events(self, want: int, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiter = future
        self._want = want
        timer = None
        if timeout is not None:
            timer = loop.call_later(max(0.0, timeout), _resolve, future)
        try:
            await future
        finally:
            if timer is not None:
                timer.cancel()
            if self._waiter is future:
                self._waiter = None

    def _release_all(self, error: BaseException | None) -> None:
        for future in self._space:
            if not future.done():
                future.set_result(None)
        self._space.clear()
        for _, future in self._flushes:
            if not future.done():
                if error is None or self.settled_count >= self.put_count:
                    future.set_result(None)
                else:
                    future.set_exception(error)
        self._flushes.clear()

    def _failure_error(self) -> SinkError:
        failure = self._failure
        if isinstance(failure, SinkError):
            return failure
        unsettled = self.put_count - self.settled_count
        return SinkError(
            f"delivery stopped ({type(failure).__name__}: {redact(str(failure))}); "
            f"{unsettled} events were not settled",
            retriable=False,
        )

    # ------------------------------------------------------------------ the sender
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        buffer = self._buffer
        try:
            while True:
                if not buffer:
                    if self._closing:
                        return
                    await self._wait_for_events(1, None)
                    continue
                if len(buffer) < self._max_batch and not (self._closing or self._flushing):
                    remaining = self._first_arrival + self._batch_timeout - loop.time()
                    if remaining > 0:
                        await self._wait_for_events(self._max_batch, remaining)
                        if (
                            len(buffer) < self._max_batch
                            and not (self._closing or self._flushing)
                            and loop.time() < self._first_arrival + self._batch_timeout
                        ):
                            continue  # woken early (e.g. a flush finished): re-evaluate
                size = min(len(buffer), self._max_batch)
                batch = [buffer.popleft() for _ in range(size)]
                if buffer:
                    self._first_arrival = loop.time()
                self.stats.set_buffered(len(buffer))
                self._release_space()
                await self._deliver(batch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported through put/flush/close, not lost in the task
            self._failure = exc
            log.error(
                "delivery to %s stopped: %s",
                self.sink.name,
                redact(str(exc)),
                exc_info=not isinstance(exc, SinkError),
            )
            self._release_all(self._failure_error())

    async def _deliver(self, batch: list[Event]) -> None:
        progress = _BatchProgress(batch)
        attempts = 0
        while True:
            state = self.breaker.state
            self.stats.set_circuit_state(state)
            if state == "OPEN":  # hold the batch (and, through the full buffer, the generator)
                await self._sleep(max(self.breaker.seconds_until_half_open(), 0.01))
                continue
            try:
                await self.sink.send(progress.pending())
            except Exception as raw:
                exc = raw if isinstance(raw, SinkError) else _as_sink_error(raw)
                attempts += 1
                progress.acknowledge(exc.pending)
                self._settle_ready(progress)
                pending = progress.pending()
                if not pending:  # the sink acknowledged everything after all
                    self.breaker.record_success()
                    return
                self._last_error = redact(str(exc))[:500]
                self.stats.record_failed(pending)
                self.breaker.record_failure()
                log.debug("send attempt %d failed: %s", attempts, self._last_error)
                if not exc.retriable:
                    if self.dead_letters is not None:
                        await self._dead_letter(progress, self._last_error, attempts)
                        return
                    raise SinkError(
                        f"{self.sink.name} rejected {len(pending)} events and the "
                        f"dead-letter queue is disabled: {self._last_error}",
                        retriable=False,
                    ) from None
                if attempts > self.settings.retry_attempts:
                    self.breaker.trip()  # retries used up: probe at the breaker's pace
                self.stats.set_circuit_state(self.breaker.state)
                if self.breaker.state == "OPEN":
                    continue
                self.stats.record_retry()
                await self._sleep(self.backoff.delay(attempts))
                continue
            self.breaker.record_success()
            self.stats.set_circuit_state(self.breaker.state)
            self._last_error = ""
            progress.acknowledge([])
            self._settle_ready(progress)
            return

    def _settle_ready(self, progress: _BatchProgress) -> None:
        """Settle the acknowledged prefix of the batch: an event acknowledged after one that is
        still pending waits, so settlement (and the checkpoint) never passes a pending event."""
        ready = progress.take_acknowledged_prefix()
        if ready:
            self._settle(ready, "delivered")

    def _settle_rest(self, progress: _BatchProgress) -> None:
        """After the pending events were dead-lettered: settle the rest, in order."""
        for events, delivered in progress.take_rest():
            self._settle(events, "delivered" if delivered else "dead_lettered")

    async def _dead_letter(self, progress: _BatchProgress, error: str, attempts: int) -> None:
        """Store the batch's pending events as dead letters, then settle the rest in order.
        A stop that cancels the sender meanwhile waits for the write: an event is never in
        the store without being settled (the next run would dead-letter it again)."""
        store = self.dead_letters
        assert store is not None
        events = progress.pending()
        name = self.sink.name

        def write() -> int:
            store.add(events, error, name, attempts=attempts)
            return store.count()

        job = asyncio.ensure_future(asyncio.to_thread(write))
        try:
            size = await asyncio.shield(job)
        except asyncio.CancelledError:
            self._recorded_dead_letters(progress, events, await job, error)
            raise
        self._recorded_dead_letters(progress, events, size, error)

    def _recorded_dead_letters(
        self, progress: _BatchProgress, events: Sequence[Event], size: int, error: str
    ) -> None:
        self.stats.record_dead_lettered(len(events))
        self.stats.set_dlq_size(size)
        if not self._warned_dead_letters:  # one warning per pipeline; the totals are in stats
            self._warned_dead_letters = True
            log.warning("events are being dead-lettered (%s)", error[:200])
        log.debug("%d events dead-lettered (%s)", len(events), error[:200])
        self._settle_rest(progress)

    def _settle(self, events: Sequence[Event], outcome: Outcome) -> None:
        if not events:
            return
        if outcome == "delivered":
            self.stats.record_sent(events)
            self.delivered_count += len(events)
        else:
            self.dead_lettered_count += len(events)
        self.settled_count += len(events)
        if self._on_settled is not None:
            self._on_settled(events, outcome)
        if self._flushes:
            done = [(t, f) for t, f in self._flushes if t <= self.settled_count]
            if done:
                self._flushes = [(t, f) for t, f in self._flushes if t > self.settled_count]
                for _, future in done:
                    if not future.done():
                        future.set_result(None)


class _BatchProgress:
    """Which events of one batch the sink acknowledged, and how far it is settled (in order).

    A sink may acknowledge any subset of a batch (Kafka: one partition's messages but not
    another's); only the unacknowledged events are sent again, so retries add no duplicates."""

    def __init__(self, batch: list[Event]) -> None:
        self.batch = batch
        self.acked = bytearray(len(batch))
        self.settled = 0  # batch[:settled] is settled
        self._index = {id(e): i for i, e in enumerate(batch)}

    def pending(self) -> list[Event]:
        acked = self.acked
        return [e for i, e in enumerate(self.batch[self.settled :], self.settled) if not acked[i]]

    def acknowledge(self, left: Sequence[Event] | None) -> None:
        """After an attempt: every event sent in it except ``left`` is acknowledged
        (``None``: the sink does not know — nothing is)."""
        if left is None:
            return
        still = {id(e) for e in left}
        for event in self.pending():
            if id(event) not in still:
                self.acked[self._index[id(event)]] = 1

    def take_acknowledged_prefix(self) -> list[Event]:
        start = stop = self.settled
        while stop < len(self.batch) and self.acked[stop]:
            stop += 1
        self.settled = stop
        return self.batch[start:stop]

    def take_rest(self) -> list[tuple[list[Event], bool]]:
        """The unsettled rest as runs of (events, acknowledged), in order."""
        runs: list[tuple[list[Event], bool]] = []
        for i in range(self.settled, len(self.batch)):
            flag = bool(self.acked[i])
            if runs and runs[-1][1] == flag:
                runs[-1][0].append(self.batch[i])
            else:
                runs.append(([self.batch[i]], flag))
        self.settled = len(self.batch)
        return runs


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _as_sink_error(exc: BaseException) -> SinkError:
    """An unexpected exception from a sink: treat it as a retriable failure of the batch."""
    return SinkError(f"{type(exc).__name__}: {redact(str(exc))}", retriable=True)
