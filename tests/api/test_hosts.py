"""DNS-rebinding protection: only the loopback names, the bound address and the allowed hosts
are served (400 otherwise, before any route runs); writes from pages of other sites are
refused (403) while requests without ``Origin`` (curl, scripts) pass."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from retail_datagen.api import ServerSettings
from retail_datagen.api.hosts import host_name
from retail_datagen.errors import UserError


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        yield client


@pytest.fixture
async def loopback(make_app: Any, generated_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The default setup: bound to 127.0.0.1, no token, over a generated data folder."""
    async for client in _client(make_app(generated_dir)):
        yield client


async def _status(client: httpx.AsyncClient, host: str, path: str = "/health") -> int:
    return (await client.get(path, headers={"Host": host})).status_code


LOOPBACK_HOSTS = [
    "localhost",
    "localhost:8000",
    "LOCALHOST:8000",
    "127.0.0.1",
    "127.0.0.1:8000",
    "[::1]",
    "[::1]:8000",
]
FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:8000",
    "localhost.evil.example",
    "127.0.0.1.nip.io:8000",
    "evil.example@127.0.0.1",
    "127.0.0.1:8000/x",
    "::1",  # an IPv6 address must be bracketed
    "127.0.0.1:99999",
    "192.0.2.10",
    "",
]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
async def test_loopback_names_are_served_with_or_without_a_port(
    loopback: httpx.AsyncClient, host: str
) -> None:
    assert await _status(loopback, host) == 200
    assert await _status(loopback, host, "/api/tables/dim_customers/preview") == 200


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
async def test_other_hosts_get_400_with_a_one_line_json_error(
    loopback: httpx.AsyncClient, host: str
) -> None:
    response = await loopback.get("/health", headers={"Host": host})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert "\n" not in detail
    assert "--allowed-host" in detail and "RETAIL_DATAGEN_ALLOWED_HOSTS" in detail


async def test_a_rebinding_page_can_neither_read_customers_nor_clear_data(
    loopback: httpx.AsyncClient, generated_dir: Path
) -> None:
    """The attack of the issue: a page on evil.example re-pointed at 127.0.0.1 is same-origin
    for the browser, so it sends no foreign Origin — only its Host gives it away."""
    headers = {"Host": "evil.example:8000"}
    preview = await loopback.get("/api/tables/dim_customers/preview", headers=headers)
    assert preview.status_code == 400 and "CustomerID" not in preview.text
    clear = await loopback.post(
        "/api/data/clear",
        json={"confirm": "DELETE ALL DATA", "cancel_running": True},
        headers={**headers, "Origin": "http://evil.example:8000"},
    )
    assert clear.status_code == 400
    assert (generated_dir / "retail.duckdb").exists()
    drop_all = await loopback.post(
        "/api/disruptions/clear", json={"confirm": "DELETE ALL DISRUPTIONS"}, headers=headers
    )
    assert drop_all.status_code == 400


async def test_the_bound_address_is_served(make_app: Any, secrets: Any) -> None:
    app = make_app(host="192.0.2.10", api_token=secrets.token)
    async for client in _client(app):
        assert await _status(client, "192.0.2.10:8000") == 200
        assert await _status(client, "localhost:8000") == 200
        assert await _status(client, "192.0.2.11:8000") == 400
        assert await _status(client, "evil.example") == 400


async def test_a_wildcard_bind_serves_any_ip_and_the_host_name_but_no_other_name(
    make_app: Any, secrets: Any
) -> None:
    app = make_app(host="0.0.0.0", api_token=secrets.token)
    async for client in _client(app):
        for host in ("192.0.2.10:8000", "[2001:db8::1]:8000", socket.gethostname()):
            assert await _status(client, host) == 200, host
        assert await _status(client, "evil.example") == 400


