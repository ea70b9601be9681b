"""The installed console script (``pip install -e .`` puts it next to the interpreter) and
``python -m retail_datagen``, run as real processes: exit codes, stderr, nothing written."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).parent / "retail-datagen"
COMMANDS = ["generate", "export", "validate", "status", "clear", "compact", "repair"]

# every bad-configuration case of the issue, as (case id, change or raw file text)
BAD_CONFIGS: list[tuple[str, Any]] = [
    ("zero_stores", {"volume": {"stores": 0}}),
    ("negative_count", {"volume": {"total_customers": -1}}),
    ("min_above_max", {"volume": {"dc_initial_inventory_min": 9000}}),
    ("too_many_products", {"volume": {"total_products": 20_000}}),
    ("future_start_date", {"historical": {"start_date": "2999-12-31"}}),
    ("malformed_json", "{ this is not json"),
    ("unknown_key", {"volumes": {"stores": 5}}),
    ("wrong_type", {"volume": {"stores": 6.5}}),
]

pytestmark = pytest.mark.skipif(
    not SCRIPT.exists(), reason=f"console script not installed at {SCRIPT} (pip install -e .)"
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env
    )


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def test_every_command_has_help() -> None:
    for command in [[], *[[c] for c in COMMANDS]]:
        result = run(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "retail_datagen", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("retail-datagen ")


@pytest.mark.parametrize(("case", "change"), BAD_CONFIGS, ids=[c for c, _ in BAD_CONFIGS])
def test_bad_config_is_one_stderr_line_and_writes_nothing(
    tmp_path: Path, small_config_dict: dict[str, Any], case: str, change: Any
) -> None:
    config = tmp_path / "bad.json"
    text = change if isinstance(change, str) else json.dumps(_merge(small_config_dict, change))
    config.write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    result = run("generate", "--config", str(config), "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad.json"), result.stderr
    assert "Traceback" not in result.stderr
    assert not data.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_wrong_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run("generate", "--format", "xml", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "xml" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "d").exists()


def test_clear_without_yes_refuses(tmp_path: Path) -> None:
    result = run("clear", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "--yes" in result.stderr


def _dims_generator_available() -> str | None:
    try:
        importlib.import_module("retail_datagen.generators.master_generator")
    except ImportError as exc:
        return f"dimension generator not importable yet ({exc})"
    return None


@pytest.mark.slow
def test_generated_dimensions_pass_validation(tmp_path: Path, small_config_file: Path) -> None:
    missing = _dims_generator_available()
    if missing:
        pytest.skip(missing)
    data = tmp_path / "data"
    made = run(
        "generate", "--dims-only", "--config", str(small_config_file), "--data-dir", str(data)
    )
    assert made.returncode == 0, made.stderr
    assert "dim_stores" in made.stdout
    checked = run("validate", "--data-dir", str(data), "--json")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr
    report = json.loads(checked.stdout)
    assert report["passed"] and report["failures"] == 0
    assert all(r["violations"] in (None, 0) for r in report["results"])


@pytest.mark.slow
def test_geographies_beyond_the_dictionary_are_refused_before_writing(
    tmp_path: Path, small_config_dict: dict[str, Any]
) -> None:
    missing = _dims_generator_available()
    if missing:
        pytest.skip(missing)
    from retail_datagen.dictionaries.loader import DictionaryLoader

    available = DictionaryLoader().geographies().num_rows
    if available >= 1000:
        pytest.skip("the shipped geography dictionary has the configurable maximum of rows")
    config = tmp_path / "geo.json"
    change = {"volume": {"total_geographies": available + 1}}
    config.write_text(json.dumps(_merge(small_config_dict, change)), encoding="utf-8")
    data = tmp_path / "data"
    result = run("generate", "--dims-only", "--config", str(config), "--data-dir", str(data))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "total_geographies" in lines[0]
    assert not data.exists()
