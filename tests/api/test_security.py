"""Security rules: the API token off loopback, no secret in any GET response, cross-origin
writes refused, remote clients refused when the bind address is unknown."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from retail_datagen.api import ServerSettings, create_app
from retail_datagen.errors import UserError


def test_binding_off_loopback_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.10", "::", "example.org"):
        with pytest.raises(UserError, match="RETAIL_DATAGEN_API_TOKEN"):
            create_app(ServerSettings(host=host, data_dir=tmp_path))
    with pytest.raises(UserError, match="too short"):
        create_app(ServerSettings(host="0.0.0.0", api_token="short", data_dir=tmp_path))
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
        create_app(ServerSettings(host=host, data_dir=tmp_path))


def test_startup_message_names_the_rule_but_never_the_token(secrets: Any) -> None:
    settings = ServerSettings(host="0.0.0.0", api_token=secrets.token)
    message = settings.startup_message()
    assert "Bearer" in message and secrets.token not in message
    assert secrets.token not in repr(settings)


def test_settings_read_the_token_and_allowed_dirs_from_the_environment(tmp_path: Path) -> None:
    env = {
        "RETAIL_DATAGEN_API_TOKEN": " abcdefghijklmnopqrstuvwxyz ",
        "RETAIL_DATAGEN_ALLOWED_SINK_DIRS": str(tmp_path),
    }
    settings = ServerSettings.from_env(host="0.0.0.0", environ=env)
    assert settings.api_token == "abcdefghijklmnopqrstuvwxyz"
    assert settings.allowed_sink_dirs == (tmp_path.resolve(),)
    assert settings.token_required


@pytest.fixture
async def guarded(make_app: Any, secrets: Any, caplog: pytest.LogCaptureFixture) -> Any:
    app = make_app(host="0.0.0.0", api_token=secrets.token)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://192.0.2.1:8000") as c:
        yield c


WRITES = [
    ("POST", "/api/config/reset", None),
    ("PUT", "/api/config", {"seed": 3}),
    ("POST", "/api/generate/dimensions", {}),
    ("POST", "/api/data/clear", {"confirm": "DELETE ALL DATA"}),
    ("POST", "/api/stream/stop", None),
    ("POST", "/api/disruptions/clear", {"confirm": "DELETE ALL DISRUPTIONS"}),
    ("POST", "/api/tasks/x/cancel", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_state_changing_routes_need_the_token_off_loopback(
    guarded: httpx.AsyncClient, secrets: Any, method: str, path: str, body: Any
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": secrets.token},
    ):
        response = await guarded.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, headers)
        assert response.headers["www-authenticate"] == "Bearer"
        assert secrets.token not in response.text
    ok = await guarded.request(
        method, path, json=body, headers={"Authorization": f"Bearer {secrets.token}"}
    )
    assert ok.status_code != 401


async def test_reads_need_no_token(guarded: httpx.AsyncClient) -> None:
    for path in ("/health", "/api/config", "/api/tables", "/metrics", "/"):
        assert (await guarded.get(path)).status_code == 200, path
    info = (await guarded.get("/api/info")).json()
    assert info["auth_required"] is True


async def test_the_token_never_reaches_the_log(
    guarded: httpx.AsyncClient, secrets: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await guarded.post("/api/config/reset", headers={"Authorization": "Bearer nope"})
    await guarded.post("/api/config/reset", headers={"Authorization": f"Bearer {secrets.token}"})
    assert secrets.token not in caplog.text


async def test_cross_origin_writes_are_refused(client: httpx.AsyncClient) -> None:
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = await client.post("/api/config/reset", headers=headers)
        assert response.status_code == 403, headers
    same = await client.post("/api/config/reset", headers={"Origin": "http://127.0.0.1:8000"})
    assert same.status_code == 200


async def test_unknown_bind_address_accepts_writes_from_loopback_only(make_app: Any) -> None:
    app = make_app(loopback_clients_only=True)
    for client_host, expected in (("192.0.2.7", 403), ("127.0.0.1", 200)):
        transport = httpx.ASGITransport(app, client=(client_host, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            assert (await c.post("/api/config/reset")).status_code == expected
            assert (await c.get("/api/config")).status_code == 200


# ---------------------------------------------------------------- no secret in any GET
def _get_paths(app: FastAPI) -> list[str]:
    """Every GET route of the OpenAPI schema, with path parameters filled in."""
    fill = {"{task_id}": "none", "{name}": "fact_receipts", "{disruption_id}": "none"}
    paths: list[str] = []
    for path, operations in app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        for key, value in fill.items():
            path = path.replace(key, value)
        if path == "/api/stream/live":
            path += "?count=1"
        paths.append(path)
    return paths


async def test_no_secret_in_any_get_response(
    make_app: Any,
    tmp_path: Path,
    tiny: dict[str, Any],
    secrets: Any,
    generate: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env_key = "ZW52LXNlY3JldC1rZXktbmV2ZXItc2hvd24tOTg3NjU0MzIx"
    monkeypatch.setenv(
        "AZURE_EVENTHUB_CONNECTION_STRING",
        f"Endpoint=sb://env-ns.servicebus.windows.net/;SharedAccessKeyName=p;SharedAccessKey={env_key}",
    )
    tiny["realtime"] = {"azure_connection_string": secrets.connection_string}
    config = tmp_path / "secret.json"
    config.write_text(json.dumps(tiny), encoding="utf-8")
    generate(tmp_path / "data", days=1)
    app = make_app(config_file=config)
    paths = _get_paths(app)
    assert len(paths) >= 20
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            task = await client.post("/api/validate/task")
            paths.append(f"/api/tasks/{task.json()['id']}")
            for path in paths:
                response = await client.get(path)
                assert response.status_code < 500, (path, response.text)
                for secret in (secrets.key, env_key, secrets.connection_string):
                    assert secret not in response.text, path
            # the configured connection string is described, never shown
            described = await client.post("/api/connection/validate", json={})
            if described.status_code == 200:
                assert env_key not in described.text and secrets.key not in described.text
            # a rejected PUT that echoes values does not echo the secret either
            bad = await client.put(
                "/api/config",
                json={
                    "realtime": {"azure_connection_string": secrets.connection_string, "burst": 0}
                },
            )
            assert bad.status_code == 422 and secrets.key not in bad.text
    assert not re.search(env_key, config.read_text(encoding="utf-8"))
