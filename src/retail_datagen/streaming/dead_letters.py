"""The persistent dead-letter queue: events a sink would not take, kept until replayed or cleared.

Stored in ``<data>/streaming.duckdb`` (table ``dead_letters``), deliberately *not* in
``retail.duckdb``: DuckDB allows one writing process per file, and the web server reads
``retail.duckdb`` while a stream runs. Every operation opens the file, does its work in one
transaction and closes it again, so another process (the API listing dead letters, a CLI replay)
can open it between operations; a briefly locked file is retried for a few seconds.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from typing_extensions import TypedDict

from retail_datagen.config.secrets import redact
from retail_datagen.errors import DataStateError
from retail_datagen.storage.layout import DataLayout
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import Sink, SinkError

__all__ = ["DeadLetter", "DeadLetterStore", "ReplayResult"]

_LOCK_WAIT_SECONDS = 5.0
_SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS dead_letters_id START 1;
CREATE TABLE IF NOT EXISTS dead_letters (
    id BIGINT PRIMARY KEY DEFAULT nextval('dead_letters_id'),
    failed_at TIMESTAMP NOT NULL, -- UTC
    sink VARCHAR NOT NULL,
    event_type VARCHAR NOT NULL,
    trace_id VARCHAR NOT NULL,
    partition_key VARCHAR NOT NULL,
    event_time TIMESTAMP,
    body BLOB NOT NULL,
    error VARCHAR NOT NULL,
    attempts INTEGER NOT NULL
);
"""
_COLUMNS = (
    "id, failed_at, sink, event_type, trace_id, partition_key, event_time, body, error, attempts"
)
_INCOMING = pa.schema(
    [
        ("failed_at", pa.timestamp("us")),  # UTC (naive: no pytz needed to read it back)
        ("sink", pa.string()),
        ("event_type", pa.string()),
        ("trace_id", pa.string()),
        ("partition_key", pa.string()),
        ("event_time", pa.timestamp("us")),
        ("body", pa.binary()),
        ("error", pa.string()),
        ("attempts", pa.int32()),
    ]
)
T = TypeVar("T")


class DeadLetter(TypedDict):
    """A stored dead letter, JSON-ready (what :meth:`DeadLetterStore.list` returns)."""

    id: int
    failed_at: str | None  # UTC, ISO-8601 with the offset
    sink: str  # where delivery failed (redacted)
    event_type: str
    trace_id: str
    partition_key: str
    event_time: str | None  # simulated local time
    body: str  # the envelope as sent
    error: str  # the last failure (redacted)
    attempts: int


@dataclass(frozen=True)
class ReplayResult:
    replayed: int  # sent and removed from the store
    failed: int  # still in the store (the send failed, or was not attempted after a failure)


