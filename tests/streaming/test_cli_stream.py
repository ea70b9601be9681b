"""The streaming commands as real processes: stream to a file, a SIGKILL and a Ctrl-C mid-day
(resume without gaps), the watermark guard, dead letters and disruptions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sample_events import SMALL_VOLUME

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.streaming.checkpoint import CheckpointStore

SCRIPT = Path(sys.executable).parent / "retail-datagen"
BATCH = 50
CONFIG: dict[str, Any] = {
    "seed": 3,
    "volume": SMALL_VOLUME,
    "historical": {"start_date": "2024-03-01"},
    "realtime": {"max_batch_size": BATCH, "batch_timeout_ms": 20, "monitoring_interval": 1},
}
LIFECYCLE = ("online_order_picked", "online_order_shipped", "online_order_delivered")

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "data"
    cfg = RetailConfig.from_mapping(CONFIG).with_data_dir(root)
    MasterDataGenerator(cfg).generate_all_master_data()
    FactDataGenerator(cfg, workers=1).generate_historical_data(date(2024, 3, 1), date(2024, 3, 2))
    return root


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(template, root)
    (tmp_path / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return root


def _args(data: Path, *args: str) -> list[str]:
    return [
        str(SCRIPT),
        *args,
        "--config",
        str(data.parent / "config.json"),
        "--data-dir",
        str(data),
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}


def run(data: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _args(data, *args), capture_output=True, text=True, timeout=timeout, env=_env()
    )


def start(data: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _args(data, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env()
    )


def wait_for_lines(path: Path, lines: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {lines} lines")


def day_trace_ids(path: Path, day: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["event_type"] not in LIFECYCLE and event["payload"]["event_ts"].startswith(day):
            out[event["trace_id"]] += 1
    return out


def test_stream_to_a_file_for_a_duration(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = run(
        data,
        "stream",
        "--sink",
        f"file://{out}",
        "--duration",
        "3",
        "--rate",
        "4000",
        "--events",
        "receipt_created,payment_processed,ad_impression",
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert 6_000 <= len(events) <= 13_000
    assert {e["event_type"] for e in events} == {
        "receipt_created",
        "payment_processed",
        "ad_impression",
    }
    assert "Stream summary" in result.stderr and "watermark" in result.stderr
    assert "ev/s" in result.stderr  # status lines (monitoring_interval = 1 s)


def test_killed_stream_resumes_without_gaps(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    proc = start(data, "stream", "--sink", f"file://{out}", "--rate", "3000")
    try:
        wait_for_lines(out, 3_000)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    checkpoint = CheckpointStore(data).load()
    assert checkpoint is not None and checkpoint.day == date(2024, 3, 3)
    result = run(data, "stream", "--sink", f"file://{out}", "--rate", "inf", "--duration", "2")
    assert result.returncode == 0, result.stderr
    state = json.loads((data / "generation_state.json").read_text())
    assert state["last_generated_timestamp"] >= "2024-03-03T23:59:59"

    ids = day_trace_ids(out, "2024-03-03")
    assert sum(n - 1 for n in ids.values()) <= BATCH  # at most the unacknowledged batch
    # no gaps: every emitted row of the persisted day is in the file
    import pyarrow.parquet as pq

    expected = set()
    for folder in (data / "export").glob("fact_*"):
        if folder.name == "fact_online_order_lines":
            continue
        for file in folder.glob("*_2024-03*.parquet"):
            table = pq.read_table(file).to_pylist()
            expected |= {
                r["TraceId"]
                for r in table
                if r["EventTS"].date() == date(2024, 3, 3)
                and (folder.name != "fact_truck_moves" or r["Status"] in ("ARRIVED", "IN_TRANSIT"))
            }
    assert set(ids) == expected


def test_ctrl_c_stops_gracefully_with_a_summary(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    proc = start(data, "stream", "--sink", f"file://{out}", "--rate", "2000")
    try:
        wait_for_lines(out, 500)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Stream summary" in stderr and "checkpointed" in stderr
    lines = out.read_bytes().count(b"\n")
    checkpoint = CheckpointStore(data).load()
    assert checkpoint is not None and checkpoint.settled == lines  # all settled, all recorded


def test_stream_errors_are_one_line_with_exit_code_2(data: Path, tmp_path: Path) -> None:
    result = run(data, "stream", "--sink", "stdout", "--from", "2024-01-01T00:00:00")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --from 2024-01-01T00:00:00 does not match")
    empty = run(tmp_path / "nothing", "stream", "--sink", "stdout")
    assert empty.returncode == 2
    assert "no historical data" in empty.stderr and "retail-datagen generate" in empty.stderr
    both = run(data, "stream", "--speed", "2", "--rate", "10")
    assert both.returncode == 2 and "choose one pacing" in both.stderr


def test_dead_letters_list_empty(data: Path) -> None:
    result = run(data, "dead-letters", "--limit", "5")
    assert result.returncode == 0, result.stderr
    assert "no dead letters" in result.stdout


def test_disruptions_add_list_remove_clear(data: Path) -> None:
    added = run(
        data,
        "disruptions",
        "add",
        "--kind",
        "dc_outage",
        "--target-type",
        "dc",
        "--target-id",
        "1",
        "--start",
        "2024-03-03T06:00",
        "--end",
        "2024-03-04",
        "--severity",
        "0.8",
        "--note",
        "flood",
    )
    assert added.returncode == 0, added.stderr
    ident = added.stdout.split()[1].rstrip(":")
    assert ident.startswith("dsr-")
    listed = json.loads(run(data, "disruptions", "list", "--json").stdout)
    assert [d["id"] for d in listed] == [ident] and listed[0]["severity"] == 0.8
    active = json.loads(
        run(data, "disruptions", "list", "--json", "--active-at", "2024-03-05").stdout
    )
    assert active == []
    bad = run(
        data,
        "disruptions",
        "add",
        "--kind",
        "dc_outage",
        "--target-type",
        "store",
        "--target-id",
        "1",
        "--start",
        "2024-03-03",
        "--end",
        "2024-03-04",
    )
    assert bad.returncode == 2 and "cannot target a store" in bad.stderr
    assert run(data, "disruptions", "remove", ident).returncode == 0
    assert run(data, "disruptions", "remove", ident).returncode == 2
    cleared = run(data, "disruptions", "clear", "--yes")
    assert cleared.returncode == 0 and "removed 0" in cleared.stdout
