"""Streaming routes against the real streamer, a file sink in the tmp data folder, and the
resilience helpers (connection checks, dead letters, disruptions)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from retail_datagen.streaming.events import EVENT_TYPES


async def _sent(client: httpx.AsyncClient, at_least: int, timeout: float = 20) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    stats: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        body = (await client.get("/api/stream/statistics")).json()
        stats = body["statistics"]
        if stats.get("events_sent", 0) >= at_least:
            return stats
        status = (await client.get("/api/stream/status")).json()
        assert status["error"] is None, status["error"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} events sent in {timeout} s: {stats}")


async def test_stream_to_a_file_sink_and_stop(own_data: httpx.AsyncClient, tmp_path: Path) -> None:
    sink = f"file://{tmp_path / 'data' / 'stream' / 'events.jsonl'}"
    body = {"sink": sink, "rate": 2000, "event_types": ["receipt_created", "ble_ping_detected"]}
    started = await own_data.post("/api/stream/start", json=body)
    assert started.status_code == 200, started.text
    assert started.json()["running"] is True
    try:
        again = await own_data.post("/api/stream/start", json=body)
        assert again.status_code == 409
        busy = await own_data.post("/api/generate/facts", json={"days": 1})
        assert busy.status_code == 409 and "streamer" in busy.json()["detail"]

        first = await _sent(own_data, 1)
        later = await _sent(own_data, first["events_sent"] + 1)
        assert later["events_sent"] > first["events_sent"]  # the counter moves
        recent = (await own_data.get("/api/stream/events?limit=5")).json()
        assert recent["running"] and 1 <= len(recent["events"]) <= 5
        assert {e["event_type"] for e in recent["events"]} <= set(body["event_types"])
        dashboard = (await own_data.get("/api/dashboard")).json()
        assert dashboard["streaming"] and dashboard["recent_events"]
        metrics = (await own_data.get("/metrics")).text
        assert "retail_datagen_stream_events_sent_total" in metrics
        live = await own_data.get("/api/stream/live?count=1&events=2")
        assert live.headers["content-type"].startswith("text/event-stream")
        assert '"running": true' in live.text
    finally:
        stopped = await own_data.post("/api/stream/stop")
    assert stopped.status_code == 200 and stopped.json()["running"] is False
    lines = (tmp_path / "data" / "stream" / "events.jsonl").read_text().splitlines()
    assert lines and json.loads(lines[0])["event_type"] in body["event_types"]
    # the folder is free again
    assert (
        await own_data.post("/api/generate/dimensions", json={"force": True})
    ).status_code == 202


async def test_clear_can_stop_the_stream_first(own_data: httpx.AsyncClient, tmp_path: Path) -> None:
    sink = "file:stream/clear.jsonl"  # relative to the data folder
    assert (
        await own_data.post("/api/stream/start", json={"sink": sink, "rate": 500})
    ).status_code == 200
    refused = await own_data.post("/api/data/clear", json={"confirm": "DELETE ALL DATA"})
    assert refused.status_code == 409 and "streamer" in refused.json()["detail"]
    body = {"confirm": "DELETE ALL DATA", "cancel_running": True}
    cleared = await own_data.post("/api/data/clear", json=body)
    assert cleared.status_code == 200 and cleared.json()["stream_stopped"] is True
    assert not (tmp_path / "data" / "retail.duckdb").exists()


async def test_streaming_without_history_is_a_clear_409(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/stream/start", json={"sink": "file:stream/events.jsonl"})
    assert response.status_code == 409
    assert "generate" in response.json()["detail"]


@pytest.mark.parametrize(
    "sink",
    [
        "file:///etc/retail-events.jsonl",
        "file:../outside.jsonl",
        "file://./../../outside.jsonl",
        "file:///tmp/../etc/passwd",
        "file://remote-host/share/events.jsonl",
    ],
)
async def test_file_sinks_outside_the_data_folder_are_refused(
    client: httpx.AsyncClient, sink: str
) -> None:
    for path, body in (
        ("/api/stream/start", {"sink": sink}),
        ("/api/connection/test", {"sink": sink}),
        ("/api/dead-letters/replay", {"sink": sink}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code in (400, 403), (path, sink, response.text)


async def test_allowed_sink_dirs_extend_the_file_sink_area(make_app: Any, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    app = make_app(allowed_sink_dirs=(allowed,))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        ok = await client.post("/api/connection/test", json={"sink": f"file://{allowed}/e.jsonl"})
        assert ok.json()["ok"] is True, ok.text
        other = await client.post(
            "/api/connection/test", json={"sink": f"file://{tmp_path}/e.jsonl"}
        )
        assert other.status_code == 403


async def test_bad_stream_requests_are_422(client: httpx.AsyncClient) -> None:
    for body, field in (
        ({"rate": 0}, "rate"),
        ({"speed": -1}, "speed"),
        ({"burst": 0}, "burst"),
        ({"sinkk": "stdout"}, "sinkk"),
    ):
        response = await client.post("/api/stream/start", json=body)
        assert response.status_code == 422 and field in response.json()["detail"]
    unknown = await client.post(
        "/api/stream/start", json={"sink": "file:stream/e.jsonl", "event_types": ["nope"]}
    )
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]
    scheme = await client.post("/api/connection/test", json={"sink": "ftp://x"})
    assert scheme.status_code == 400 and "scheme" in scheme.json()["detail"]


async def test_status_statistics_and_event_types_before_any_stream(
    client: httpx.AsyncClient,
) -> None:
    status = (await client.get("/api/stream/status")).json()
    assert status["available"] is True and status["running"] is False
    assert (await client.get("/api/stream/statistics")).json() == {
        "running": False,
        "statistics": None,
    }
    assert (await client.get("/api/stream/events")).json() == {"running": False, "events": []}
    types = (await client.get("/api/stream/event-types")).json()["event_types"]
    assert types == list(EVENT_TYPES)
    assert (await client.post("/api/stream/stop")).json()["running"] is False


async def test_connection_string_validation_never_returns_the_key(
    client: httpx.AsyncClient, secrets: Any
) -> None:
    good = await client.post(
        "/api/connection/validate", json={"connection_string": secrets.connection_string}
    )
    info = good.json()
    assert info["valid"] is True and info["source"] == "request"
    assert info["info"]["namespace"] == "unit-ns" and info["info"]["entity_path"] == "retail"
    assert secrets.key not in good.text
    bad = await client.post(
        "/api/connection/validate",
        json={"connection_string": f"Endpoint=http://x/;SharedAccessKey={secrets.key}"},
    )
    assert bad.json()["valid"] is False and secrets.key not in bad.text
    none = (await client.post("/api/connection/validate", json={})).json()
    assert none["source"] in ("none", "configured")


async def test_connection_test_opens_and_closes_a_file_sink(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    result = (
        await client.post("/api/connection/test", json={"sink": "file:stream/probe/events.jsonl"})
    ).json()
    assert result["ok"] is True and result["error"] is None


async def test_dead_letters_list_and_replay(client: httpx.AsyncClient, tmp_path: Path) -> None:
    from retail_datagen.streaming.dead_letters import DeadLetterStore
    from retail_datagen.streaming.event import Event

    store = DeadLetterStore(tmp_path / "data")
    events = [
        Event(
            "receipt_created",
            f"t{i}",
            "store-1",
            b'{"event_type": "receipt_created"}',
            datetime(2024, 1, 1),
        )
        for i in range(3)
    ]
    store.add(events, "broker down", "kafka://x/y")
    listed = (await client.get("/api/dead-letters?limit=2")).json()
    assert listed["count"] == 3 and len(listed["items"]) == 2
    assert listed["items"][0]["event_type"] == "receipt_created"
    filtered = (await client.get("/api/dead-letters?event_type=ble_ping_detected")).json()
    assert filtered["items"] == []
    first = listed["items"][0]["id"]
    one = await client.post(
        "/api/dead-letters/replay", json={"sink": "file:stream/replay.jsonl", "ids": [first]}
    )
    assert one.json()["result"] == {"replayed": 1, "failed": 0}
    rest = await client.post("/api/dead-letters/replay", json={"sink": "file:stream/replay.jsonl"})
    assert rest.json()["result"] == {"replayed": 2, "failed": 0}
    assert (await client.get("/api/dead-letters")).json()["count"] == 0
    assert len((tmp_path / "data" / "stream" / "replay.jsonl").read_text().splitlines()) == 3


async def test_disruptions_create_list_delete_clear(client: httpx.AsyncClient) -> None:
    body = {
        "kind": "dc_outage",
        "target_type": "dc",
        "target_id": 1,
        "start": "2024-01-05T00:00:00",
        "end": "2024-01-06T00:00:00",
    }
    created = await client.post("/api/disruptions", json=body)
    assert created.status_code == 201
    item = created.json()
    assert item["severity"] == 0.5 and item["id"]
    active = (await client.get("/api/disruptions?active_at=2024-01-05T12:00:00")).json()
    assert [d["id"] for d in active["disruptions"]] == [item["id"]]
    inactive = (await client.get("/api/disruptions?active_at=2024-02-01T00:00:00")).json()
    assert inactive["disruptions"] == []
    wrong = await client.post("/api/disruptions", json={**body, "target_type": "store"})
    assert wrong.status_code == 422 and "dc_outage" in wrong.json()["detail"]
    backwards = await client.post("/api/disruptions", json={**body, "end": "2024-01-04T00:00:00"})
    assert backwards.status_code == 422 and "end" in backwards.json()["detail"]
    assert (await client.delete(f"/api/disruptions/{item['id']}")).status_code == 200
    assert (await client.delete(f"/api/disruptions/{item['id']}")).status_code == 404
    await client.post("/api/disruptions", json=body)
    confirm = {"confirm": "DELETE ALL DISRUPTIONS"}
    assert (await client.post("/api/disruptions/clear", json=confirm)).json() == {"removed": 1}
    assert (await client.get("/api/disruptions")).json() == {"disruptions": []}
