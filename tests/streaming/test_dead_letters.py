"""The persistent dead-letter store: its own DuckDB file, listing, replay, clearing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from retail_datagen.storage.layout import DataLayout
from retail_datagen.streaming.dead_letters import DeadLetterStore, ReplayResult
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import SinkError

EventFactory = Callable[..., list[Event]]


class RecordingSink:
    name = "memory://replay"

    def __init__(self, fail_after: int | None = None, partial: int | None = None) -> None:
        self.sent: list[Event] = []
        self.fail_after = fail_after  # fail every call once this many events were sent
        self.partial = partial  # on failure, acknowledge this many of the batch first

    async def open(self) -> None:
        pass

    async def send(self, batch: Sequence[Event]) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            if self.partial:
                self.sent.extend(batch[: self.partial])
                raise SinkError("hub down", pending=list(batch[self.partial :]))
            raise SinkError("hub down; SharedAccessKey=topsecret")
        self.sent.extend(batch)

    async def close(self) -> None:
        pass


def test_dead_letters_live_in_their_own_file_and_survive_new_instances(
    tmp_path: Path, make_events: EventFactory
) -> None:
    store = DeadLetterStore(tmp_path)
    assert store.count() == 0 and store.list() == []
    events = make_events(5)
    store.add(events, "broker down", "kafka://h:9092/t", attempts=4)
    assert store.path == DataLayout.of(tmp_path).streaming_db_path
    assert not DataLayout.of(tmp_path).duckdb_path.exists()  # retail.duckdb untouched
    again = DeadLetterStore(tmp_path)
    assert again.count() == 5
    rows = again.list()
    assert [r["trace_id"] for r in rows] == [e.trace_id for e in events]
    first = rows[0]
    assert first["body"] == events[0].body.decode()
    assert first["attempts"] == 4
    assert first["sink"] == "kafka://h:9092/t"
    assert first["partition_key"] == events[0].partition_key
    assert first["failed_at"].endswith("+00:00")
    assert json.loads(json.dumps(rows)) == rows  # JSON-safe


def test_list_pages_and_filters_by_type(tmp_path: Path, make_events: EventFactory) -> None:
    store = DeadLetterStore(tmp_path)
    events = make_events(30)
    store.add(events, "x", "s")
    assert [r["trace_id"] for r in store.list(limit=5, offset=10)] == [
        e.trace_id for e in events[10:15]
    ]
    wanted = events[0].event_type
    filtered = store.list(event_type=wanted)
    assert filtered and {r["event_type"] for r in filtered} == {wanted}
    assert len(filtered) == sum(e.event_type == wanted for e in events)


def test_errors_are_stored_redacted(tmp_path: Path, make_events: EventFactory) -> None:
    store = DeadLetterStore(tmp_path)
    store.add(make_events(1), "auth failed for Endpoint=sb://x/;SharedAccessKey=abc123==", "s")
    assert "abc123" not in store.list()[0]["error"]
    assert "SharedAccessKey=***" in store.list()[0]["error"]


def test_the_file_is_free_between_operations(tmp_path: Path, make_events: EventFactory) -> None:
    store = DeadLetterStore(tmp_path)
    store.add(make_events(3), "x", "s")
    # another process could now open it for writing: the store holds no connection
    with duckdb.connect(str(store.path)) as other:
        assert other.execute("SELECT count(*) FROM dead_letters").fetchone() == (3,)
    assert store.count() == 3


async def test_replay_sends_then_removes(tmp_path: Path, make_events: EventFactory) -> None:
    store = DeadLetterStore(tmp_path)
    events = make_events(600)
    store.add(events, "x", "s")
    sink = RecordingSink()
    result = await store.replay(sink, batch_size=256)
    assert result == ReplayResult(replayed=600, failed=0)
    assert [e.trace_id for e in sink.sent] == [e.trace_id for e in events]
    assert [e.body for e in sink.sent] == [e.body for e in events]
    assert store.count() == 0


async def test_replay_stops_at_the_first_failure_and_keeps_the_rest(
    tmp_path: Path, make_events: EventFactory
) -> None:
    store = DeadLetterStore(tmp_path)
    store.add(make_events(50), "x", "s", attempts=2)
    sink = RecordingSink(fail_after=20)
    result = await store.replay(sink, batch_size=10)
    assert result == ReplayResult(replayed=20, failed=30)
    rows = store.list()
    assert len(rows) == 30
    assert rows[0]["attempts"] == 3 and "topsecret" not in rows[0]["error"]
    assert rows[-1]["attempts"] == 2  # not tried this time


async def test_replay_keeps_only_what_a_partial_send_did_not_deliver(
    tmp_path: Path, make_events: EventFactory
) -> None:
    store = DeadLetterStore(tmp_path)
    events = make_events(10)
    store.add(events, "x", "s")
    result = await store.replay(RecordingSink(fail_after=0, partial=4), batch_size=10)
    assert result == ReplayResult(replayed=4, failed=6)
    assert [r["trace_id"] for r in store.list()] == [e.trace_id for e in events[4:]]


async def test_replay_selected_ids_and_clear(tmp_path: Path, make_events: EventFactory) -> None:
    store = DeadLetterStore(tmp_path)
    store.add(make_events(10), "x", "s")
    ids = [r["id"] for r in store.list()]
    sink = RecordingSink()
    result = await store.replay(sink, ids=[ids[1], ids[3], 999_999])
    assert result == ReplayResult(replayed=2, failed=0)
    assert len(sink.sent) == 2
    assert store.count() == 8
    assert store.clear() == 8
    assert store.count() == 0
    assert await store.replay(sink) == ReplayResult(0, 0)
