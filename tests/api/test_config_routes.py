"""Configuration routes: masked reads, validated atomic writes, inline errors, reset."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from retail_datagen.api import ServerSettings, create_app


async def test_get_config_masks_the_secret(
    make_app: Callable[..., FastAPI], tmp_path: Path, tiny: dict[str, Any], secrets: Any, sse: Any
) -> None:
    tiny["realtime"] = {"azure_connection_string": secrets.connection_string}
    config = tmp_path / "secret.json"
    config.write_text(json.dumps(tiny), encoding="utf-8")
    app = make_app(config_file=config)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.get("/api/config")
    body = response.json()
    assert body["config"]["realtime"]["azure_connection_string"] == "***"
    assert secrets.key not in response.text
    assert body["config"]["volume"]["stores"] == 4
    assert Path(body["config"]["paths"]["data"]) == tmp_path / "data"


async def test_put_saves_atomically_to_the_servers_config_file(
    client: httpx.AsyncClient, tmp_path: Path, tiny: dict[str, Any]
) -> None:
    tiny["volume"]["stores"] = 5
    response = await client.put("/api/config", json=tiny)
    assert response.status_code == 200
    assert response.json()["config"]["volume"]["stores"] == 5
    saved = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert saved["volume"]["stores"] == 5
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temporary left over
    assert (await client.get("/api/config")).json()["config"]["volume"]["stores"] == 5


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"volume": {"stores": 0}}, "volume.stores"),
        ({"volume": {"storez": 3}}, "volume.storez"),
        ({"volume": {"stores": "ten"}}, "volume.stores"),
        ({"historical": {"start_date": "2999-01-01"}}, "historical.start_date"),
        (
            {"volume": {"store_initial_inventory_min": 500, "store_initial_inventory_max": 20}},
            "volume.store_initial_inventory_min",
        ),
    ],
)
async def test_bad_values_are_422_naming_the_key(
    client: httpx.AsyncClient, tmp_path: Path, change: dict[str, Any], key: str
) -> None:
    before = (tmp_path / "config.json").read_text(encoding="utf-8")
    response = await client.put("/api/config", json=change)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert key in detail and "\n" not in detail
    assert (tmp_path / "config.json").read_text(encoding="utf-8") == before  # nothing saved
    check = (await client.post("/api/config/validate", json=change)).json()
    assert check["valid"] is False
    assert [e["key"] for e in check["errors"]] == [key]


async def test_validate_accepts_a_good_config(
    client: httpx.AsyncClient, tiny: dict[str, Any]
) -> None:
    assert (await client.post("/api/config/validate", json=tiny)).json() == {
        "valid": True,
        "errors": [],
    }


async def test_a_body_that_is_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/config", json=[1, 2])
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body")


async def test_the_data_folder_cannot_move_while_serving(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    response = await client.put("/api/config", json={"paths": {"data": str(tmp_path / "else")}})
    assert response.status_code == 422
    assert "paths.data" in response.json()["detail"]


async def test_sending_the_mask_back_keeps_the_stored_secret(
    make_app: Callable[..., FastAPI], tmp_path: Path, tiny: dict[str, Any], secrets: Any
) -> None:
    tiny["realtime"] = {"azure_connection_string": secrets.connection_string}
    config = tmp_path / "secret.json"
    config.write_text(json.dumps(tiny), encoding="utf-8")
    transport = httpx.ASGITransport(make_app(config_file=config))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        shown = (await client.get("/api/config")).json()["config"]
        shown["seed"] = 99
        response = await client.put("/api/config", json=shown)
        assert response.status_code == 200 and secrets.key not in response.text
    saved = json.loads(config.read_text(encoding="utf-8"))
    assert saved["realtime"]["azure_connection_string"] == secrets.connection_string
    assert saved["seed"] == 99


async def test_reset_restores_the_defaults(client: httpx.AsyncClient, tmp_path: Path) -> None:
    response = await client.post("/api/config/reset")
    assert response.status_code == 200
    assert response.json()["config"]["volume"]["stores"] == 42
    defaults = (await client.get("/api/config/defaults")).json()["config"]
    assert defaults["volume"]["stores"] == 42
    saved = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert saved["volume"]["stores"] == 42


async def test_without_a_config_file_edits_go_to_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = create_app(ServerSettings(data_dir=data))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.put("/api/config", json={"seed": 5})
    assert response.status_code == 200
    saved = json.loads((data / "config.json").read_text(encoding="utf-8"))
    assert saved["seed"] == 5 and saved["paths"]["data"] == str(data)
    # a new server on the folder picks the saved file up
    assert create_app(ServerSettings(data_dir=data)).state.services.config.config.seed == 5
