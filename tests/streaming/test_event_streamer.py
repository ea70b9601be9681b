"""EventStreamer end to end on a real data folder and the real file sink: stream = batch,
history continuity, filtering, restart without gaps, the watermark guard."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.volumes import STREAM_VOLUME as SMALL_VOLUME

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.schema import FACTS
from retail_datagen.streaming.checkpoint import CheckpointStore
from retail_datagen.streaming.event_streamer import EventStreamer
from retail_datagen.streaming.events import EVENT_TYPES
from retail_datagen.streaming.pacing import ManualClock

START = date(2024, 3, 1)
STREAMED = date(2024, 3, 3)  # history: Mar 1-2, the streamer continues on Mar 3
BATCH = 100
CONFIG: dict[str, Any] = {
    "seed": 5,
    "volume": SMALL_VOLUME,
    "historical": {"start_date": START.isoformat()},
    "realtime": {"max_batch_size": BATCH, "batch_timeout_ms": 20},
}
LIFECYCLE = ("online_order_picked", "online_order_shipped", "online_order_delivered")


def config_for(root: Path) -> RetailConfig:
    return RetailConfig.from_mapping(CONFIG).with_data_dir(root)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dimensions and two days of history (Mar 1-2), copied by each test."""
    root = tmp_path_factory.mktemp("stream") / "data"
    cfg = config_for(root)
    MasterDataGenerator(cfg).generate_all_master_data()
    FactDataGenerator(cfg, workers=1).generate_historical_data(START, date(2024, 3, 2))
    return root


@pytest.fixture
def folder(template: Path, tmp_path: Path) -> Callable[[str], RetailConfig]:
    def copy(name: str) -> RetailConfig:
        root = tmp_path / name
        shutil.copytree(template, root)
        return config_for(root)

    return copy


async def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def stream_days(streamer: EventStreamer, days: int = 1, timeout: float = 30.0) -> None:
    """Run ``streamer`` until ``days`` days are persisted, then stop it gracefully."""
    task = asyncio.create_task(streamer.start())
    try:
        await wait_for(
            lambda: task.done() or streamer.statistics()["days_persisted"] >= days, timeout
        )
        await asyncio.wait_for(streamer.stop(), timeout)
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def fact_rows(root: Path, table: str, day: date | None = None) -> pa.Table:
    files = sorted((root / "export" / table).glob("*.parquet"))
    decl = next(t for t in FACTS if t.name == table)
    if not files:
        return decl.arrow_schema.empty_table()
    data = pa.concat_tables([pq.read_table(f) for f in files]).cast(decl.arrow_schema)
    if day is not None:
        days = [ts.date() for ts in data.column("EventTS").to_pylist()]
        data = data.filter(pa.array([d == day for d in days]))
    return data.sort_by([("TraceId", "ascending")])


def price_rows_starting(root: Path, day: date) -> set[tuple[int, str, str]]:
    """(ProductID, SalePrice, Reason) of the stored price history rows starting on ``day``."""
    history = pq.read_table(root / "export" / "dim_product_prices" / "dim_product_prices.parquet")
    return {
        (r["ProductID"], str(r["SalePrice"]), r["Reason"])
        for r in history.to_pylist()
        if r["ValidFrom"] == datetime.combine(day, datetime.min.time())
    }


def snake_rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    """TraceId → the row as its event payload would show it (snake_case, JSON forms)."""
    decl = next(t for t in FACTS if t.name == table.schema.metadata[b"table"].decode())
    out = {}
    for row in table.to_pylist():
        out[row["TraceId"]] = {decl.column(k).snake: _json(v) for k, v in row.items()}
    return out


