"""The sink interface: where events go. One small protocol; every destination implements it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from retail_datagen.streaming.event import Event

__all__ = ["Sink", "SinkError", "SinkUnreachableError"]


class SinkError(Exception):
    """A send failed; ``retriable`` says whether trying again may succeed.

    ``pending`` lists the events of the batch that were *not* acknowledged, when the sink knows
    (e.g. Kafka acknowledged part of a batch before a fatal error). ``None`` means "assume none
    was": retrying then resends the whole batch. Knowing it keeps retries from duplicating
    events the destination already has.
    """

    def __init__(
        self, message: str, *, retriable: bool = True, pending: Sequence[Event] | None = None
    ) -> None:
        super().__init__(message)
        self.retriable = retriable
        self.pending = pending


class SinkUnreachableError(SinkError):
    """The destination did not answer a connection check (a stream does not start)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=True)


class Sink(Protocol):
    """An event destination. ``send`` returns only when every event of the batch is
    acknowledged, and raises :class:`SinkError` otherwise (nothing is silently dropped)."""

    name: str  # for logs and statistics, secrets redacted (e.g. "kafka://127.0.0.1:9092/t")

    async def open(self) -> None: ...

    async def send(self, batch: Sequence[Event]) -> None: ...

    async def close(self) -> None: ...
