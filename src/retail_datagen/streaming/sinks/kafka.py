"""``kafka://``: confluent-kafka producer — plain brokers, Event Hubs and Fabric Kafka endpoints.

How a batch is acknowledged without blocking the event loop: ``send`` produces the whole batch
in a tight loop (librdkafka queues it and batches on the wire), then awaits one asyncio future.
A dedicated poll thread serves librdkafka's delivery reports; each report marks its event's
slot, and the last one of the batch resolves the future with a single
``call_soon_threadsafe``. So the event loop does no per-event waiting and no blocking call.

Failures: a batch whose reports are not all successful raises :class:`SinkError` with
``pending`` = exactly the unacknowledged events, so a retry never duplicates what the broker
already confirmed. A *fatal* producer error (``KafkaError.fatal()`` — e.g. the idempotent
producer's ``UNKNOWN_PRODUCER_ID`` after a broker lost its state in a restart) poisons the
producer: the batch fails with its unacknowledged events, and the next ``send`` builds a fresh
producer and sends them again (duplicates are possible only for those unacknowledged events).
A producer that made no progress is rebuilt the same way: against a broker that lost its
producer state (a restart), librdkafka can stay in an endless epoch-bump loop without ever
raising an error, so a batch that gets no delivery report for ``stall_seconds`` fails at once
(its unacknowledged events are purged and resent by a fresh producer) instead of waiting for
``message.timeout.ms``. With ``reconnect.backoff.max.ms`` at 1 s, delivery resumes within
seconds of a broker's return.

:func:`probe` asks the broker for the topic's metadata (a connection test, and the check
before a stream starts); librdkafka's own log goes through :class:`CollapsingLogger`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from retail_datagen.config.secrets import redact
from retail_datagen.errors import UserError
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import SinkError, SinkUnreachableError
from retail_datagen.streaming.sinks.kafka_log import CollapsingLogger
from retail_datagen.streaming.sinks.urls import KafkaTarget
from retail_datagen.streaming.threads import in_daemon_thread

__all__ = ["KafkaSink", "probe"]

log = logging.getLogger(__name__)
_librdkafka_log = CollapsingLogger()  # one for every producer: a condition is logged once
_probe_log = CollapsingLogger(max_level=logging.DEBUG)  # the probe's own error says it all
_CLOSE_FLUSH_SECONDS = 0.5  # close() after the pipeline settled: nothing should be left
_PROGRESS_POLL = 0.1

# Errors where sending the same events again cannot help.
_PERMANENT = {
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError.TOPIC_EXCEPTION,
    KafkaError._INVALID_ARG,
    KafkaError.INVALID_RECORD,
}


# The probe gives up at once on these (every broker refused, unknown host, bad credentials).
_UNREACHABLE = {
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._AUTHENTICATION,
    KafkaError.SASL_AUTHENTICATION_FAILED,
}

# A batch that failed entirely with these made no progress at all (see the module docstring).
_STALLED = {
    KafkaError._MSG_TIMED_OUT,
    KafkaError._TIMED_OUT,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError.UNKNOWN_PRODUCER_ID,
    KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
}


class _BatchWait:
    """Delivery reports of one batch; resolved once when all produced messages reported."""

    __slots__ = ("acked", "done", "error", "expected", "future", "lock", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.acked = bytearray(size)
        self.done = 0
        self.expected: int | None = None
        self.error: KafkaError | None = None
        self.lock = threading.Lock()

    def report(self, index: int, err: KafkaError | None, _msg: object) -> None:
        """Delivery callback (poll thread)."""
        if err is None:
            self.acked[index] = 1
        elif self.error is None or err.fatal():
            self.error = err
        with self.lock:
            self.done += 1
            finished = self.expected is not None and self.done >= self.expected
        if finished:
            self.wake()

    def seal(self, expected: int) -> None:
        """All messages are queued (event loop thread); resolve now if all reported already."""
        with self.lock:
            self.expected = expected
            finished = self.done >= expected
        if finished:
            self.wake()

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            self.loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class _ProducerHandle:
    """One confluent-kafka Producer and the thread that polls it."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.fatal: KafkaError | None = None
        self.stale = False  # made no progress: replace it before the next batch
        self.last_error: KafkaError | None = None
        self._waits: set[_BatchWait] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        conf = dict(config, error_cb=self._on_error, logger=_librdkafka_log)
        try:
            self.producer = Producer(conf)
        except (KafkaException, ValueError, TypeError) as exc:
            raise UserError(
                f"kafka sink configuration rejected: {redact(_describe(exc))}"
            ) from None
        self._thread = threading.Thread(target=self._poll, name="kafka-poll", daemon=True)
        self._thread.start()

    def track(self, wait: _BatchWait) -> None:
        with self._lock:
            self._waits.add(wait)
        if self.fatal is not None:
            wait.wake()

    def untrack(self, wait: _BatchWait) -> None:
        with self._lock:
            self._waits.discard(wait)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.producer.poll(0.05)
            except KafkaException as exc:
                self._on_error(exc.args[0] if exc.args else None)
            except Exception:  # a callback bug must not kill the poll thread
                log.exception("kafka delivery report handling failed")

    def _on_error(self, err: KafkaError | None) -> None:
        if err is None:
            return
        self.last_error = err
        if err.fatal():
            if self.fatal is None:
                log.warning("kafka producer fatal error: %s", redact(err.str()))
            self.fatal = err
            with self._lock:
                waits = list(self._waits)
            for wait in waits:  # fail fast: these batches will never be fully acknowledged
                wait.wake()
        else:
            log.debug("kafka client error: %s", redact(err.str()))

    def close(self, timeout: float) -> int:
        """Stop polling, deliver what is queued (bounded), return how many were left."""
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            if self.fatal is None and not self.stale:
                left = self.producer.flush(timeout)
            else:  # its queue will never drain: drop it (the events are resent elsewhere)
                self.producer.purge()
                left = self.producer.flush(min(timeout, 0.5))
        except KafkaException:
            left = len(self.producer)
        return int(left)


