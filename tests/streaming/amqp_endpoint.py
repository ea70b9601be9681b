"""A small AMQP 1.0 endpoint that speaks just enough Event Hubs for the real SDK to send to it.

No Event Hubs emulator runs here, so the tests bring their own server, built on the proton
*engine* (``proton.Connection`` + ``Transport`` + ``Collector``) with a plain ``selectors`` loop in
one thread — not the proton ``Container`` — because we need to see the bytes on the wire:

* **SASL**: ANONYMOUS (what ``azure-eventhub`` uses before it puts a CBS token).
* **``$cbs``**: every ``put-token`` request is answered ``status-code: 200`` on the client's
  reply link (correlation-id = the request's message-id).
* **``$management``**: ``READ`` of ``com.microsoft:eventhub`` (name, created_at, partition_ids)
  and of ``com.microsoft:partition`` (sequence numbers, offset, enqueue time).
* **the hub** (``<hub>`` or ``<hub>/Partitions/<id>``): accepts single messages and SDK batches
  (message-format ``0x80013700``: each data section of the outer message is one encoded event)
  and records ``ReceivedEvent(partition_key, properties, body)``.

Why a frame normaliser: the SDK's pure-Python decoder reads performative fields *by position*
(``frame[9]`` of OPEN, ``frame[7]`` of BEGIN, ``frame[13]`` of ATTACH…) while proton, as the
AMQP spec allows, omits trailing null fields and encodes empty lists as ``list0``. Every frame
the server writes is therefore rewritten with its list padded to the full field count of its
performative (explicit nulls mean exactly what omitted fields mean, so the wire semantics do not
change). Nested lists (error conditions, message properties) are kept complete by always
setting their last field (e.g. an ``info`` map on every error).

Failure controls for resilience tests (all thread-safe): :meth:`reject_next`, :attr:`mode`
(``"reject"`` every event transfer, ``"drop"`` the connection when an event arrives,
``"refuse"`` new connections), :meth:`close_connections`, :meth:`pause` / :meth:`resume`
(stop serving, like SIGSTOP).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from proton import (
    UNDESCRIBED,
    Array,
    Collector,
    Condition,
    Connection,
    Data,
    Delivery,
    Endpoint,
    Event,
    Link,
    Message,
    Transport,
    symbol,
    timestamp,
)

__all__ = ["AmqpTestEndpoint", "ReceivedEvent"]

HUB_CREDIT = 1000

# Fields per performative (AMQP 1.0 §2.7 and §5.3.3), keyed by descriptor code.
_FIELD_COUNTS = {
    0x10: 10,  # open
    0x11: 8,  # begin
    0x12: 14,  # attach
    0x13: 11,  # flow
    0x14: 11,  # transfer
    0x15: 6,  # disposition
    0x16: 3,  # detach
    0x17: 1,  # end
    0x18: 1,  # close
    0x40: 1,  # sasl-mechanisms
    0x41: 3,  # sasl-init
    0x42: 1,  # sasl-challenge
    0x43: 1,  # sasl-response
    0x44: 2,  # sasl-outcome
}
_BATCH_SECTION_PREFIX = b"\x00\x53"  # a described section inside a batch's data section


class ReceivedEvent(NamedTuple):
    """One event as the endpoint stored it."""

    partition_key: str | None
    properties: dict[str, Any]
    body: bytes


def pad_performative(body: bytes) -> bytes:
    """``body`` (a frame body: performative [+ payload]) with the list padded to full length."""
    if len(body) < 4 or body[0] != 0x00 or body[1] != 0x53:
        return body
    want = _FIELD_COUNTS.get(body[2])
    if want is None:
        return body
    ctor = body[3]
    if ctor == 0x45:  # list0
        items, count, end = b"", 0, 4
    elif ctor == 0xC0:  # list8: size, count
        size, count = body[4], body[5]
        items, end = body[6 : 5 + size], 5 + size
    elif ctor == 0xD0:  # list32: size, count
        size, count = struct.unpack(">II", body[4:12])
        items, end = body[12 : 8 + size], 8 + size
    else:
        return body
    if count >= want:
        return body
    items += b"\x40" * (want - count)
    if len(items) + 1 <= 255:
        header = bytes([0x00, 0x53, body[2], 0xC0, len(items) + 1, want])
    else:
        header = bytes([0x00, 0x53, body[2], 0xD0]) + struct.pack(">II", len(items) + 4, want)
    return header + items + body[end:]


class FrameNormaliser:
    """Rewrites a server→client AMQP byte stream frame by frame (see the module docstring)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        buf = self._buffer
        while True:
            if len(buf) >= 8 and buf[:4] == b"AMQP":  # protocol header (AMQP or SASL layer)
                out += buf[:8]
                del buf[:8]
                continue
            if len(buf) < 8:
                break
            size = struct.unpack(">I", buf[:4])[0]
            if len(buf) < size:
                break
            doff = buf[4] * 4
            frame = bytes(buf[:size])
            del buf[:size]
            body = pad_performative(frame[doff:])
            head = struct.pack(">I", doff + len(body)) + frame[4:doff]
            out += head + body
        return bytes(out)


