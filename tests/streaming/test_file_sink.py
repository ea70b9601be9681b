"""The file and stdout sinks, and sink URL parsing."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError
from retail_datagen.streaming.delivery import DeliveryPipeline
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks import open_sink
from retail_datagen.streaming.sinks.file import FileSink
from retail_datagen.streaming.sinks.stdout import StdoutSink

EventFactory = Callable[..., list[Event]]


def lines_of(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


async def test_json_lines_in_order_and_parent_folders_created(
    tmp_path: Path, make_events: EventFactory
) -> None:
    target = tmp_path / "deep" / "er" / "events.jsonl"
    cfg = RetailConfig()
    sink = open_sink(f"file://{target}", cfg)
    pipe = DeliveryPipeline(sink, cfg.realtime)
    await pipe.start()
    events = make_events(500)
    await pipe.put_many(events)
    await pipe.close()
    assert [row["trace_id"] for row in lines_of(target)] == [e.trace_id for e in events]
    assert target.read_bytes() == b"".join(e.body + b"\n" for e in events)


async def test_rotation_by_size_keeps_whole_batches_and_numbers_files(
    tmp_path: Path, make_events: EventFactory
) -> None:
    target = tmp_path / "events.jsonl"
    sink = FileSink(target, max_bytes=20_000)
    await sink.open()
    events = make_events(300)
    for start in range(0, 300, 30):  # 30 × ~400 B ≈ 12 kB per batch → one batch per file
        await sink.send(events[start : start + 30])
    await sink.close()
    rotated = sorted(tmp_path.glob("events.*.jsonl"), key=lambda p: int(p.name.split(".")[1]))
    assert [p.name for p in rotated] == [f"events.{i}.jsonl" for i in range(1, 10)]
    files = [*rotated, target]
    ids = [row["trace_id"] for f in files for row in lines_of(f)]
    assert ids == [e.trace_id for e in events]  # oldest file first, nothing lost or repeated
    for f in rotated:
        assert f.stat().st_size <= 20_000 or len(lines_of(f)) == 30


async def test_rotation_continues_numbering_after_a_restart(
    tmp_path: Path, make_events: EventFactory
) -> None:
    target = tmp_path / "events.jsonl"
    for round_ in range(2):
        sink = FileSink(target, max_bytes=5_000)
        await sink.open()
        for start in range(0, 40, 10):
            await sink.send(make_events(10, start=round_ * 100 + start))
        await sink.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "events.jsonl" in names
    numbers = sorted(int(n.split(".")[1]) for n in names if n != "events.jsonl")
    assert numbers == list(range(1, len(numbers) + 1))  # no number reused, none overwritten
    rows = [row for n in sorted(numbers) for row in lines_of(tmp_path / f"events.{n}.jsonl")]
    rows += lines_of(target)
    assert len(rows) == 80


async def test_gzip_output_is_readable_across_rotations(
    tmp_path: Path, make_events: EventFactory
) -> None:
    cfg = RetailConfig()
    sink = open_sink(f"file://{tmp_path}/events.jsonl?gzip=true&max_bytes=8000", cfg)
    assert isinstance(sink, FileSink)
    assert sink.path.name == "events.jsonl.gz"
    await sink.open()
    events = make_events(400)
    for start in range(0, 400, 50):
        await sink.send(events[start : start + 50])
    await sink.close()
    rotated = sorted(tmp_path.glob("events.*.jsonl.gz"), key=lambda p: int(p.name.split(".")[1]))
    assert rotated, "8 kB of compressed output must have rotated at least once"
    ids = [row["trace_id"] for f in [*rotated, sink.path] for row in lines_of(f)]
    assert ids == [e.trace_id for e in events]


async def test_rotation_is_atomic_for_a_concurrent_reader(
    tmp_path: Path, make_events: EventFactory
) -> None:
    """A reader polling the folder never sees a rotated file that is incomplete."""
    target = tmp_path / "events.jsonl"
    sink = FileSink(target, max_bytes=4_000)
    await sink.open()
    seen: dict[str, int] = {}
    stop = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for path in tmp_path.glob("events.*.jsonl"):
                data = path.read_bytes()
                if not data.endswith(b"\n"):
                    problems.append(f"{path.name} ends mid-line")
                if path.name in seen and seen[path.name] != len(data):
                    problems.append(f"{path.name} changed after rotation")
                seen[path.name] = len(data)
            time.sleep(0.001)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for start in range(0, 400, 10):
            await sink.send(make_events(10, start=start))
    finally:
        stop.set()
        thread.join(5)
        await sink.close()
    assert problems == []
    assert len(seen) >= 5


async def test_fsync_on_close(
    tmp_path: Path, make_events: EventFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sink = FileSink(tmp_path / "e.jsonl")
    await sink.open()
    await sink.send(make_events(3))
    await sink.close()
    assert synced


async def test_unwritable_path_is_a_non_retriable_sink_error(tmp_path: Path) -> None:
    from retail_datagen.streaming.sinks.base import SinkError

    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    sink = FileSink(blocker / "events.jsonl")
    with pytest.raises(SinkError) as err:
        await sink.open()
    assert not err.value.retriable


async def test_stdout_sink_writes_json_lines(make_events: EventFactory) -> None:
    buffer = io.BytesIO()
    sink = StdoutSink(buffer)
    await sink.open()
    events = make_events(3)
    await sink.send(events)
    await sink.close()
    assert buffer.getvalue().splitlines() == [e.body for e in events]


def test_stdout_url(capsysbinary: pytest.CaptureFixture[bytes], make_events: EventFactory) -> None:
    sink = open_sink("stdout", RetailConfig())
    assert isinstance(sink, StdoutSink)

    async def run() -> None:
        await sink.open()
        await sink.send(make_events(2))
        await sink.close()

    asyncio.run(run())
    assert len(capsysbinary.readouterr().out.splitlines()) == 2


def test_relative_file_urls_resolve_against_the_data_folder(tmp_path: Path) -> None:
    sink = open_sink("file:stream/events.jsonl", RetailConfig(), data_dir=tmp_path)
    assert isinstance(sink, FileSink)
    assert sink.path == (tmp_path / "stream" / "events.jsonl").resolve()
    dotted = open_sink("file://./stream/out.jsonl", RetailConfig(), data_dir=tmp_path)
    assert isinstance(dotted, FileSink)
    assert dotted.path == (tmp_path / "stream" / "out.jsonl").resolve()
    outside = open_sink(f"file://{tmp_path.parent}/out.jsonl", RetailConfig(), data_dir=tmp_path)
    assert isinstance(outside, FileSink)  # outside the data folder: anywhere


@pytest.mark.parametrize(
    "url",
    [
        "file:generation_state.json",
        "file:retail.duckdb",
        "file://./export/fact_receipts/x.jsonl",
        "file:stream/../generation_state.json",
        "file:events.jsonl",
    ],
)
def test_file_sinks_never_write_over_the_data_folders_own_files(tmp_path: Path, url: str) -> None:
    with pytest.raises(UserError, match=r"inside the data folder .* only write under stream/"):
        open_sink(url, RetailConfig(), data_dir=tmp_path)
    absolute = f"file://{tmp_path.resolve()}/generation_state.json"
    with pytest.raises(UserError, match=r"use file:stream/generation_state\.json"):
        open_sink(absolute, RetailConfig(), data_dir=tmp_path)


def test_a_symlinked_stream_folder_cannot_lead_back_into_the_data_folder(tmp_path: Path) -> None:
    (tmp_path / "stream").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(UserError, match="only write under stream/"):
        open_sink("file:stream/generation_state.json", RetailConfig(), data_dir=tmp_path)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("ftp://x/y", "scheme 'ftp'"),
        ("file://server/share/e.jsonl", "path"),
        ("file:///tmp/folder/", "folder"),
        ("file:///tmp/e.jsonl?gzip=perhaps", "gzip"),
        ("file:///tmp/e.jsonl?max_bytes=-5", "max_bytes"),
        ("file:///tmp/e.jsonl?max_bytes=10MB", "max_bytes"),
        ("file:///tmp/e.jsonl?rotate=daily", "rotate"),
        ("file:///tmp/e.jsonl?gzip_level=12", "gzip_level"),
        ("eventhub://bad hub", "hub"),
        ("eventhub://h?colour=red", "colour"),
    ],
)
def test_bad_urls_name_the_part_and_list_the_forms(
    url: str, fragment: str, no_secret_env: None
) -> None:
    cfg = RetailConfig.from_mapping(
        {
            "realtime": {
                "azure_connection_string": "Endpoint=sb://ns.servicebus.windows.net/;"
                "SharedAccessKeyName=a;SharedAccessKey=c2VjcmV0"
            }
        }
    )
    with pytest.raises(UserError, match=fragment) as err:
        open_sink(url, cfg)
    assert "stdout" in str(err.value) and "kafka://" in str(err.value)
    assert "c2VjcmV0" not in str(err.value)


async def test_check_sink_reports_reachability_without_raising(
    tmp_path: Path, no_secret_env: None
) -> None:
    from retail_datagen.streaming.sinks import check_sink

    good = await check_sink(f"file://{tmp_path}/x/events.jsonl", RetailConfig())
    assert good["ok"] and good["detail"]["path"].endswith("events.jsonl")
    bad = await check_sink("nonsense://x", RetailConfig())
    assert not bad["ok"] and "accepted forms" in bad["error"]
