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
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.volumes import STREAM_VOLUME as SMALL_VOLUME

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


def wait_for_lines(path: Path, lines: int, timeout: float = 120.0) -> None:
    """Bounded wait; generous, since start-up alone took 15 s on a machine under load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {lines} lines")


def interrupted(
    data: Path, out: Path, *args: str, lines: int = 1, timeout: float = 60
) -> tuple[int, str]:
    """Stream to the file ``out`` until it holds ``lines`` lines, then Ctrl-C it: the exit code
    and stderr."""
    proc = start(data, "stream", "--sink", f"file://{out}", *args)
    try:
        wait_for_lines(out, lines)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stderr


def day_trace_ids(path: Path, day: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["event_type"] not in LIFECYCLE and event["payload"]["event_ts"].startswith(day):
            out[event["trace_id"]] += 1
    return out


RATE = 4000


def test_stream_to_a_file_for_a_duration(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    began = time.monotonic()
    result = run(
        data,
        "stream",
        "--sink",
        f"file://{out}",
        "--duration",
        "3",
        "--rate",
        str(RATE),
        "--events",
        "receipt_created,payment_processed,ad_impression",
    )
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # the rate itself is proven on an injected clock (test_pacing); here only what cannot
    # depend on how busy the machine is: some events left, never more than the rate allows
    # over the measured wall time (plus the bucket's quarter second of tokens)
    assert 0 < len(events) <= RATE * (elapsed + 0.25)
    assert {e["event_type"] for e in events} == {
        "receipt_created",
        "payment_processed",
        "ad_impression",
    }
    assert "Stream summary" in result.stderr and "watermark" in result.stderr
    assert "ev/s" in result.stderr  # status lines (monitoring_interval = 1 s)


def wait_for_state(data: Path, at_least: str, proc: subprocess.Popen[str]) -> None:
    """Wait (bounded) until the history reaches ``at_least`` while ``proc`` streams."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        state = json.loads((data / "generation_state.json").read_text())
        if state["last_generated_timestamp"] >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"the stream did not persist up to {at_least}: {proc.poll()}")


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
    # resume until the day is persisted (however long that takes here), then stop
    resumed = start(data, "stream", "--sink", f"file://{out}", "--rate", "inf")
    try:
        wait_for_state(data, "2024-03-03T23:59:59", resumed)
        resumed.send_signal(signal.SIGINT)
        _, stderr = resumed.communicate(timeout=60)
    finally:
        if resumed.poll() is None:
            resumed.kill()
    assert resumed.returncode == 130, stderr

    ids = day_trace_ids(out, "2024-03-03")
    assert sum(n - 1 for n in ids.values()) <= BATCH  # at most the unacknowledged batch
    # no gaps: every emitted row of the persisted day is in the file
    import pyarrow.parquet as pq

    expected = set()
    for folder in (data / "export").glob("fact_*"):
        if folder.name == "fact_online_order_lines":
            continue
        # the month's files, and the orders still in flight (their created event was sent)
        for file in [*folder.glob("*_2024-03*.parquet"), *folder.glob("*_in_flight.parquet")]:
            table = pq.read_table(file).to_pylist()
            expected |= {
                r["TraceId"]
                for r in table
                if r["EventTS"].date() == date(2024, 3, 3)
                and (folder.name != "fact_truck_moves" or r["Status"] in ("ARRIVED", "IN_TRANSIT"))
            }
    history = pq.read_table(data / "export" / "dim_product_prices" / "dim_product_prices.parquet")
    expected |= {  # the day's price changes, from the persisted history
        f"PRC-20240303-{r['ProductID']:06d}"
        for r in history.to_pylist()
        if r["ValidFrom"] == datetime(2024, 3, 3)
    }
    assert set(ids) == expected


