"""The generation estimate route, disruption targets checked against the dimensions (422),
removing every disruption only with the explicit confirmation, and a saved configuration that
holds a secret readable by its owner only (0600)."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

DISRUPTION = {
    "kind": "weather_delay",
    "target_type": "store",
    "target_id": 2,
    "start": "2024-01-05T00:00:00",
    "end": "2024-01-06T00:00:00",
}


async def test_estimate_of_the_default_run_and_of_a_window(client: httpx.AsyncClient) -> None:
    whole = await client.get("/api/generation/estimate")
    assert whole.status_code == 200, whole.text
    body = whole.json()
    yesterday = date.today() - timedelta(days=1)
    assert body["start"] == "2024-01-01" and body["end"] == yesterday.isoformat()
    assert body["days"] == (yesterday - date(2024, 1, 1)).days + 1
    assert body["rows"] > 0 and body["bytes"] > 0 and body["seconds"] > 0
    assert body["summary"].startswith(f"{body['days']:,} days (2024-01-01")
    window = await client.get(
        "/api/generation/estimate", params={"start": "2024-01-01", "days": 2, "format": "csv"}
    )
    small = window.json()
    assert (small["start"], small["end"], small["days"]) == ("2024-01-01", "2024-01-02", 2)
    assert small["output_format"] == "csv" and small["needs_confirmation"] is False
    assert small["workers"] == 1  # the server's setting


async def test_estimate_rejects_what_generation_would_reject(client: httpx.AsyncClient) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert (await client.get(f"/api/generation/estimate?end={tomorrow}")).status_code == 400
    both = await client.get("/api/generation/estimate?start=2024-01-01&end=2024-01-05&days=2")
    assert both.status_code == 400 and "at most two" in both.json()["detail"]
    assert (await client.get("/api/generation/estimate?days=0")).status_code == 422


async def test_estimate_continues_after_generated_facts(data_client: httpx.AsyncClient) -> None:
    body = (await data_client.get("/api/generation/estimate?days=3")).json()
    assert (body["start"], body["end"]) == ("2024-01-03", "2024-01-05")


async def test_a_disruption_target_missing_from_the_dimensions_is_422(
    make_app: Callable[..., FastAPI], tmp_path: Path, generate: Callable[..., None]
) -> None:
    data = tmp_path / "data"
    generate(data, days=1)  # 4 stores, 2 DCs
    transport = httpx.ASGITransport(make_app(data))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        missing = await client.post("/api/disruptions", json={**DISRUPTION, "target_id": 99})
        assert missing.status_code == 422
        assert "there is no store 99" in missing.json()["detail"]
        no_dc = await client.post(
            "/api/disruptions", json={**DISRUPTION, "target_type": "dc", "target_id": 3}
        )
        assert no_dc.status_code == 422 and "there is no dc 3" in no_dc.json()["detail"]
        assert (await client.post("/api/disruptions", json=DISRUPTION)).status_code == 201
        listed = (await client.get("/api/disruptions")).json()["disruptions"]
        assert [d["target_id"] for d in listed] == [2]


async def test_removing_every_disruption_needs_the_confirmation(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/api/disruptions", json=DISRUPTION)).status_code == 201
    assert (await client.delete("/api/disruptions")).status_code == 405
    for body in (None, {}, {"confirm": "yes"}, {"confirm": "DELETE ALL DATA"}):
        refused = await client.post("/api/disruptions/clear", json=body)
        assert refused.status_code == 422, refused.text
    assert len((await client.get("/api/disruptions")).json()["disruptions"]) == 1
    cleared = await client.post(
        "/api/disruptions/clear", json={"confirm": "DELETE ALL DISRUPTIONS"}
    )
    assert cleared.status_code == 200 and cleared.json() == {"removed": 1}
    assert (await client.get("/api/disruptions")).json() == {"disruptions": []}


async def test_a_saved_config_with_a_secret_is_readable_by_its_owner_only(
    client: httpx.AsyncClient, tmp_path: Path, tiny: dict[str, Any], secrets: Any
) -> None:
    saved = tmp_path / "config.json"
    tiny["realtime"] = {"azure_connection_string": secrets.connection_string}
    assert (await client.put("/api/config", json=tiny)).status_code == 200
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text(encoding="utf-8"))["realtime"]["azure_connection_string"]
    tiny["volume"]["stores"] = 5  # the mask keeps the stored secret: still 0600
    tiny["realtime"] = {"azure_connection_string": "***"}
    assert (await client.put("/api/config", json=tiny)).status_code == 200
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