def _decode_sections(raw: bytes) -> list[tuple[int, Any]]:
    """The top-level sections of an encoded message as (descriptor code, value) pairs."""
    sections: list[tuple[int, Any]] = []
    view = raw
    while view:
        data = Data()
        used = data.decode(view)
        described: Any = data.get_object()
        value = described.value
        if isinstance(value, memoryview):  # points into ``data``'s buffer: copy it now
            value = bytes(value)
        sections.append((int(described.descriptor), value))
        view = view[used:]
    return sections


def _decode_events(raw: bytes) -> list[ReceivedEvent]:
    """One transfer → the events it carries (one, or many for an SDK batch)."""
    sections = _decode_sections(raw)
    outer_annotations: dict[Any, Any] = {}
    data_sections: list[bytes] = []
    for code, value in sections:
        if code == 0x72:
            outer_annotations = dict(value or {})
        elif code == 0x75:
            data_sections.append(bytes(value))
    is_batch = bool(data_sections) and all(
        s.startswith(_BATCH_SECTION_PREFIX) for s in data_sections
    )
    if not is_batch:
        message = Message()
        message.decode(raw)
        return [_received(message, outer_annotations)]
    events = []
    for inner in data_sections:
        message = Message()
        message.decode(inner)
        events.append(_received(message, outer_annotations))
    return events


def _received(message: Message, outer_annotations: dict[Any, Any]) -> ReceivedEvent:
    annotations = dict(message.annotations or {}) or outer_annotations
    key = annotations.get(symbol("x-opt-partition-key"))
    body = message.body
    if isinstance(body, memoryview):
        body = bytes(body)
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = repr(body).encode()
    app_properties: dict[Any, Any] = message.properties or {}
    properties = {str(k): v for k, v in app_properties.items()}
    return ReceivedEvent(None if key is None else str(key), properties, body)


@dataclass
class _Client:
    sock: socket.socket
    connection: Connection
    transport: Transport
    collector: Collector
    normaliser: FrameNormaliser = field(default_factory=FrameNormaliser)
    outgoing: bytearray = field(default_factory=bytearray)
    closed: bool = False
    tag: int = 0