class DeadLetterStore:
    """Dead letters of one data folder (see the module docstring)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = DataLayout.of(data_dir).streaming_db_path
        self._ready = False

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:
                message = str(exc).splitlines()[0]
                if "lock" not in message.lower() or time.monotonic() >= deadline:
                    raise DataStateError(f"cannot open {self.path}: {message}") from None
                time.sleep(0.05)
        try:
            if not self._ready:
                con.execute(_SCHEMA)
                self._ready = True
            yield con
        finally:
            con.close()

    def _run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                result = work(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return result

    # ------------------------------------------------------------------ API
    def add(self, events: Sequence[Event], error: str, sink_name: str, *, attempts: int = 1) -> int:
        """Store ``events`` with the (redacted) ``error``; returns how many were stored."""
        if not events:
            return 0
        now = _utc_now()
        message = redact(error)[:2000]
        table = pa.table(
            {
                "failed_at": pa.array([now] * len(events), _INCOMING.field("failed_at").type),
                "sink": pa.array([redact(sink_name)] * len(events), pa.string()),
                "event_type": pa.array([e.event_type for e in events], pa.string()),
                "trace_id": pa.array([e.trace_id for e in events], pa.string()),
                "partition_key": pa.array([e.partition_key for e in events], pa.string()),
                "event_time": pa.array([_naive(e.event_time) for e in events], pa.timestamp("us")),
                "body": pa.array([e.body for e in events], pa.binary()),
                "error": pa.array([message] * len(events), pa.string()),
                "attempts": pa.array([attempts] * len(events), pa.int32()),
            },
            schema=_INCOMING,
        )

        def insert(con: duckdb.DuckDBPyConnection) -> int:
            con.register("incoming_dead_letters", table)
            con.execute(
                "INSERT INTO dead_letters (failed_at, sink, event_type, trace_id, partition_key,"
                " event_time, body, error, attempts) SELECT * FROM incoming_dead_letters"
            )
            con.unregister("incoming_dead_letters")
            return len(events)

        return self._run(insert)

    def count(self) -> int:
        """How many dead letters are stored (0 when the store does not exist yet)."""
        if not self.path.exists():
            return 0
        with self._connect() as con:
            row = con.execute("SELECT count(*) FROM dead_letters").fetchone()
        return int(row[0]) if row else 0

    def list(
        self, limit: int = 100, offset: int = 0, event_type: str | None = None
    ) -> builtins.list[DeadLetter]:
        """Oldest first, JSON-ready: times in ISO-8601, ``body`` decoded as UTF-8 text."""
        if not self.path.exists():
            return []
        where, params = ("WHERE event_type = ?", [event_type]) if event_type else ("", [])
        with self._connect() as con:
            rows = con.execute(
                f"SELECT {_COLUMNS} FROM dead_letters {where} ORDER BY id LIMIT ? OFFSET ?",
                [*params, max(0, int(limit)), max(0, int(offset))],
            ).fetchall()
        return [_row_dict(row) for row in rows]

    def clear(self) -> int:
        """Delete every dead letter; returns how many there were."""
        if not self.path.exists():
            return 0

        def delete(con: duckdb.DuckDBPyConnection) -> int:
            row = con.execute("SELECT count(*) FROM dead_letters").fetchone()
            con.execute("DELETE FROM dead_letters")
            return int(row[0]) if row else 0

        return self._run(delete)

    def _load(
        self, ids: Sequence[int] | None, after: int, limit: int
    ) -> builtins.list[tuple[Any, ...]]:
        with self._connect() as con:
            if ids is None:
                sql = f"SELECT {_COLUMNS} FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?"
                return con.execute(sql, [after, limit]).fetchall()
            wanted = sorted(int(i) for i in ids if int(i) > after)[:limit]
            if not wanted:
                return []
            marks = ",".join("?" * len(wanted))
            sql = f"SELECT {_COLUMNS} FROM dead_letters WHERE id IN ({marks}) ORDER BY id"
            return con.execute(sql, wanted).fetchall()

    def _settle(self, done: Sequence[int], failed: Sequence[int], error: str) -> None:
        def update(con: duckdb.DuckDBPyConnection) -> None:
            if done:
                marks = ",".join("?" * len(done))
                con.execute(f"DELETE FROM dead_letters WHERE id IN ({marks})", list(done))
            if failed:
                marks = ",".join("?" * len(failed))
                con.execute(
                    "UPDATE dead_letters SET attempts = attempts + 1, error = ?, "
                    f"failed_at = ? WHERE id IN ({marks})",
                    [redact(error)[:2000], _utc_now(), *failed],
                )

        self._run(update)

    async def replay(
        self, sink: Sink, ids: Sequence[int] | None = None, batch_size: int = 256
    ) -> ReplayResult:
        """Send dead letters (all, or ``ids``) to an *opened* ``sink``, oldest first.

        Rows are removed only after the sink acknowledged them. The first failing batch stops
        the replay: its unacknowledged rows get ``attempts + 1`` and the new error, and they and
        every row not yet tried count as ``failed``.
        """
        if not self.path.exists():
            return ReplayResult(0, 0)
        total = self.count() if ids is None else len(set(ids))
        replayed = 0
        after = 0
        batch_size = max(1, int(batch_size))
        while True:
            rows = await asyncio.to_thread(self._load, ids, after, batch_size)
            if not rows:
                break
            after = int(rows[-1][0])
            events = [_row_event(row) for row in rows]
            by_event = {id(event): int(row[0]) for event, row in zip(events, rows, strict=True)}
            try:
                await sink.send(events)
            except SinkError as exc:
                pending = exc.pending if exc.pending is not None else events
                unsent = {by_event[id(e)] for e in pending if id(e) in by_event}
                done = [i for i in by_event.values() if i not in unsent]
                await asyncio.to_thread(self._settle, done, sorted(unsent), str(exc))
                replayed += len(done)
                break
            await asyncio.to_thread(self._settle, list(by_event.values()), [], "")
            replayed += len(rows)
        if ids is not None:
            total = replayed + (await asyncio.to_thread(self._count_ids, ids))
        return ReplayResult(replayed=replayed, failed=max(0, total - replayed))

    def _count_ids(self, ids: Sequence[int]) -> int:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return 0
        with self._connect() as con:
            marks = ",".join("?" * len(wanted))
            row = con.execute(
                f"SELECT count(*) FROM dead_letters WHERE id IN ({marks})", wanted
            ).fetchone()
        return int(row[0]) if row else 0


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def _row_event(row: tuple[Any, ...]) -> Event:
    _id, _failed, _sink, event_type, trace_id, key, event_time, body, _err, _att = row
    return Event(
        event_type=event_type,
        trace_id=trace_id,
        partition_key=key,
        body=bytes(body),
        event_time=event_time or datetime.now(),
    )


def _row_dict(row: tuple[Any, ...]) -> DeadLetter:
    ident, failed_at, sink, event_type, trace_id, key, event_time, body, error, attempts = row
    return DeadLetter(
        id=int(ident),
        failed_at=failed_at.replace(tzinfo=UTC).isoformat() if failed_at else None,
        sink=sink,
        event_type=event_type,
        trace_id=trace_id,
        partition_key=key,
        event_time=event_time.isoformat() if event_time else None,
        body=bytes(body).decode("utf-8", errors="replace"),
        error=error,
        attempts=int(attempts),
    )
