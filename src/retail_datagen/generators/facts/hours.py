"""Opening hours: when a store is open, and the next moment it is (SPEC §5, §6.5)."""

from __future__ import annotations

from datetime import date

import numpy as np

from retail_datagen.generators.facts.columns import US_PER_DAY, US_PER_SECOND
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.price_model import EPOCH_ORDINAL

__all__ = ["day_hours", "is_christmas", "next_open_us", "open_window"]


def is_christmas(day: date) -> bool:
    return day.month == 12 and day.day == 25


def _closed_all_day(ctx: FactContext, store: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
    """Closed on December 25, except 24/7 stores when the configuration keeps them open."""
    christmas = np.array(
        [is_christmas(date.fromordinal(int(o))) for o in ordinals.tolist()], dtype=bool
    )
    if ctx.config.simulation.open_24h_stores_on_christmas:
        all_day = (ctx.store_open[store] == 0) & (ctx.store_close[store] == 24)
        closed: np.ndarray = christmas & ~all_day
        return closed
    return christmas


def open_window(ctx: FactContext, store: int, day: date) -> tuple[int, int] | None:
    """Opening and closing second of the day, or None when the store is closed all day."""
    if _closed_all_day(ctx, np.array([store]), np.array([day.toordinal()]))[0]:
        return None
    return int(ctx.store_open[store]) * 3600, int(ctx.store_close[store]) * 3600


def day_hours(ctx: FactContext, store: np.ndarray, day: date) -> tuple[np.ndarray, np.ndarray]:
    """Opening and closing second of each store on ``day``; both 0 where it is closed all day."""
    closed = _closed_all_day(ctx, store, np.full(store.size, day.toordinal()))
    open_s = np.where(closed, 0, ctx.store_open[store].astype(np.int64) * 3600)
    close_s = np.where(closed, 0, ctx.store_close[store].astype(np.int64) * 3600)
    return open_s, close_s


def next_open_us(ctx: FactContext, store: np.ndarray, t_us: np.ndarray) -> np.ndarray:
    """Each time moved forward to the next moment its store is open (unchanged if open)."""
    t = np.asarray(t_us, dtype=np.int64).copy()
    for _ in range(4):  # before opening, after closing, a closed day: at most a few hops
        day_idx = t // US_PER_DAY
        sec = (t - day_idx * US_PER_DAY) // US_PER_SECOND
        open_s = ctx.store_open[store].astype(np.int64) * 3600
        close_s = ctx.store_close[store].astype(np.int64) * 3600
        closed_day = _closed_all_day(ctx, store, day_idx + EPOCH_ORDINAL)
        before = ~closed_day & (sec < open_s)
        after = closed_day | (sec >= close_s)
        if not (before.any() or after.any()):
            break
        t = np.where(before, day_idx * US_PER_DAY + open_s * US_PER_SECOND, t)
        t = np.where(after, (day_idx + 1) * US_PER_DAY + open_s * US_PER_SECOND, t)
    return t
