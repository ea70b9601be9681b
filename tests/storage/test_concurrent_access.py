"""One data folder used by many processes at once (issue 9, item 1), with real processes: a
`retail-datagen generate` appending days, the server answering 20 concurrent previews,
`retail-datagen status` in a loop and a notebook's read-only ``duckdb.connect`` — 0 errors.

The harness is bench/concurrency.py (the benchmark measures the same scenario, longer)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
CI_CONFIG = REPO / "scripts" / "ci-config.json"


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_concurrency", REPO / "bench" / "concurrency.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_previews_status_and_a_notebook_work_while_a_generation_runs(tmp_path: Path) -> None:
    bench = _harness()
    data_dir = tmp_path / "data"
    bench.prepare(CI_CONFIG, data_dir, days=2)
    with bench.server(CI_CONFIG, data_dir) as url:
        idle = bench.measure_idle(url, rounds=2)
        busy, generate = bench.measure_during_generation(url, CI_CONFIG, data_dir, days=3)
    assert idle.errors == [] and len(idle.latencies_ms) == 2 * bench.CONCURRENCY
    assert busy.errors == [], busy.errors[:5]
    assert len(busy.latencies_ms) >= 3 * bench.CONCURRENCY
    assert busy.status_runs >= 1 and busy.notebook_queries >= 3
    # the notebook held retail.duckdb all along: the run still succeeds and says, in one
    # line, that the views catch up on the next run
    assert generate.returncode == 0, generate.stderr
    warnings = [ln for ln in generate.stderr.splitlines() if "refreshed on the next run" in ln]
    assert len(warnings) == 1
    status = bench.cli("status", "--json", "--config", str(CI_CONFIG), "--data-dir", str(data_dir))
    assert '"last_generated_timestamp": "2024-01-05T23:59:59' in status.stdout
    # the notebook is gone: the next writer visit refreshes the persisted views
    bench.cli("generate", "--config", str(CI_CONFIG), "--data-dir", str(data_dir), "--days", "1")
    with duckdb.connect(str(data_dir / "retail.duckdb"), read_only=True) as con:
        days = con.execute("SELECT count(DISTINCT CAST(EventTS AS DATE)) FROM fact_receipts")
        assert days.fetchall() == [(6,)]
