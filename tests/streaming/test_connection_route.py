"""``POST /api/connection/test`` contacts the destination: a real Kafka-protocol broker (tansu),
a closed port, and the local AMQP endpoint that the real azure-eventhub SDK talks to."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from amqp_endpoint import AmqpTestEndpoint
from tansu_broker import TansuBroker, free_port

from retail_datagen.api import ServerSettings, create_app
from retail_datagen.api.services.streaming import CONNECTION_TEST_TIMEOUT
from retail_datagen.config.secrets import ENV_VAR


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"seed": 3}), encoding="utf-8")
    app = create_app(ServerSettings(data_dir=tmp_path / "data", config_file=config, workers=1))
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c,
    ):
        yield c


async def check(client: httpx.AsyncClient, sink: str) -> dict[str, Any]:
    response = await client.post("/api/connection/test", json={"sink": sink})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_kafka_is_ok_only_when_the_broker_answers(
    client: httpx.AsyncClient, tansu: TansuBroker
) -> None:
    tansu.create_topic("checked", partitions=2)
    up = await check(client, f"kafka://{tansu.bootstrap}/checked")
    assert up["ok"] is True and up["error"] is None, up
    assert up["detail"] == {"brokers": 1, "topic": "checked", "partitions": 2}

    closed = await check(client, f"kafka://127.0.0.1:{free_port()}/checked")
    assert closed["ok"] is False
    assert "not reachable" in closed["error"] and "refused" in closed["error"].lower()
    # a refused connection is an answer: no waiting out the timeout
    assert closed["seconds"] < CONNECTION_TEST_TIMEOUT


async def test_event_hub_is_ok_only_when_the_hub_answers(
    client: httpx.AsyncClient,
    eventhub_endpoint: AmqpTestEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, eventhub_endpoint.connection_string)
    up = await check(client, "eventhub")
    assert up["ok"] is True, up
    assert up["detail"]["partition_ids"] == ["0", "1"]
    assert "SharedAccessKey=" not in json.dumps(up) or "***" in json.dumps(up)

    eventhub_endpoint.stop()  # nobody listens on its port any more
    down = await check(client, "eventhub")
    assert down["ok"] is False and down["error"], down


async def test_starting_a_stream_to_an_unreachable_broker_fails_the_request(
    tmp_path: Path,
) -> None:
    from tests.volumes import STREAM_VOLUME as SMALL_VOLUME

    from retail_datagen.config.models import RetailConfig
    from retail_datagen.generators.fact_generator import FactDataGenerator
    from retail_datagen.generators.master_generator import MasterDataGenerator

    mapping = {"seed": 3, "volume": SMALL_VOLUME, "historical": {"start_date": "2024-03-01"}}
    data = tmp_path / "data"
    cfg = RetailConfig.from_mapping(mapping).with_data_dir(data)
    MasterDataGenerator(cfg).generate_all_master_data()
    FactDataGenerator(cfg, workers=1).generate_historical_data("2024-03-01", "2024-03-01")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(mapping), encoding="utf-8")
    app = create_app(ServerSettings(data_dir=data, config_file=config, workers=1))
    before = (data / "generation_state.json").read_bytes()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000"
        ) as client,
    ):
        sink = f"kafka://127.0.0.1:{free_port()}/retail-events"
        response = await client.post("/api/stream/start", json={"sink": sink, "from_now": True})
        assert response.status_code == 503, response.text
        assert "not reachable" in response.json()["detail"]
        status = (await client.get("/api/stream/status")).json()
        assert status["running"] is False
    assert (data / "generation_state.json").read_bytes() == before
