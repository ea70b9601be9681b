"""Progress of long work, as the CLI bar and the API's server-sent events show it (SPEC §2.3)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["ProgressCallback", "ProgressTracker", "ProgressUpdate"]


@dataclass(frozen=True)
class ProgressUpdate:
    percent: float  # 0..100
    tables_complete: int
    tables_total: int
    tables_in_progress: tuple[str, ...]
    estimated_seconds_remaining: float | None
    progress_rate: float  # percent per second, rolling average
    last_update_timestamp: str  # ISO-8601 UTC
    message: str = ""
    rows_written: int = 0

    @property
    def table_counter(self) -> str:
        return f"{self.tables_complete}/{self.tables_total} tables complete"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tables_in_progress"] = list(self.tables_in_progress)
        data["table_counter"] = self.table_counter
        return data


ProgressCallback = Callable[[ProgressUpdate], None]


@dataclass
class ProgressTracker:
    """Turns raw fractions into throttled updates with a rolling rate and an ETA.

    Updates closer than ``min_interval`` seconds are dropped, except the final 100 % one.
    """

    callback: ProgressCallback | None
    tables_total: int
    min_interval: float = 0.1
    _last_emit: float = field(default=-1.0, init=False)
    _history: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=20), init=False
    )

    def update(
        self,
        fraction: float,
        *,
        tables_complete: int,
        tables_in_progress: tuple[str, ...] = (),
        message: str = "",
        rows_written: int = 0,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        percent = max(0.0, min(100.0, fraction * 100.0))
        self._history.append((now, percent))
        if self.callback is None:
            return
        final = percent >= 100.0
        if (
            not (force or final)
            and self._last_emit >= 0
            and now - self._last_emit < self.min_interval
        ):
            return
        self._last_emit = now
        rate = self._rate()
        eta = (100.0 - percent) / rate if rate > 0 else None
        self.callback(
            ProgressUpdate(
                percent=round(percent, 2),
                tables_complete=tables_complete,
                tables_total=self.tables_total,
                tables_in_progress=tables_in_progress,
                estimated_seconds_remaining=None if eta is None else round(eta, 1),
                progress_rate=round(rate, 4),
                last_update_timestamp=datetime.now(UTC).isoformat(timespec="milliseconds"),
                message=message,
                rows_written=rows_written,
            )
        )

    def _rate(self) -> float:
        if len(self._history) < 2:
            return 0.0
        (t0, p0), (t1, p1) = self._history[0], self._history[-1]
        return (p1 - p0) / (t1 - t0) if t1 > t0 else 0.0
