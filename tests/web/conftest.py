"""A real uvicorn server (in a thread, on a pre-bound free 127.0.0.1 port, over a tmp data
folder) and a headless Debian Chromium driven by Playwright. Everything is stopped afterwards.

Screenshots go to a tmp folder, or to docs/screenshots/ with RETAIL_DATAGEN_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.volumes import generate, tiny_config

from retail_datagen.api import ServerSettings, create_app
from retail_datagen.config.models import RetailConfig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Server:
    url: str
    data_dir: Path
    config_file: Path

    def generate(self, days: int) -> None:
        """Dimensions and ``days`` days of facts with the library (not through the UI)."""
        config = RetailConfig.from_file(self.config_file).with_data_dir(self.data_dir)
        generate(config, "2024-01-01", f"2024-01-{days:02d}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(tiny_config()), encoding="utf-8")
    data_dir = tmp_path / "data"
    app = create_app(ServerSettings(config_file=config_file, data_dir=data_dir, workers=1))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", data_dir, config_file)
    finally:
        uv.should_exit = True
        thread.join(20)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page; console errors and page errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(msg: Any) -> None:
        # an API answer of 4xx/5xx is shown on the page; only script errors count here
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            problems.append(f"console: {msg.text}")

    tab.on("console", on_console)
    try:
        yield tab
        assert problems == [], problems
    finally:
        context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def shot(tmp_path: Path) -> Callable[..., Path]:
    """Save a screenshot (docs/screenshots/ with RETAIL_DATAGEN_SCREENSHOTS=1).

    For the docs, the tmp folder paths in the header are shown as the default ``data`` and
    ``data/config.json`` (environment noise, not content), and toasts are hidden.
    """
    docs = os.environ.get("RETAIL_DATAGEN_SCREENSHOTS") == "1"
    folder = DOCS_SCREENSHOTS if docs else tmp_path

    def take(page: Any, name: str, *, full_page: bool = False) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        if docs:
            page.evaluate(
                """() => {
                    const dir = document.getElementById('data-dir');
                    if (dir) dir.textContent = 'data';
                    const file = document.getElementById('config-file');
                    if (file) file.textContent = 'data/config.json';
                    document.getElementById('toast').hidden = true;
                }"""
            )
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
