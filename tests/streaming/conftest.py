"""Shared streaming fixtures: real local servers and event factories.

* ``kafka_broker`` → ``"127.0.0.1:PORT"`` of a running tansu broker (``tansu`` gives the
  ``TansuBroker`` object itself: pause/resume/kill/restart/create_topic);
* ``eventhub_endpoint`` → a running ``AmqpTestEndpoint`` (``.connection_string``,
  ``.received`` = list of ``(partition_key, properties, body)``, failure controls);
* ``make_events(n, …)`` → realistic ``Event``s (~400-byte JSON envelopes over 42 stores).

Every server fixture stops its process/thread in ``finally``, so a failing test never leaks one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retail_datagen.config.secrets import ENV_VAR
from retail_datagen.streaming.event import Event

_HERE = Path(__file__).parent
if str(_HERE) not in sys.path:  # the helper modules next to this file (importlib import mode)
    sys.path.insert(0, str(_HERE))

from amqp_endpoint import AmqpTestEndpoint  # noqa: E402
from sample_events import build_events  # noqa: E402
from tansu_broker import TansuBroker  # noqa: E402


@pytest.fixture
def make_events() -> Callable[..., list[Event]]:
    return build_events


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[TansuBroker]:
    """A running tansu broker (object with pause/resume/kill/restart/create_topic)."""
    broker = TansuBroker(tmp_path).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def kafka_broker(tansu: TansuBroker) -> str:
    """``"127.0.0.1:PORT"`` of a running tansu broker (the same one as ``tansu``)."""
    return tansu.bootstrap


@pytest.fixture
def eventhub_endpoint() -> Iterator[AmqpTestEndpoint]:
    """A running local AMQP 1.0 endpoint that the real azure-eventhub SDK can send to."""
    endpoint = AmqpTestEndpoint().start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def no_secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No connection string from the environment or a ``.env`` file leaks into a test."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
