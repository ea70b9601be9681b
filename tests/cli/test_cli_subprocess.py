"""The installed console script (``pip install -e .`` puts it next to the interpreter) and
``python -m retail_datagen``, run as real processes: one smoke test each. Everything else about
the commands runs in process (test_cli.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "retail-datagen"


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=600, cwd=cwd, env=env
    )


@pytest.mark.skipif(not SCRIPT.exists(), reason=f"console script not installed at {SCRIPT}")
def test_console_script_runs_the_cli_with_one_line_errors(tmp_path: Path) -> None:
    help_text = run(str(SCRIPT), "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "Usage" in help_text.stdout and "generate" in help_text.stdout
    config = tmp_path / "bad.json"
    config.write_text("{ this is not json", encoding="utf-8")
    data = tmp_path / "data"
    bad = run(str(SCRIPT), "generate", "--config", str(config), "--data-dir", str(data))
    assert bad.returncode == 2, bad.stderr
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad.json"), bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_python_dash_m_runs_the_same_cli() -> None:
    result = run(sys.executable, "-m", "retail_datagen", "--version")
    assert result.returncode == 0 and result.stdout.startswith("retail-datagen ")