class AmqpTestEndpoint:
    """An in-process AMQP 1.0 server on ``127.0.0.1:<free port>`` (see the module docstring)."""

    def __init__(self, hub: str = "retail-events", partition_ids: tuple[str, ...] = ("0", "1")):
        self.hub = hub
        self.partition_ids = partition_ids
        self.received: list[ReceivedEvent] = []
        self.transfers = 0  # event transfers accepted
        self.rejected = 0  # event transfers rejected or dropped
        self.tokens = 0  # CBS put-token requests answered
        self.connections_accepted = 0
        self.mode: str | None = None  # None | "reject" | "drop" | "refuse"
        self._reject_budget = 0
        self._paused = threading.Event()
        self._pause_seen = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._close_all = threading.Event()
        self._clients: dict[socket.socket, _Client] = {}
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name="amqp-test-endpoint", daemon=True)

    # ------------------------------------------------------------------ public controls
    @property
    def connection_string(self) -> str:
        return (
            f"Endpoint=sb://127.0.0.1:{self.port};SharedAccessKeyName=test;"
            f"SharedAccessKey=dGVzdA==;EntityPath={self.hub};UseDevelopmentEmulator=true"
        )

    def start(self) -> AmqpTestEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._paused.clear()
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._listener.close()

    def reject_next(self, count: int) -> None:
        """Reject the next ``count`` event transfers (amqp:internal-error)."""
        with self._lock:
            self._reject_budget += count

    def close_connections(self) -> None:
        """Drop every client connection at the socket level (no AMQP close)."""
        self._close_all.set()

    def pause(self) -> None:
        """Stop reading and writing (clients see a silent server), like SIGSTOP.

        Returns once the I/O loop has really stopped (bounded wait)."""
        self._pause_seen.clear()
        self._paused.set()
        self._pause_seen.wait(timeout=2)

    def resume(self) -> None:
        self._paused.clear()

    def reset(self) -> None:
        """Forget what was received and clear every failure control."""
        with self._lock:
            self.received.clear()
            self.transfers = self.rejected = 0
            self._reject_budget = 0
            self.mode = None
        self._paused.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait (bounded) until at least ``count`` events were received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.01)
        return len(self.received) >= count

    def __enter__(self) -> AmqpTestEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the I/O loop
    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                if self._paused.is_set():
                    self._pause_seen.set()
                    time.sleep(0.01)
                    continue
                if self._close_all.is_set():
                    self._close_all.clear()
                    for client in list(self._clients.values()):
                        self._drop(selector, client)
                for key, mask in selector.select(timeout=0.02):
                    sock = key.fileobj
                    if sock is self._listener:
                        self._accept(selector)
                        continue
                    client = self._clients.get(sock)  # type: ignore[call-overload]
                    if client is None:
                        continue
                    if mask & selectors.EVENT_READ:
                        self._read(selector, client)
                    if mask & selectors.EVENT_WRITE and not client.closed:
                        self._write(selector, client)
                for client in list(self._clients.values()):
                    self._pump(selector, client)
                    if client.transport.closed and not client.outgoing:
                        self._drop(selector, client)
        finally:
            for client in list(self._clients.values()):
                self._drop(selector, client)
            selector.close()

    def _accept(self, selector: selectors.BaseSelector) -> None:
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self.mode == "refuse":
            sock.close()
            return
        self.connections_accepted += 1
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = Connection()
        transport = Transport(Transport.SERVER)
        transport.idle_timeout = 120.0
        sasl = transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")
        transport.bind(connection)
        collector = Collector()
        connection.collect(collector)
        connection.properties = {symbol("product"): "retail-datagen-test-endpoint"}
        connection.offered_capabilities = [symbol("retail-datagen-test")]
        connection.desired_capabilities = [symbol("retail-datagen-test")]
        client = _Client(sock, connection, transport, collector)
        self._clients[sock] = client
        selector.register(sock, selectors.EVENT_READ)

    def _drop(self, selector: selectors.BaseSelector, client: _Client) -> None:
        if client.closed:
            return
        client.closed = True
        self._clients.pop(client.sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            selector.unregister(client.sock)
        with contextlib.suppress(OSError):
            client.sock.close()
        with contextlib.suppress(Exception):
            client.transport.unbind()

    def _read(self, selector: selectors.BaseSelector, client: _Client) -> None:
        try:
            data = client.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            client.transport.close_tail()
            self._drop(selector, client)
            return
        view = memoryview(data)
        while view:
            capacity = client.transport.capacity()
            if capacity <= 0:
                # the transport cannot take input (closed); nothing more to do for this client
                self._drop(selector, client)
                return
            chunk = view[:capacity]
            client.transport.push(bytes(chunk))
            view = view[len(chunk) :]
            self._pump(selector, client)
            if client.closed:
                return

    def _write(self, selector: selectors.BaseSelector, client: _Client) -> None:
        while client.outgoing:
            try:
                sent = client.sock.send(client.outgoing)
            except BlockingIOError:
                break
            except OSError:
                self._drop(selector, client)
                return
            del client.outgoing[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.outgoing else 0)
        with contextlib.suppress(KeyError, ValueError, OSError):
            selector.modify(client.sock, events)

    def _pump(self, selector: selectors.BaseSelector, client: _Client) -> None:
        """Handle pending protocol events, then move the transport's output to the socket."""
        if client.closed:
            return
        while True:
            event = client.collector.peek()
            if event is None:
                break
            try:
                self._handle(client, event)
            finally:
                client.collector.pop()
        pending = client.transport.pending()
        if pending > 0:
            data = client.transport.peek(pending) or b""
            client.transport.pop(pending)
            client.outgoing += client.normaliser.feed(data)
        if client.outgoing:
            self._write(selector, client)

    # ------------------------------------------------------------------ protocol handling
    def _handle(self, client: _Client, event: Any) -> None:  # proton's optional-everything
        kind = event.type
        if kind == Event.CONNECTION_REMOTE_OPEN:
            event.connection.open()
        elif kind == Event.SESSION_REMOTE_OPEN:
            event.session.open()
        elif kind == Event.LINK_REMOTE_OPEN:
            self._open_link(event.link)
        elif kind == Event.LINK_REMOTE_CLOSE:
            event.link.close()
        elif kind == Event.SESSION_REMOTE_CLOSE:
            event.session.close()
        elif kind == Event.CONNECTION_REMOTE_CLOSE:
            event.connection.close()
        elif kind == Event.DELIVERY:
            delivery = event.delivery
            link = delivery.link
            if link.is_receiver and delivery.readable and not delivery.partial:
                self._on_transfer(client, link, delivery)
            elif link.is_sender and delivery.updated:
                delivery.settle()

    def _open_link(self, link: Any) -> None:
        link.properties = {symbol("com.microsoft:tracking-id"): "retail-datagen-test"}
        link.max_message_size = 1024 * 1024
        if link.is_sender:
            link.source.address = link.remote_source.address
            link.target.address = link.remote_target.address
        else:
            link.target.address = link.remote_target.address
            link.source.address = link.remote_source.address
        link.open()
        if link.is_receiver:
            link.flow(HUB_CREDIT)

    def _on_transfer(self, client: _Client, link: Any, delivery: Any) -> None:
        raw = bytes(link.recv(delivery.pending) or b"")
        link.advance()
        address = link.remote_target.address or ""
        if address in ("$cbs", "$management"):
            request = Message()
            request.decode(raw)
            self._reply(client, link, address, request)
            delivery.update(Delivery.ACCEPTED)
        else:
            self._on_event_transfer(client, delivery, raw)
        delivery.settle()
        if link.credit < HUB_CREDIT // 2:
            link.flow(HUB_CREDIT - link.credit)

    def _on_event_transfer(self, client: _Client, delivery: Delivery, raw: bytes) -> None:
        with self._lock:
            reject = self.mode == "reject" or self._reject_budget > 0
            if self._reject_budget > 0:
                self._reject_budget -= 1
        if self.mode == "drop":
            self.rejected += 1
            self._close_all.set()
            return
        if reject:
            self.rejected += 1
            delivery.local.condition = Condition(
                "amqp:internal-error",
                "injected failure",
                {symbol("retail-datagen-test"): "reject"},
            )
            delivery.update(Delivery.REJECTED)
            return
        events = _decode_events(raw)
        with self._lock:
            self.received.extend(events)
            self.transfers += 1
        delivery.update(Delivery.ACCEPTED)

    def _reply(self, client: _Client, link: Any, address: str, request: Message) -> None:
        request_properties: dict[Any, Any] = request.properties or {}
        props = {str(k): v for k, v in request_properties.items()}
        reply: Any = Message(correlation_id=request.id, address=request.reply_to)
        reply.subject = "reply"
        reply.reply_to = address
        reply.content_type = "application/x-amqp"
        reply.content_encoding = "none"
        reply.group_id = "none"
        reply.group_sequence = 0
        reply.reply_to_group_id = "none"
        reply.creation_time = time.time()
        reply.expiry_time = time.time() + 60
        if address == "$cbs":
            self.tokens += 1
            reply.properties = {"status-code": 200, "status-description": "OK"}
            reply.body = None
        else:
            status, body = self._management(props)
            reply.properties = {"status-code": status, "status-description": "OK"}
            reply.body = body
        sender = self._reply_link(link.session.connection, address)
        if sender is None:
            return
        client.tag += 1
        out = sender.delivery(str(client.tag))
        sender.send(reply.encode())
        sender.advance()
        out.settle()

    def _management(self, props: dict[str, Any]) -> tuple[int, Any]:
        now = timestamp(int(time.time() * 1000))
        if props.get("operation") != "READ" or props.get("name") != self.hub:
            return 404, None
        if props.get("type") == "com.microsoft:eventhub":
            return 200, {
                "name": self.hub,
                "type": "com.microsoft:eventhub",
                "created_at": timestamp(1_700_000_000_000),
                "partition_count": len(self.partition_ids),
                "partition_ids": Array(UNDESCRIBED, Data.STRING, *self.partition_ids),  # type: ignore[arg-type]
            }
        partition = str(props.get("partition", ""))
        if props.get("type") == "com.microsoft:partition" and partition in self.partition_ids:
            return 200, {
                "name": self.hub,
                "type": "com.microsoft:partition",
                "partition": partition,
                "begin_sequence_number": 0,
                "last_enqueued_sequence_number": 0,
                "last_enqueued_offset": "0",
                "last_enqueued_time_utc": now,
                "is_partition_empty": True,
            }
        return 404, None

    @staticmethod
    def _reply_link(connection: Connection, address: str) -> Link | None:
        link = connection.link_head(Endpoint.LOCAL_ACTIVE)
        while link is not None:
            if link.is_sender and link.source.address == address:
                return link
            link = link.next(Endpoint.LOCAL_ACTIVE)
        return None


@contextlib.contextmanager
def running_endpoint(hub: str = "retail-events") -> Iterator[AmqpTestEndpoint]:
    """An endpoint that is stopped when the block ends, even on failure."""
    endpoint = AmqpTestEndpoint(hub=hub).start()
    try:
        yield endpoint
    finally:
        endpoint.stop()