class KafkaSink:
    """Sends batches to a Kafka topic; ``send`` returns when every event is acknowledged."""

    def __init__(self, target: KafkaTarget) -> None:
        self.target = target
        self.name = target.name
        self.topic = target.topic
        self.recreated = 0  # producers rebuilt after fatal errors (tests and stats read it)
        self._handle: _ProducerHandle | None = None
        self._headers: dict[str, list[tuple[str, str | bytes | None]]] = {}

    async def open(self) -> None:
        if self._handle is None:
            self._handle = _ProducerHandle(self.target.producer_config)

    async def _fresh_handle(self) -> _ProducerHandle:
        old = self._handle
        if old is not None and old.fatal is None and not old.stale:
            return old
        if old is not None:
            log.warning(
                "kafka producer for %s is unusable (%s); creating a new one",
                self.name,
                "fatal error" if old.fatal is not None else "no progress",
            )
            self._handle = None
            await asyncio.to_thread(old.close, 0.5)
            self.recreated += 1
        self._handle = _ProducerHandle(self.target.producer_config)
        return self._handle

    def _header(self, event_type: str) -> list[tuple[str, str | bytes | None]]:
        header = self._headers.get(event_type)
        if header is None:
            header = [("event_type", event_type.encode())]
            self._headers[event_type] = header
        return header

    async def send(self, batch: Sequence[Event]) -> None:
        if not batch:
            return
        handle = await self._fresh_handle()
        wait = _BatchWait(asyncio.get_running_loop(), len(batch))
        handle.track(wait)
        try:
            produced, produce_error = await self._produce(handle, batch, wait)
            wait.seal(produced)
            stalled = await self._await_reports(wait)
        finally:
            handle.untrack(wait)
        acked = wait.acked
        pending = [event for i, event in enumerate(batch) if not acked[i]]
        if not pending:
            return
        error = handle.fatal or wait.error
        if stalled or (len(pending) == len(batch) and (error is None or error.code() in _STALLED)):
            handle.stale = True
        if stalled and produce_error is None and handle.fatal is None:
            reason = f"no delivery report for {self.target.stall_seconds:g} s"
            retriable = True
        elif produce_error is not None:
            reason, retriable = str(produce_error), produce_error.retriable
        elif error is not None:
            reason = redact(error.str())
            retriable = handle.fatal is not None or error.code() not in _PERMANENT
        else:
            reason = f"no delivery report within {self.target.timeout_seconds:.0f} s"
            retriable = True
        raise SinkError(
            f"kafka {self.name}: {len(pending)} of {len(batch)} events not acknowledged: {reason}",
            retriable=retriable,
            pending=pending,
        )

    async def _await_reports(self, wait: _BatchWait) -> bool:
        """Wait for the batch's delivery reports; True when they stopped coming (a stall)."""
        loop = asyncio.get_running_loop()
        began = last_progress = loop.time()
        seen = -1
        while not wait.future.done():
            now = loop.time()
            if wait.done != seen:
                seen, last_progress = wait.done, now
            if now - last_progress >= self.target.stall_seconds:
                return True
            if now - began >= self.target.timeout_seconds:
                return False
            await asyncio.wait({wait.future}, timeout=_PROGRESS_POLL)
        return False

    async def _produce(
        self, handle: _ProducerHandle, batch: Sequence[Event], wait: _BatchWait
    ) -> tuple[int, SinkError | None]:
        """Queue the batch; stops early on a produce error (the rest stays unacknowledged)."""
        produce = handle.producer.produce
        topic = self.topic
        report = wait.report
        header = self._header
        for index, event in enumerate(batch):
            while True:
                try:
                    produce(
                        topic,
                        event.body,
                        event.partition_key,
                        on_delivery=partial(report, index),
                        headers=header(event.event_type),
                    )
                    break
                except BufferError:  # local queue full: let the poll thread drain it
                    if handle.fatal is not None:
                        return index, None
                    await asyncio.sleep(0.002)
                except KafkaException as exc:
                    err = exc.args[0] if exc.args else None
                    if isinstance(err, KafkaError) and err.fatal():
                        handle._on_error(err)
                        return index, None
                    return index, SinkError(
                        f"cannot queue an event: {redact(_describe(exc))}",
                        retriable=not (isinstance(err, KafkaError) and err.code() in _PERMANENT),
                    )
        return len(batch), None

    async def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        left = await asyncio.to_thread(handle.close, _CLOSE_FLUSH_SECONDS)
        if left:
            log.warning("kafka %s closed with %d events not acknowledged", self.name, left)


