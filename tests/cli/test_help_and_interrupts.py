"""Help lists flags as flags (no ``<bool>`` after them) for every command and sub-command, and a
Ctrl-C while the command line is still importing exits 130 with one line, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from retail_datagen.cli import app

SCRIPT = Path(sys.executable).parent / "retail-datagen"


def _command_paths(group: Any, ctx: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if hasattr(command, "list_commands"):
            paths += _command_paths(command, ctx, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def _all_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    with root.make_context("retail-datagen", ["--help"], resilient_parsing=True) as ctx:
        return _command_paths(root, ctx)


def test_every_command_is_covered() -> None:
    paths = _all_commands()
    assert ("generate",) in paths and ("disruptions", "clear") in paths and ("serve",) in paths


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "root")
def test_help_shows_flags_without_a_value(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout, result.stdout
    assert "--help" in result.stdout


def test_generate_flags_are_plain_flags() -> None:
    result = CliRunner().invoke(app, ["generate", "--help"], env={"COLUMNS": "120"})
    for flag in ("--dims-only", "--csv-daily", "--force", "--dry-run", "--yes"):
        (line,) = [row for row in result.stdout.splitlines() if row.strip("│ ").startswith(flag)]
        assert "<" not in line, line


SLOW_IMPORT = """
import sys, time

class _SlowTyper:
    # stands in for a slow import: the command line imports typer first
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            sys.stderr.write("importing\\n")
            sys.stderr.flush()
            time.sleep(60)
        return None

sys.meta_path.insert(0, _SlowTyper())
"""


@pytest.mark.parametrize("entry", ["console", "module"])
def test_ctrl_c_while_importing_exits_130_with_one_line(tmp_path: Path, entry: str) -> None:
    if entry == "console" and not SCRIPT.exists():
        pytest.skip("console script not installed")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_IMPORT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(hooks)}
    command = [str(SCRIPT)] if entry == "console" else [sys.executable, "-m", "retail_datagen"]
    proc = subprocess.Popen(
        [*command, "status", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    try:
        assert proc.stderr.readline() == "importing\n"
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert stderr == "interrupted\n"