async def test_allowed_hosts_are_served_and_a_star_serves_any(make_app: Any) -> None:
    allowed = ("retail.lan", "Data.Example.", "192.0.2.7", "[2001:db8::7]")
    async for client in _client(make_app(allowed_hosts=allowed)):
        assert await _status(client, "192.0.2.7:8000") == 200
        assert await _status(client, "[2001:db8::7]:8000") == 200
        assert await _status(client, "retail.lan:8000") == 200
        assert await _status(client, "data.example") == 200
        assert await _status(client, "other.lan") == 400
    async for client in _client(make_app(allowed_hosts=("*",))):
        assert await _status(client, "anything.example:1234") == 200


def test_allowed_hosts_come_from_the_option_and_the_environment() -> None:
    env = {"RETAIL_DATAGEN_ALLOWED_HOSTS": "a.lan, b.lan c.lan,,"}
    settings = ServerSettings.from_env(allowed_hosts=("x.lan", "a.lan"), environ=env)
    assert settings.allowed_hosts == ("x.lan", "a.lan", "b.lan", "c.lan")
    assert ServerSettings.from_env(environ={}).allowed_hosts == ()


@pytest.mark.parametrize(
    "bad", ["http://x.lan", "x.lan:8000", "ab.cd:80", "[::1]:80", "x.lan/", "user@x.lan", "a b"]
)
def test_an_allowed_host_with_scheme_port_or_path_is_refused(make_app: Any, bad: str) -> None:
    with pytest.raises(UserError, match="not a host name or IP address"):
        make_app(allowed_hosts=(bad,))


def test_host_names_are_parsed_like_a_host_header() -> None:
    assert host_name("[::1]:8000") == "::1"
    assert host_name("Example.ORG.:80") == "example.org"
    assert host_name("127.0.0.1") == "127.0.0.1"
    for bad in ("", "a:b", "[::1", "[evil]:80", "a@b", "a/b", "1:2:3"):
        assert host_name(bad) is None, bad


# ---------------------------------------------------------------- cross-site writes
WRITES = [
    ("POST", "/api/config/reset", None),
    ("PUT", "/api/config", {"seed": 3}),
    ("POST", "/api/disruptions/clear", {"confirm": "DELETE ALL DISRUPTIONS"}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_writes_from_another_site_are_refused(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "http://evil.example:8000"},
        {"Origin": "null"},
        {"Origin": "file://"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "cross-site"},
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, headers
        assert "cross-origin" in response.json()["detail"]
    for headers in (
        {},  # curl, scripts, the CLI: no Origin
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://localhost:3000"},  # a page served on this machine
        {"Origin": "http://[::1]:8000"},
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code < 400, (headers, response.text)


async def test_writes_from_an_allowed_host_pass_but_not_from_any_host_of_a_star(
    make_app: Any,
) -> None:
    async for client in _client(make_app(allowed_hosts=("retail.lan",))):
        ok = await client.post(
            "/api/config/reset",
            headers={"Host": "127.0.0.1:8000", "Origin": "https://retail.lan"},
        )
        assert ok.status_code == 200
    async for client in _client(make_app(allowed_hosts=("*",))):
        # "*" opens the Host check (a proxy in front); other origins stay refused
        foreign = await client.post(
            "/api/config/reset",
            headers={"Host": "proxy.example", "Origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        same = await client.post(
            "/api/config/reset",
            headers={"Host": "proxy.example", "Origin": "http://proxy.example"},
        )
        assert same.status_code == 200


async def test_a_wildcard_bind_refuses_writes_from_a_page_on_an_ip_address(
    make_app: Any, secrets: Any
) -> None:
    app = make_app(host="0.0.0.0", api_token=secrets.token)
    async for client in _client(app):
        headers = {
            "Host": "192.0.2.1:8000",
            "Origin": "http://203.0.113.9",
            "Authorization": f"Bearer {secrets.token}",
        }
        assert (await client.post("/api/config/reset", headers=headers)).status_code == 403


def test_the_refusal_is_documented_in_the_openapi_schema(make_app: Any) -> None:
    schema = make_app().openapi()
    described = schema["paths"]["/api/config"]["get"]["responses"]["400"]["description"]
    assert "Host" in described and "--allowed-host" in described
