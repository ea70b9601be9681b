"""Entry points: ``retail_datagen.main`` imports without side effects and builds ``app`` lazily;
``serve`` refuses a non-loopback bind without a token before binding anything."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner


def test_importing_main_starts_nothing_and_app_is_lazy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAIL_DATAGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RETAIL_DATAGEN_API_TOKEN", raising=False)
    import retail_datagen.main as main

    main = importlib.reload(main)
    assert main._app is None  # nothing built on import
    app = main.app
    assert isinstance(app, FastAPI) and main.app is app
    settings = app.state.services.settings
    assert settings.loopback_clients_only and settings.data_dir == tmp_path / "data"
    assert not (tmp_path / "data").exists()  # building the app writes nothing
    with pytest.raises(AttributeError):
        main.nothing  # noqa: B018


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    from retail_datagen.cli import app

    env = {k: v for k, v in os.environ.items() if k != "RETAIL_DATAGEN_API_TOKEN"}
    result = CliRunner().invoke(
        app, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)], env=env
    )
    assert result.exit_code == 2
    assert "RETAIL_DATAGEN_API_TOKEN" in result.output


def test_python_dash_m_main_has_the_serve_options() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "retail_datagen.main", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--host", "--port", "--config", "--data-dir"):
        assert option in done.stdout