def _json(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


# ---------------------------------------------------------------- stream = batch
async def test_streamed_day_equals_the_historical_day_and_history_continues(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    streamed, batch = folder("streamed"), folder("batch")
    events_file = tmp_path / "events.jsonl"
    streamer = EventStreamer(streamed, sink=f"file://{events_file}", rate=200_000)
    await stream_days(streamer)

    state = GenerationStateManager(streamed.paths.data).load()
    assert state.last_generated_timestamp == datetime(2024, 3, 3, 23, 59, 59, 999999)
    assert state.last_realtime_run is not None

    FactDataGenerator(batch, workers=1).generate_historical_data(STREAMED, STREAMED)
    s_root, b_root = Path(streamed.paths.data), Path(batch.paths.data)
    events = [
        e
        for e in read_events(events_file)
        if e["payload"]["event_ts"].startswith("2024-03-03")
        and not e["event_type"].startswith("online_order_")  # checked below
    ]
    by_trace = {e["trace_id"]: e for e in events}
    assert len(by_trace) == len(events)  # no duplicates in a clean run
    compared = 0
    for decl in FACTS:
        persisted = fact_rows(s_root, decl.name, STREAMED)
        historical = fact_rows(b_root, decl.name, STREAMED)
        assert persisted.equals(historical), decl.name  # the streamed day is persisted as is
        if decl.name in ("fact_online_order_lines", "fact_online_orders"):
            continue  # lines are not emitted; orders are emitted step by step (below)
        for trace, row in snake_rows(historical).items():
            if decl.name == "fact_truck_moves" and row["status"] not in ("ARRIVED", "IN_TRANSIT"):
                assert trace not in by_trace
                continue
            assert by_trace[trace]["payload"] == row  # same ids, same money, every column
            compared += 1
    # price changes of the day are the history rows that start that day, in both folders
    changes = {
        (e["payload"]["product_id"], e["payload"]["new_sale_price"], e["payload"]["reason"])
        for e in events
        if e["event_type"] == "price_changed"
    }
    for root in (s_root, b_root):
        assert changes == price_rows_starting(root, STREAMED)
    assert changes and compared + len(changes) == len(by_trace) > 5_000

    # lifecycle events of Mar 3: orders of Mar 1-3 whose picked/shipped/delivered time is Mar 3
    orders = snake_rows(fact_rows(b_root, "fact_online_orders"))
    expected = {
        f"{trace}:{kind}"
        for trace, row in orders.items()
        for kind, column in (
            ("picked", "picked_ts"),
            ("shipped", "shipped_ts"),
            ("delivered", "delivered_ts"),
        )
        if row[column] and row[column].startswith("2024-03-03")
    }
    lifecycle = {
        e["trace_id"]
        for e in read_events(events_file)
        if e["event_type"] in LIFECYCLE
        and e["payload"]["event_ts"] < "2024-03-04"
        and any(
            str(e["payload"][c] or "").startswith("2024-03-03")
            for c in ("picked_ts", "shipped_ts", "delivered_ts")
        )
    }
    assert expected and lifecycle >= expected
    created = {
        e["trace_id"] for e in read_events(events_file) if e["event_type"] == "online_order_created"
    }
    placed = {t for t, row in orders.items() if row["event_ts"].startswith("2024-03-03")}
    assert placed and created == placed  # every order placed that day, in flight or not
    assert any(not t.startswith("OO-0000-20240303") for t in expected)  # earlier orders too

    # a historical run continues after the streamed day; Mar 1-5 equals one straight run
    FactDataGenerator(streamed, workers=1).generate_historical_data(None, date(2024, 3, 5))
    straight = folder("straight")
    FactDataGenerator(straight, workers=1).generate_historical_data(None, date(2024, 3, 5))
    for decl in FACTS:
        assert fact_rows(s_root, decl.name).equals(
            fact_rows(Path(straight.paths.data), decl.name)
        ), decl.name


async def test_event_type_filter_limits_what_is_sent_not_what_is_persisted(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    cfg, full = folder("filtered"), folder("full")
    events_file = tmp_path / "filtered.jsonl"
    streamer = EventStreamer(
        cfg,
        sink=f"file://{events_file}",
        rate=float("inf"),
        event_types=["receipt_created", "store_opened"],
    )
    await stream_days(streamer)
    sent = Counter(e["event_type"] for e in read_events(events_file))
    assert set(sent) == {"receipt_created", "store_opened"}
    FactDataGenerator(full, workers=1).generate_historical_data(STREAMED, STREAMED)
    for decl in FACTS:
        assert (
            fact_rows(Path(cfg.paths.data), decl.name, STREAMED).num_rows
            == fact_rows(Path(full.paths.data), decl.name, STREAMED).num_rows
        )
    stats = streamer.statistics()
    assert stats["event_types"] == ["receipt_created", "store_opened"]
    assert stats["delivered_by_type"]["receipt_created"] >= sent["receipt_created"] - 1


# ---------------------------------------------------------------- real time
async def test_real_time_sends_backlog_then_waits_for_midnight_to_persist(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    cfg = folder("realtime")
    events_file = tmp_path / "realtime.jsonl"
    anchor = datetime(2024, 3, 3, 23, 50)  # the day is backlog up to 23:50, then real time
    clock = ManualClock()  # pacing on an injected clock: exact, however busy the machine
    streamer = EventStreamer(
        cfg, sink=f"file://{events_file}", speed=600.0, anchor=anchor, clock=clock
    )
    await stream_days(streamer, timeout=120)
    assert clock.t >= 1.0 - 1e-6  # ten simulated minutes at 600x before the day is over
    events = read_events(events_file)
    times = [e["payload"][_TIME[e["event_type"]]] for e in events]
    assert times == sorted(times)  # released in event-time order
    day = [
        e["trace_id"]
        for e in events
        if e["payload"]["event_ts"].startswith("2024-03-03") and e["event_type"] not in LIFECYCLE
    ]
    assert len(day) == len(set(day)) > 5_000
    latest = (anchor + clock.t * 600 * _SECOND).isoformat()
    assert max(times) <= latest  # nothing left before it was due
    stats = streamer.statistics()
    assert stats["mode"] == "realtime" and stats["pacing"]["lateness"]["backlog_events"] > 5_000
    assert GenerationStateManager(cfg.paths.data).load().last_generated_timestamp == datetime(
        2024, 3, 3, 23, 59, 59, 999999
    )


_SECOND = timedelta(seconds=1)
_TIME = {
    **{t: "event_ts" for t in EVENT_TYPES},
    "online_order_picked": "picked_ts",
    "online_order_shipped": "shipped_ts",
    "online_order_delivered": "delivered_ts",
}


async def test_from_now_starts_at_the_present_and_persists_nothing(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    cfg = folder("now")
    events_file = tmp_path / "now.jsonl"
    now = datetime.combine(date.today(), datetime.min.time()).replace(hour=12)  # a busy hour
    clock = ManualClock()  # the simulated clock is the wall clock (speed 1), injected
    notes: list[str] = []
    streamer = EventStreamer(
        cfg,
        sink=f"file://{events_file}",
        from_now=True,
        anchor=now,
        clock=clock,
        notify=notes.append,
    )
    task = asyncio.create_task(streamer.start())
    await wait_for(lambda: task.done() or streamer.statistics()["events_sent"] >= 50, 120)
    await streamer.stop()
    await task
    stamps = [
        datetime.fromisoformat(e["payload"][_TIME[e["event_type"]]])
        for e in read_events(events_file)
    ]
    assert len(stamps) >= 50
    assert all(now <= t <= now + timedelta(seconds=clock.t) for t in stamps)  # nothing older
    assert streamer.statistics()["mode"] == "realtime"
    assert notes and "starting at the present" in notes[0]
    # detached: the history and its checkpoint stay where they were
    assert GenerationStateManager(cfg.paths.data).load().last_generated_timestamp == datetime(
        2024, 3, 2, 23, 59, 59, 999999
    )
    assert CheckpointStore(cfg.paths.data).load() is None
    with pytest.raises(UserError, match="--from now streams in real time"):
        EventStreamer(cfg, from_now=True, rate=100)


# ---------------------------------------------------------------- restart
async def test_cancelled_stream_resumes_without_gaps(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    cfg = folder("restart")
    events_file = tmp_path / "restart.jsonl"
    first = EventStreamer(cfg, sink=f"file://{events_file}", rate=20_000)
    task = asyncio.create_task(first.start())
    await wait_for(lambda: events_file.exists() and events_file.stat().st_size > 1_500_000)
    task.cancel()  # like a crash of the task: no stop(), no flush request
    await asyncio.gather(task, return_exceptions=True)
    checkpoint = CheckpointStore(cfg.paths.data).load()
    assert checkpoint is not None and checkpoint.day == STREAMED and checkpoint.settled > 0
    assert GenerationStateManager(cfg.paths.data).load().last_generated_timestamp == datetime(
        2024, 3, 2, 23, 59, 59, 999999
    )

    second = EventStreamer(cfg, sink=f"file://{events_file}", rate=float("inf"))
    await stream_days(second)
    day = [
        e
        for e in read_events(events_file)
        if e["payload"]["event_ts"] < "2024-03-04" and e["event_type"] not in LIFECYCLE
    ]
    ids = Counter(e["trace_id"] for e in day)
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates <= BATCH  # only the last unacknowledged batch may repeat
    expected = {
        t
        for decl in FACTS
        if decl.name != "fact_online_order_lines"
        for t, row in snake_rows(fact_rows(Path(cfg.paths.data), decl.name, STREAMED)).items()
        if decl.name != "fact_truck_moves" or row["status"] in ("ARRIVED", "IN_TRANSIT")
    }
    expected |= {
        f"PRC-{STREAMED:%Y%m%d}-{product:06d}"
        for product, _, _ in price_rows_starting(Path(cfg.paths.data), STREAMED)
    }
    assert set(ids) == expected  # no gaps


async def test_stop_is_graceful_and_checkpoints_the_settled_position(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    cfg = folder("stop")
    events_file = tmp_path / "stop.jsonl"
    streamer = EventStreamer(cfg, sink=f"file://{events_file}", rate=5_000)
    task = asyncio.create_task(streamer.start())
    await wait_for(lambda: streamer.statistics()["events_sent"] > 1_000)
    assert streamer.running
    await asyncio.wait_for(streamer.stop(), 10)
    await asyncio.wait_for(task, 10)
    assert not streamer.running
    lines = events_file.read_text(encoding="utf-8").splitlines()
    checkpoint = CheckpointStore(cfg.paths.data).load()
    assert checkpoint is not None
    assert checkpoint.settled >= len(lines)  # filtered-out types none: prefix ≥ sent events
    stats = streamer.statistics()
    assert stats["events_sent"] == len(lines)
    assert stats["mode"] == "rate" and stats["circuit_state"] == "CLOSED"
    assert stats["current_day"] == "2024-03-03" and stats["watermark"].startswith("2024-03-02")
    recent = streamer.recent_events(5)
    assert len(recent) == 5 and all("payload" in e for e in recent)
    json.dumps(stats)  # JSON-ready


# ---------------------------------------------------------------- guards
async def test_from_must_equal_the_stored_watermark(
    folder: Callable[[str], RetailConfig], tmp_path: Path
) -> None:
    cfg = folder("guard")
    sink = f"file://{tmp_path / 'guard.jsonl'}"
    with pytest.raises(UserError, match=r"does not match the stored watermark 2024-03-02T23:59"):
        await EventStreamer(cfg, sink=sink, from_watermark=datetime(2024, 3, 1)).start()
    ok = EventStreamer(
        cfg,
        sink=sink,
        rate=float("inf"),
        from_watermark=datetime(2024, 3, 2, 23, 59, 59, 999999),
    )
    task = asyncio.create_task(ok.start())
    await wait_for(lambda: task.done() or ok.statistics()["events_sent"] > 0)
    await ok.stop()
    await task
    assert ok.statistics()["events_sent"] > 0


async def test_without_history_the_error_says_to_generate_first(tmp_path: Path) -> None:
    cfg = config_for(tmp_path / "empty")
    with pytest.raises(UserError, match=r"no historical data in .*run `retail-datagen generate`"):
        await EventStreamer(cfg, sink="stdout").start()


def test_bad_options_are_user_errors(tmp_path: Path) -> None:
    cfg = config_for(tmp_path / "x")
    with pytest.raises(UserError, match="choose one pacing"):
        EventStreamer(cfg, speed=2.0, rate=10.0)
    with pytest.raises(UserError, match="unknown event type"):
        EventStreamer(cfg, event_types=["nope"])
    with pytest.raises(UserError, match="must be a positive number"):
        EventStreamer(cfg, rate=-1)


# ---------------------------------------------------------------- a real Kafka broker
async def test_streamed_events_arrive_in_kafka(
    folder: Callable[[str], RetailConfig], request: pytest.FixtureRequest
) -> None:
    try:
        tansu = request.getfixturevalue("tansu")
    except pytest.FixtureLookupError:  # pragma: no cover - the broker fixture is optional
        pytest.skip("no kafka_broker fixture")
    from tansu_broker import read_topic

    tansu.create_topic("stream-test", partitions=3)
    cfg = folder("kafka")
    streamer = EventStreamer(
        cfg,
        sink=f"kafka://{tansu.bootstrap}/stream-test",
        rate=float("inf"),
        event_types=["receipt_created", "store_closed"],
    )
    await stream_days(streamer)
    sent = streamer.statistics()["events_sent"]
    messages = await asyncio.to_thread(read_topic, tansu.bootstrap, "stream-test", sent)
    assert len(messages) == sent > 0
    receipts = snake_rows(fact_rows(Path(cfg.paths.data), "fact_receipts", STREAMED))
    for message in messages:
        envelope = json.loads(message.value())
        assert message.key() == envelope["partition_key"].encode()
        if envelope["event_type"] == "receipt_created" and envelope["trace_id"] in receipts:
            assert envelope["payload"] == receipts[envelope["trace_id"]]
