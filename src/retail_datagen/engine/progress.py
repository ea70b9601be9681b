"""Progress of long work, as the CLI bar and the API's server-sent events show it (SPEC §2.3).

Besides the SPEC's fields, an update says what really advances during a fact run (days done
out of the total, rows per second), and its ETA settles quickly instead of swinging: see
:class:`RateEstimator`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Clock", "ProgressCallback", "ProgressTracker", "ProgressUpdate", "RateEstimator"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class ProgressUpdate:
    percent: float  # 0..100
    tables_complete: int
    tables_total: int
    tables_in_progress: tuple[str, ...]
    estimated_seconds_remaining: float | None
    progress_rate: float  # percent per second, smoothed
    last_update_timestamp: str  # ISO-8601 UTC
    message: str = ""
    rows_written: int = 0
    days_complete: int | None = None  # fact runs: whole days written so far
    days_total: int | None = None
    rows_per_second: float | None = None  # None while warming up

    @property
    def table_counter(self) -> str:
        return f"{self.tables_complete}/{self.tables_total} tables complete"

    @property
    def counter(self) -> str:
        """What advances: days for a fact run (all tables grow together), else tables."""
        if self.days_total is not None and self.days_complete is not None:
            return f"{self.days_complete:,}/{self.days_total:,} days complete"
        return self.table_counter

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tables_in_progress"] = list(self.tables_in_progress)
        data["table_counter"] = self.table_counter
        data["counter"] = self.counter
        return data


ProgressCallback = Callable[[ProgressUpdate], None]


class RateEstimator:
    """A rate and an ETA that settle quickly and do not swing.

    Time before the first observation (start-up: loading dimensions, starting workers) does not
    count. During a warm-up (``warmup_seconds`` and ``warmup_fraction`` of the work past the
    first observation) there is no ETA. Then the rate is the average since the first
    observation — stable against bursts of results — and the shown ETA counts down, moving
    toward each new estimate with an exponential weight (time constant ``smoothing_seconds``).
    """

    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        warmup_seconds: float = 3.0,
        warmup_fraction: float = 0.01,
        smoothing_seconds: float = 10.0,
    ) -> None:
        self.clock = clock
        self.warmup_seconds = warmup_seconds
        self.warmup_fraction = warmup_fraction
        self.smoothing_seconds = smoothing_seconds
        self._origin: tuple[float, float, int] | None = None
        self._rate = 0.0  # fraction per second
        self._rows_per_second: float | None = None
        self._eta: float | None = None
        self._eta_at = 0.0

    def observe(self, fraction: float, rows: int = 0) -> None:
        now = self.clock()
        fraction = max(0.0, min(1.0, fraction))
        if self._origin is None:
            self._origin = (now, fraction, rows)
            return
        t0, f0, r0 = self._origin
        elapsed = now - t0
        if fraction >= 1.0:
            self._eta, self._eta_at = 0.0, now
        if elapsed < self.warmup_seconds or fraction - f0 < self.warmup_fraction:
            return
        self._rate = (fraction - f0) / elapsed
        self._rows_per_second = max(0, rows - r0) / elapsed
        if fraction >= 1.0:
            return
        target = (1.0 - fraction) / self._rate
        if self._eta is None:
            self._eta = target
        else:
            step = max(0.0, now - self._eta_at)
            predicted = max(0.0, self._eta - step)
            weight = 1.0 - math.exp(-step / self.smoothing_seconds)
            self._eta = predicted + weight * (target - predicted)
        self._eta_at = now

    @property
    def rate(self) -> float:
        """Fraction of the work per second (0 while warming up)."""
        return self._rate

    @property
    def rows_per_second(self) -> float | None:
        return self._rows_per_second

    @property
    def eta(self) -> float | None:
        """Seconds remaining as of now, or None while warming up."""
        if self._eta is None:
            return None
        return max(0.0, self._eta - max(0.0, self.clock() - self._eta_at))


@dataclass
class ProgressTracker:
    """Turns raw fractions into throttled updates with a settled rate and ETA.

    Updates closer than ``min_interval`` seconds are dropped, except forced and final ones.
    """

    callback: ProgressCallback | None
    tables_total: int
    min_interval: float = 0.1
    clock: Clock = time.monotonic
    _last_emit: float = field(default=-1.0, init=False)
    _rates: RateEstimator = field(init=False)

    def __post_init__(self) -> None:
        self._rates = RateEstimator(self.clock)

    def update(
        self,
        fraction: float,
        *,
        tables_complete: int,
        tables_in_progress: tuple[str, ...] = (),
        message: str = "",
        rows_written: int = 0,
        days_complete: int | None = None,
        days_total: int | None = None,
        force: bool = False,
    ) -> None:
        self._rates.observe(fraction, rows_written)
        if self.callback is None:
            return
        now = self.clock()
        percent = max(0.0, min(100.0, fraction * 100.0))
        final = percent >= 100.0
        if (
            not (force or final)
            and self._last_emit >= 0
            and now - self._last_emit < self.min_interval
        ):
            return
        self._last_emit = now
        eta = self._rates.eta
        rows_per_second = self._rates.rows_per_second
        self.callback(
            ProgressUpdate(
                percent=round(percent, 2),
                tables_complete=tables_complete,
                tables_total=self.tables_total,
                tables_in_progress=tables_in_progress,
                estimated_seconds_remaining=None if eta is None else round(eta, 1),
                progress_rate=round(self._rates.rate * 100.0, 4),
                last_update_timestamp=datetime.now(UTC).isoformat(timespec="milliseconds"),
                message=message,
                rows_written=rows_written,
                days_complete=days_complete,
                days_total=days_total,
                rows_per_second=None if rows_per_second is None else round(rows_per_second, 1),
            )
        )