async def probe(target: KafkaTarget, timeout: float) -> dict[str, Any]:
    """Ask the broker for the topic's metadata within ``timeout`` seconds.

    Fails at once when librdkafka reports every bootstrap broker down (connection refused,
    unknown host) or an authentication failure, instead of waiting out the timeout. Raises
    :class:`SinkUnreachableError` (one line, no secrets) when the broker does not answer.
    """
    errors: list[KafkaError] = []
    conf = dict(target.producer_config, logger=_probe_log, error_cb=errors.append)
    try:
        producer = Producer(conf)
    except (KafkaException, ValueError, TypeError) as exc:
        raise UserError(f"kafka sink configuration rejected: {redact(_describe(exc))}") from None
    # the metadata request blocks; a daemon thread lets a failed probe return at once
    request = in_daemon_thread(producer.list_topics, target.topic, timeout)
    loop = asyncio.get_running_loop()
    ends = loop.time() + timeout
    while not request.done() and loop.time() < ends:
        producer.poll(0)  # serves error_cb
        if any(e.code() in _UNREACHABLE or e.fatal() for e in errors):
            request.cancel()
            break
        await asyncio.wait({request}, timeout=_PROGRESS_POLL)
    if request.done() and not request.cancelled() and request.exception() is None:
        metadata = request.result()
        topic = metadata.topics.get(target.topic)
        return {
            "brokers": len(metadata.brokers),
            "topic": target.topic,
            "partitions": len(topic.partitions) if topic is not None else 0,
        }
    request.cancel()
    transport = [e for e in errors if e.code() not in _UNREACHABLE]
    reason = _describe_error(transport[0] if transport else (errors[0] if errors else None))
    raise SinkUnreachableError(
        f"kafka broker {target.bootstrap} is not reachable"
        + (f": {reason}" if reason else f" (no answer within {timeout:g} s)")
    )


def _describe_error(err: KafkaError | None) -> str:
    if err is None:
        return ""
    text = redact(str(err.str()))
    return text.split(": ", 1)[1] if "/bootstrap: " in text else text


def _describe(exc: BaseException) -> str:
    err = exc.args[0] if exc.args else None
    if isinstance(err, KafkaError):
        return str(err.str())
    return str(exc)
