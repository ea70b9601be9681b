"""``eventhub``: Azure Event Hubs and Fabric Eventstream custom endpoints over AMQP.

One ``send`` groups the batch by partition key (the store or DC, so one store's events stay in
order on one partition), fills ``EventDataBatch``es created with that key — a new one whenever
the current is full — and sends them one after another. Every event carries the application
property ``event_type`` so Eventstream can route by it.

Retries belong to the delivery pipeline (so the circuit breaker and dead letters see every
failure), hence the SDK runs with ``retry_total=0``. When a sub-batch fails, the events already
sent are acknowledged and only the rest is reported as ``SinkError.pending``.

Connection strings with ``UseDevelopmentEmulator=true`` make the SDK drop TLS and honour the
port in the endpoint — the Event Hubs emulator, and the test suite's local AMQP endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from azure.eventhub import EventData, EventDataBatch
from azure.eventhub.aio import EventHubProducerClient
from azure.eventhub.exceptions import (
    AuthenticationError,
    ClientClosedError,
    EventDataError,
    EventHubError,
)

from retail_datagen.config.secrets import redact
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import SinkError
from retail_datagen.streaming.sinks.urls import EventHubTarget

__all__ = ["EventHubSink"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_CLOSE_SECONDS = 10


class EventHubSink:
    """Sends batches to one Event Hub (or Fabric Eventstream custom endpoint)."""

    def __init__(self, target: EventHubTarget) -> None:
        self.target = target
        self.name = target.name
        self.hub = target.hub
        self._client: EventHubProducerClient | None = None
        self._credential: Any = None
        self._properties: dict[str, dict[str | bytes, Any]] = {}

    async def open(self) -> None:
        """Create the client; the SDK connects lazily on the first send."""
        if self._client is not None:
            return
        target = self.target
        if target.connection_string is not None:
            self._client = EventHubProducerClient.from_connection_string(
                target.connection_string, eventhub_name=target.hub, retry_total=0
            )
        else:
            self._credential = _ThreadedCredential()
            self._client = EventHubProducerClient(
                fully_qualified_namespace=target.namespace,
                eventhub_name=target.hub,
                credential=self._credential,
                retry_total=0,
            )
        log.info("event hub sink %s (%s)", self.name, target.kind)

    async def send(self, batch: Sequence[Event]) -> None:
        if not batch:
            return
        client = self._client
        if client is None:
            raise SinkError(f"{self.name} is not open", retriable=False)
        groups: dict[str, list[int]] = {}
        for index, event in enumerate(batch):
            groups.setdefault(event.partition_key, []).append(index)
        acked = bytearray(len(batch))
        too_large: list[int] = []
        properties = self._properties
        try:
            for key, indexes in groups.items():
                data_batch = await self._bounded(client.create_batch(partition_key=key))
                in_batch: list[int] = []
                for index in indexes:
                    event = batch[index]
                    event_data = EventData(event.body)
                    props = properties.get(event.event_type)
                    if props is None:
                        props = properties[event.event_type] = {"event_type": event.event_type}
                    event_data.properties = dict(props)
                    try:
                        data_batch.add(event_data)
                    except ValueError:
                        if not in_batch:  # alone in an empty batch and still too big
                            too_large.append(index)
                            continue
                        await self._send_batch(client, data_batch, in_batch, acked)
                        data_batch = await self._bounded(client.create_batch(partition_key=key))
                        in_batch = []
                        try:
                            data_batch.add(event_data)
                        except ValueError:
                            too_large.append(index)
                            continue
                    in_batch.append(index)
                if in_batch:
                    await self._send_batch(client, data_batch, in_batch, acked)
        except (EventHubError, OSError, TimeoutError) as exc:
            pending = [event for i, event in enumerate(batch) if not acked[i]]
            if isinstance(exc, ClientClosedError | TimeoutError):
                await self._reopen()  # a cancelled or closed client is not trusted again
            reason = (
                f"no answer within {self.target.timeout_seconds:.0f} s"
                if isinstance(exc, TimeoutError) and not isinstance(exc, EventHubError)
                else f"{type(exc).__name__}: {_reason(exc)}"
            )
            raise SinkError(
                f"event hub {self.name}: {len(pending)} of {len(batch)} events not sent: {reason}",
                retriable=not isinstance(exc, AuthenticationError | EventDataError),
                pending=pending,
            ) from None
        if too_large:
            raise SinkError(
                f"event hub {self.name}: {len(too_large)} events are larger than the hub accepts",
                retriable=False,
                pending=[batch[i] for i in too_large],
            )

    async def _bounded(self, operation: Awaitable[T]) -> T:
        """The SDK has no deadline on (re)connecting, so every call gets one here."""
        return await asyncio.wait_for(operation, self.target.timeout_seconds)

    async def _send_batch(
        self,
        client: EventHubProducerClient,
        data_batch: EventDataBatch,
        indexes: list[int],
        acked: bytearray,
    ) -> None:
        await self._bounded(client.send_batch(data_batch, timeout=self.target.timeout_seconds))
        for index in indexes:
            acked[index] = 1

    async def properties(self) -> dict[str, Any]:
        """The hub's name, kind and partitions (one management request; a connection test)."""
        client = self._client
        if client is None:
            raise SinkError(f"{self.name} is not open", retriable=False)
        info = await self._bounded(client.get_eventhub_properties())
        return {
            "hub": info["eventhub_name"],
            "kind": self.target.kind,
            "partition_ids": list(info["partition_ids"]),
        }

    async def _reopen(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close(), _CLOSE_SECONDS)
            except Exception:  # closing a broken client must not hide the send error
                log.debug("closing the event hub client failed", exc_info=True)
        if self._credential is not None:
            await self._credential.close()
            self._credential = None
        await self.open()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close(), _CLOSE_SECONDS)
            except TimeoutError:
                log.warning(
                    "closing %s took longer than %d s; abandoned", self.name, _CLOSE_SECONDS
                )
        if self._credential is not None:
            await self._credential.close()
            self._credential = None


class _ThreadedCredential:
    """Entra ID sign-in for the async client without aiohttp.

    ``azure.identity.aio`` needs aiohttp, which is not a dependency; the synchronous
    ``DefaultAzureCredential`` (requests) does the same work, so its ``get_token`` runs in a
    worker thread behind the async credential protocol the SDK expects.
    """

    def __init__(self) -> None:
        from azure.identity import DefaultAzureCredential

        self._credential = DefaultAzureCredential()

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._credential.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        self._credential.close()

    async def __aenter__(self) -> _ThreadedCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(text[0] if text else "")[:300]