def test_ctrl_c_stops_gracefully_with_a_summary(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    code, stderr = interrupted(data, out, "--rate", "2000", lines=500, timeout=20)
    assert code == 130, stderr
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


# ---------------------------------------------------------------- sinks that fail
def _position(data: Path) -> tuple[str, Any]:
    state = json.loads((data / "generation_state.json").read_text())
    checkpoint = CheckpointStore(data).load()
    return state["last_generated_timestamp"], checkpoint


def test_an_unreachable_kafka_broker_fails_at_once_without_moving_anything(data: Path) -> None:
    from tansu_broker import free_port

    before = _position(data)
    began = time.monotonic()
    url = f"kafka://127.0.0.1:{free_port()}/retail-events"
    result = run(data, "stream", "--sink", url, "--duration", "5")
    elapsed = time.monotonic() - began
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no librdkafka spam, no summary
    assert lines[0].startswith("error: kafka broker 127.0.0.1:")
    assert "not reachable" in lines[0] and "refused" in lines[0].lower()
    assert _position(data) == before  # nothing generated, checkpointed or persisted
    assert not (data / "streaming.duckdb").exists() or "0" in run(data, "dead-letters").stdout
    # the old behaviour ran for minutes; a refused connection is an answer (generous bound)
    assert elapsed < 30


def test_duration_bounds_a_stream_whose_broker_stalls(data: Path, tansu: Any) -> None:
    """The broker answers the start-up probe, then freezes (SIGSTOP): the stream still ends
    by itself at --duration, says the sink stopped answering, dead-letters nothing, and
    leaves the unsent events for the next run."""
    from tansu_broker import read_topic

    tansu.create_topic("stall", partitions=2)
    duration = 8.0
    proc = subprocess.Popen(
        _args(
            data,
            "stream",
            "--sink",
            f"kafka://{tansu.bootstrap}/stall",
            "--rate",
            "2000",
            "--duration",
            str(duration),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert read_topic(tansu.bootstrap, "stall", 1, timeout=60), "nothing was streamed"
        tansu.pause()
        _, stderr = proc.communicate(timeout=duration + 60)
    finally:
        tansu.resume()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "the sink stopped answering" in stderr and "next `stream` sends them" in stderr
    assert "dead-lettered" not in stderr.split("Stream summary")[-1].split("\n", 3)[-1]
    streamed = float(stderr.split("streamed ")[-1].split(" s")[0])
    # from the first event on (start-up excluded): 10 % plus scheduling slack
    assert streamed <= duration * 1.1 + 0.5, stderr
    assert stderr.count("Connection refused") <= 2


@pytest.mark.parametrize(
    "sink", ["file:generation_state.json", "file:retail.duckdb", "file://./export/x.jsonl"]
)
def test_file_sinks_cannot_overwrite_the_data_folder(data: Path, sink: str) -> None:
    state = (data / "generation_state.json").read_bytes()
    for command in ("stream", "replay-dead-letters"):
        result = run(data, command, "--sink", sink)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: sink URL file: ")
        assert len(result.stderr.strip().splitlines()) == 1
        assert "only write under stream/" in result.stderr
    assert (data / "generation_state.json").read_bytes() == state


def test_from_now_streams_events_stamped_at_the_present(data: Path, tmp_path: Path) -> None:
    from datetime import datetime

    out = tmp_path / "now.jsonl"
    before = _position(data)
    began = datetime.now()
    # at 600x a minute covers ten hours: events come whatever the time of day (speed 1, the
    # default, is test_event_streamer's from-now test on an injected clock)
    _, stderr = interrupted(data, out, "--from", "now", "--speed", "600")
    ended = datetime.now()
    assert "starting at the present" in stderr and "not persisted" in stderr
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stamps = [
        datetime.fromisoformat(e["payload"]["event_ts"])
        for e in events
        if e["event_type"] not in LIFECYCLE
    ]
    latest = began + (ended - began) * 600
    assert stamps and all(began.replace(microsecond=0) <= t <= latest for t in stamps)
    assert _position(data) == before  # detached: the history and its checkpoint stay


def test_a_history_far_in_the_past_is_announced(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "old.jsonl"
    _, stderr = interrupted(data, out, "--rate", "1000")
    notes = [line for line in stderr.splitlines() if line.startswith("note: the history ends")]
    assert len(notes) == 1 and "--from now" in notes[0], stderr


def test_a_run_that_dead_letters_exits_1_and_says_how_to_replay(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No real destination here rejects an event for good, so the file sink is made to reject
    receipts permanently (at the sink boundary); the rest is the real CLI in process."""
    from typer.testing import CliRunner

    from retail_datagen.cli import app
    from retail_datagen.streaming.sinks.base import SinkError
    from retail_datagen.streaming.sinks.file import FileSink

    real_send = FileSink.send

    async def reject_receipts(self: FileSink, batch: Any) -> None:
        rejected = [e for e in batch if e.event_type == "receipt_created"]
        await real_send(self, [e for e in batch if e.event_type != "receipt_created"])
        if rejected:
            raise SinkError(
                "event too large for the destination", retriable=False, pending=rejected
            )

    out = tmp_path / "events.jsonl"
    options = ["--config", str(data.parent / "config.json"), "--data-dir", str(data)]
    with monkeypatch.context() as patch:
        patch.setattr(FileSink, "send", reject_receipts)
        result = CliRunner().invoke(
            app, ["stream", *options, "--sink", f"file://{out}", "--rate", "inf", "--duration", "3"]
        )
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "were dead-lettered" in x)
    dead = int(line.split(" events")[0].replace(",", ""))
    assert dead > 0 and "retail-datagen replay-dead-letters --sink file://" in line

    replay = CliRunner().invoke(
        app, ["replay-dead-letters", *options, "--sink", "file:stream/replayed.jsonl"]
    )
    assert replay.exit_code == 0, replay.output
    replayed = (data / "stream" / "replayed.jsonl").read_text().splitlines()
    assert len(replayed) == dead
    assert {json.loads(x)["event_type"] for x in replayed} == {"receipt_created"}
