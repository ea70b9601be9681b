"""The stream position: which simulated day, and how many of its events are settled.

A day's events are deterministic and in a canonical order (``events.DayEvents``), so the
position is just (day, settled prefix length). A restarted streamer regenerates the day and skips
the prefix: nothing is lost, and only events settled after the last checkpoint write (at most the
last batch in flight) can be sent twice — recognisable by their ``trace_id``.

``<data>/stream_checkpoint.json`` is always written atomically.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from retail_datagen.errors import DataStateError
from retail_datagen.storage.atomic import atomic_write_text
from retail_datagen.storage.layout import CHECKPOINT_FILE, DataLayout

__all__ = ["CHECKPOINT_FILE", "Checkpoint", "CheckpointStore"]


@dataclass(frozen=True)
class Checkpoint:
    day: date  # the simulated day being streamed (the day after the persisted watermark)
    settled: int  # canonical positions of ``day`` already delivered or dead-lettered
    total: int | None = None  # events of the day (for progress display)
    updated_at: datetime | None = None
    event_types: tuple[str, ...] | None = None  # the filter in force when written (information)
    history: str | None = None  # which history the position belongs to (see ``resume_position``)

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["day"] = self.day.isoformat()
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        data["event_types"] = list(self.event_types) if self.event_types else None
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        types = data.get("event_types")
        stamp = data.get("updated_at")
        return cls(
            day=date.fromisoformat(data["day"]),
            settled=int(data["settled"]),
            total=None if data.get("total") is None else int(data["total"]),
            updated_at=datetime.fromisoformat(stamp) if stamp else None,
            event_types=tuple(types) if types else None,
            history=data.get("history"),
        )


class CheckpointStore:
    """Load and save the checkpoint of one data folder."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = DataLayout.of(data_dir).checkpoint_path
        self.writes = 0

    def load(self) -> Checkpoint | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            checkpoint = Checkpoint.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise DataStateError(
                f"{self.path} is damaged ({exc}); delete it to restart the stream at the "
                "beginning of the day after the last persisted one"
            ) from None
        if checkpoint.settled < 0:
            raise DataStateError(f"{self.path} is damaged (negative position)")
        return checkpoint

    def save(self, checkpoint: Checkpoint) -> None:
        atomic_write_text(self.path, checkpoint.to_json())
        self.writes += 1

    def resume_position(self, next_day: date, history: str | None = None) -> int:
        """Settled events of ``next_day`` (the first unpersisted day) to skip; 0 when the
        checkpoint belongs to another day (one persisted since) or to another ``history`` (the
        data was cleared and generated again, or the seed changed)."""
        checkpoint = self.load()
        if checkpoint is None or checkpoint.day != next_day:
            return 0
        if history is not None and checkpoint.history not in (None, history):
            return 0
        return checkpoint.settled

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
