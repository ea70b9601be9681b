"""`generate` tells the size of a run before it starts: `--dry-run` prints the estimate and writes
nothing; a run above 20 GB or 30 minutes asks on a terminal, and without one exits 2 naming
`--yes`; `--yes` (or a small run) proceeds. The terminal case runs under a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from retail_datagen.cli import app

SCRIPT = Path(sys.executable).parent / "retail-datagen"


def _generate(data_dir: Path, *args: str, config: Path | None = None) -> Any:
    extra = ["--config", str(config)] if config else []
    return CliRunner().invoke(app, ["generate", "--data-dir", str(data_dir), *extra, *args])


def test_dry_run_prints_the_estimate_and_writes_nothing(data_dir: Path) -> None:
    result = _generate(data_dir, "--dry-run")
    assert result.exit_code == 0, result.output
    yesterday = date.today() - timedelta(days=1)
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith("estimate: ") and f"(2024-01-01 → {yesterday.isoformat()})" in line
    assert "rows" in line and "GB of Parquet on disk" in line and "workers" in line
    assert not data_dir.exists()  # not even the dimensions


def test_dry_run_of_a_window_and_format(data_dir: Path) -> None:
    result = _generate(
        data_dir, "--dry-run", "--start", "2024-03-04", "--days", "3", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    assert "3 days (2024-03-04 → 2024-03-06)" in result.stdout and "of CSV on disk" in result.stdout
    assert not data_dir.exists()


def test_a_large_run_without_a_terminal_exits_2_with_the_estimate_and_the_flag(
    data_dir: Path,
) -> None:
    result = _generate(data_dir)  # the default first run: 2024-01-01 to yesterday
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: estimated ")
    assert "GB of Parquet" in lines[0] and "--yes" in lines[0] and "--days" in lines[0]
    assert not data_dir.exists()


def test_yes_proceeds_and_a_small_run_needs_no_yes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[Any, Any]] = []

    def fake_facts(cfg: Any, first: Any, last: Any, *args: Any) -> None:
        started.append((first, last))

    monkeypatch.setattr("retail_datagen.cli.generate._generate_facts", fake_facts)
    big = _generate(tmp_path / "big", "--yes")  # the default ~1,000 days
    small = _generate(tmp_path / "small", "--days", "2")
    assert big.exit_code == 0 and small.exit_code == 0, (big.output, small.output)
    assert big.stderr.startswith("estimate: ") and "GB of Parquet" in big.stderr
    assert small.stderr.startswith("estimate: 2 days (2024-01-01 → 2024-01-02)")
    assert started == [(None, None), (None, date(2024, 1, 2))]


@pytest.mark.parametrize("script", ["console", "module"])
def test_a_terminal_is_asked_and_no_starts_nothing(tmp_path: Path, script: str) -> None:
    if script == "console" and not SCRIPT.exists():
        pytest.skip("console script not installed")
    data_dir = tmp_path / "data"
    command = [str(SCRIPT)] if script == "console" else [sys.executable, "-m", "retail_datagen"]
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [*command, "generate", "--data-dir", str(data_dir)],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b"[y/N]" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if ready:
                seen += os.read(controller, 4096)
        assert b"[y/N]" in seen, seen
        assert b"estimate: " in seen and b"over 20 GB or 30 minutes" in seen
        os.write(controller, b"n\n")
        assert proc.wait(timeout=60) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)
    assert not data_dir.exists()
