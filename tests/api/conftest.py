"""Fixtures for the API tests: an app per test over a tmp data folder, an httpx client on it
(ASGI transport, lifespan run), and one small generated dataset shared read-only by a module."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.volumes import generate as generate_data
from tests.volumes import tiny_config

from retail_datagen.api import ServerSettings, create_app
from retail_datagen.config.models import RetailConfig

SECRET_KEY = "c2VjcmV0LWtleS1uZXZlci1zaG93bi0xMjM0NTY3ODk="
CONNECTION_STRING = (
    "Endpoint=sb://unit-ns.servicebus.windows.net/;SharedAccessKeyName=send;"
    f"SharedAccessKey={SECRET_KEY};EntityPath=retail"
)
TOKEN = "test-token-0123456789abcdef"

AppFactory = Callable[..., FastAPI]


def generate_tiny(data_dir: Path, days: int = 2) -> None:
    """Dimensions and ``days`` days of facts from 2024-01-01, with the library (no API)."""
    config = RetailConfig.from_mapping(tiny_config()).with_data_dir(data_dir)
    generate_data(config, "2024-01-01", f"2024-01-{days:02d}")


def write_config(path: Path, extra: dict[str, Any] | None = None) -> Path:
    data = tiny_config()
    for key, value in (extra or {}).items():
        data.setdefault(key, {}).update(value)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def make_app(tmp_path: Path) -> AppFactory:
    """Build an app over ``tmp_path/data`` (or ``data_dir``) with the tiny config file."""

    def build(
        data_dir: Path | None = None, *, config_file: Path | None = None, **settings: Any
    ) -> FastAPI:
        folder = data_dir or tmp_path / "data"
        config = config_file or write_config(tmp_path / "config.json")
        return create_app(
            ServerSettings(data_dir=folder, config_file=config, workers=1, **settings)
        )

    return build


async def open_client(app: FastAPI, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app, **kwargs)
    base_url = "http://127.0.0.1:8000"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base_url) as c,
    ):
        yield c


@pytest.fixture
async def client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app over an empty data folder."""
    async for c in open_client(make_app()):
        yield c


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the tiny dataset (2 days); tests must not change it."""
    folder = tmp_path_factory.mktemp("generated") / "data"
    generate_tiny(folder)
    return folder


@pytest.fixture
async def data_client(
    make_app: AppFactory, generated_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app over the shared generated dataset (read-only use)."""
    async for c in open_client(make_app(generated_dir)):
        yield c


@pytest.fixture
async def own_data(make_app: AppFactory, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a data folder of its own, one generated day (for tests that change it)."""
    generate_tiny(tmp_path / "data", days=1)
    async for c in open_client(make_app()):
        yield c


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, JSON data) of every event in a server-sent-events body."""
    events: list[tuple[str, dict[str, Any]]] = []
    for block in text.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
        if data is not None:
            events.append((name, data))
    return events


# ---------------------------------------------------------------- helpers as fixtures
# (tests run with --import-mode=importlib, so they cannot import this module by name)
@pytest.fixture
def sse() -> Callable[[str], list[tuple[str, dict[str, Any]]]]:
    return parse_sse


@pytest.fixture
def tiny() -> dict[str, Any]:
    return tiny_config()


class Secrets:
    key = SECRET_KEY
    connection_string = CONNECTION_STRING
    token = TOKEN


@pytest.fixture
def secrets() -> type[Secrets]:
    return Secrets


@pytest.fixture(scope="session")
def generate() -> Callable[..., None]:
    return generate_tiny


@pytest.fixture
def app_services() -> Callable[[httpx.AsyncClient], Any]:
    """The service container of the app behind a test client (to start test tasks)."""

    def get(client: httpx.AsyncClient) -> Any:
        transport = client._transport
        assert isinstance(transport, httpx.ASGITransport)
        return transport.app.state.services  # type: ignore[attr-defined]

    return get
