"""What a stream writes to the data folder: each settled day appended to the history
(``HistoryAppender``, mode "realtime") and the stream position (the checkpoint).

A detached stream (``--from now``) is no position in the history: it writes neither.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from retail_datagen.engine.history import History
from retail_datagen.errors import DataStateError
from retail_datagen.streaming.checkpoint import Checkpoint, CheckpointStore
from retail_datagen.streaming.events import DayEvents
from retail_datagen.streaming.position import Mark

__all__ = ["StreamPersistence"]

_log = logging.getLogger("retail_datagen.streaming.event_streamer")


class StreamPersistence:
    """Appends streamed days and saves the stream position of one data folder."""

    def __init__(
        self,
        root: Path,
        *,
        seed: int,
        event_types: tuple[str, ...] | None,
        detached: bool,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.root = root
        self.checkpoints = CheckpointStore(root)
        self.days = 0  # days appended to the history by this stream
        self.history: str | None = None  # the fingerprint of the history being continued
        self._seed = seed
        self._event_types = event_types
        self._detached = detached
        self._now = now

    def resume_position(self, day: date) -> int:
        """Settled events of ``day`` to skip (0 when detached: nothing to resume)."""
        if self._detached:
            return 0
        return self.checkpoints.resume_position(day, self.history)

    def save(self, mark: Mark) -> None:
        """Checkpoint ``mark`` (nothing before a day is known, or when detached)."""
        if self._detached or mark.day is None:
            return
        self.checkpoints.save(
            Checkpoint(
                day=mark.day,
                settled=mark.settled,
                total=mark.total or None,
                updated_at=self._now(),
                event_types=self._event_types,
                history=self.history,
            )
        )

    def append(self, events: DayEvents, carry: dict[int, Any]) -> History:
        """Append the settled day to the history (worker thread); returns the history after
        it. Refused when the history no longer ends the day before."""
        day = events.day
        history = History.open(str(self.root))
        if history.last_day != day - timedelta(days=1):
            raise DataStateError(
                f"the history changed while streaming (it now ends {history.last_day}); "
                f"cannot append {day.isoformat()}"
            )
        # a fresh appender per day: its writer keeps the rows committed so far in the month
        appender = history.appender(day, mode="realtime", seed=self._seed)
        try:
            appender.add(day, events.tables, carry)
            appender.commit(day)
        except BaseException:
            appender.abort()
            raise
        after = History.open(str(self.root))
        self.days += 1
        return after

    def refresh_views(self) -> None:
        """Show the new files in the DuckDB store's fact views (best effort)."""
        try:
            from retail_datagen.storage.duckdb_store import refresh_fact_views

            refresh_fact_views(self.root)
        except Exception as exc:  # the store may be open elsewhere; the files are committed
            _log.warning("could not refresh the DuckDB fact views: %s", exc)
