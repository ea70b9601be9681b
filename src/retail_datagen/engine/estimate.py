"""How big and how long a fact run will be, told before it starts (no surprise 100 GB job).

The figures are linear in the configuration's volumes and the number of days; the constants
below were measured on the project's machine (2 cores). An estimate is meant to be within
about 2× of the real run: enough to tell a 1-minute job from a 1-hour, 100 GB one.
The CLI (``generate``, ``--dry-run``) and the API (``GET /api/generation/estimate``) use it
through :func:`retail_datagen.services.generation.estimate_run`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from retail_datagen.config.models import RetailConfig

__all__ = [
    "CONFIRM_ABOVE_BYTES",
    "CONFIRM_ABOVE_SECONDS",
    "CONFIRM_LIMITS",
    "GenerationEstimate",
    "estimate_days",
    "fact_rows_per_day",
]

# Measured with the default configuration (42 stores × 2,000 customers/day, 8.2 items per
# basket, 2,500 online orders and 10,000 impressions a day) by
# `retail-datagen generate --start 2024-03-04 --days 5 --workers 2` (Parquet): 17,676,957 fact
# rows; receipt lines + store inventory movements 4,909,897 (per basket item), online orders +
# their lines 35,416, marketing 46,425, every other fact 12,685,219 (per store visit).
# Since anonymous shoppers (issue 10) browsers' phones are seen only as often as keeps ~30 % of
# BLE devices known: the per-visit rows fell by the measured ratio 16.0 / 25.5 (default
# configuration, 2024-01-01..03, before and after), 30.2 → 19.0.
ROWS_PER_STORE_VISIT = 19.0
ROWS_PER_BASKET_ITEM = 1.426
ROWS_PER_ONLINE_ORDER = 2.83
ROWS_PER_IMPRESSION = 0.93
# Bytes on disk per fact row: the same run wrote 403.8 MB of fact Parquet files (22.8 B/row);
# two days as `--format csv` wrote 679.4 MB for 5,901,183 rows (115 B/row).
BYTES_PER_ROW = {"parquet": 23.0, "csv": 115.0, "delta": 23.0}
# Rows per second end to end with 2 workers: 2.17–2.56 M/s on an idle machine (bench/facts.py,
# docs/PERFORMANCE.md) and 0.51 M/s for the 5-day run above while four other jobs shared the two
# cores. 1.1 M/s is about their geometric mean, so the time is within ~2× either way.
ROWS_PER_SECOND_TWO_WORKERS = 1.1e6
# Two processes reach about 1.45× the throughput of one here (docs/PERFORMANCE.md): 2^0.55.
WORKER_SCALING_EXPONENT = 0.55

_FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "delta": "Delta (Parquet)"}

CONFIRM_ABOVE_BYTES = 20 * 10**9
CONFIRM_ABOVE_SECONDS = 30 * 60
CONFIRM_LIMITS = f"{CONFIRM_ABOVE_BYTES // 10**9} GB or {CONFIRM_ABOVE_SECONDS // 60} minutes"


@dataclass(frozen=True)
class GenerationEstimate:
    """What a fact run over ``[start, end]`` will write and roughly how long it takes."""

    start: date | None  # None when there is nothing to generate
    end: date | None
    days: int
    rows: int
    bytes: int
    seconds: float
    workers: int
    output_format: str

    @property
    def needs_confirmation(self) -> bool:
        """Above 20 GB or 30 minutes a person should say yes first."""
        return self.bytes > CONFIRM_ABOVE_BYTES or self.seconds > CONFIRM_ABOVE_SECONDS

    def describe(self) -> str:
        """One line, e.g. ``1,070 days (2024-01-01 → 2026-12-05): about 3.8 billion rows, …``."""
        if self.days == 0 or self.start is None or self.end is None:
            return "0 days: the facts are up to date (nothing to generate)"
        plural = "day" if self.days == 1 else "days"
        return (
            f"{self.days:,} {plural} ({self.start.isoformat()} → {self.end.isoformat()}): "
            f"about {format_count(self.rows)} rows, {format_bytes(self.bytes)} of "
            f"{_FORMAT_NAMES.get(self.output_format, self.output_format)} on disk, "
            f"{format_duration(self.seconds)} with {self.workers} "
            f"worker{'s' if self.workers != 1 else ''}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "days": self.days,
            "rows": self.rows,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 1),
            "workers": self.workers,
            "output_format": self.output_format,
            "needs_confirmation": self.needs_confirmation,
            "summary": self.describe(),
        }


def fact_rows_per_day(config: RetailConfig) -> float:
    """Fact rows of one simulated day for the configuration's volumes."""
    v = config.volume
    visits = v.stores * v.customers_per_day
    return (
        visits * (ROWS_PER_STORE_VISIT + ROWS_PER_BASKET_ITEM * v.items_per_ticket_mean)
        + v.online_orders_per_day * ROWS_PER_ONLINE_ORDER
        + v.marketing_impressions_per_day * ROWS_PER_IMPRESSION
    )


def _rows_per_second(workers: int) -> float:
    effective = max(1, min(workers, os.cpu_count() or 1))
    scale: float = (effective / 2) ** WORKER_SCALING_EXPONENT
    return ROWS_PER_SECOND_TWO_WORKERS * scale


def estimate_days(
    config: RetailConfig,
    first: date,
    last: date,
    *,
    workers: int | None = None,
    output_format: str = "parquet",
) -> GenerationEstimate:
    """The estimate for the days ``first``..``last`` inclusive (none when ``first > last``)."""
    count = max(0, (last - first).days + 1)
    used = workers if workers and workers > 0 else (os.cpu_count() or 1)
    rows = round(fact_rows_per_day(config) * count)
    return GenerationEstimate(
        start=first if count else None,
        end=last if count else None,
        days=count,
        rows=rows,
        bytes=round(rows * BYTES_PER_ROW.get(output_format, BYTES_PER_ROW["parquet"])),
        seconds=rows / _rows_per_second(used),
        workers=used,
        output_format=output_format,
    )


def format_count(rows: int) -> str:
    """``17.7 million``, ``3.8 billion`` or the exact number below a million."""
    for size, word in ((10**9, "billion"), (10**6, "million")):
        if rows >= size:
            return f"{rows / size:.1f} {word}"
    return f"{rows:,}"


def format_bytes(size: int) -> str:
    for unit, name in ((10**9, "GB"), (10**6, "MB"), (10**3, "kB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {name}" if value >= 10 else f"{value:.1f} {name}"
    return f"{size} B"


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min"
