"""End-of-day cycle counts and damage write-offs at any stock node (store or DC).

Each column draws from its own keyed stream (``counts.<column>``, node, day), so a new draw
elsewhere in the day never shifts which products are counted or damaged.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.inventory import (
    ADJUSTMENT,
    DAMAGED,
    S_COUNT,
    LedgerPart,
)
from retail_datagen.rng import stream

__all__ = ["COUNT_TIME_S", "counts", "end_balance"]

ADJUSTMENT_RATE = 0.002  # node-products with a cycle-count correction per day
DAMAGE_RATE = 0.001
ADJUSTMENT_UNITS = (1, 3)
DAMAGE_UNITS = (1, 5)
COUNT_TIME_S = 23 * 3600 + 45 * 60  # cycle counts and damage are booked at 23:45


def end_balance(start: np.ndarray, parts: list[LedgerPart]) -> np.ndarray:
    """A node's on hand after ``parts`` (per product)."""
    end = start.astype(np.int64).copy()
    for part in parts:
        np.add.at(end, part.product, part.delta)
    return end


def counts(
    seed: int, node: int, day: date, balance: np.ndarray, close_s: float = COUNT_TIME_S
) -> tuple[LedgerPart, LedgerPart]:
    """Cycle-count corrections (±) and damage write-offs of ``node``, never below zero."""

    def rng(column: str) -> np.random.Generator:
        return stream(seed, f"counts.{column}", node, day.toordinal())

    p = balance.size
    adjust = np.flatnonzero(rng("adjust").random(p) < ADJUSTMENT_RATE)
    units = rng("adjust_units").integers(ADJUSTMENT_UNITS[0], ADJUSTMENT_UNITS[1] + 1, adjust.size)
    down = rng("adjust_sign").random(adjust.size) < 0.5
    adjust_delta = np.where(down, -np.minimum(units, balance[adjust]), units)
    after = balance.copy()
    np.add.at(after, adjust, adjust_delta)
    damage = np.flatnonzero(rng("damage").random(p) < DAMAGE_RATE)
    drawn = rng("damage_units").integers(DAMAGE_UNITS[0], DAMAGE_UNITS[1] + 1, damage.size)
    damage_delta = -np.minimum(drawn, after[damage])
    return (
        LedgerPart(
            np.full(adjust.size, close_s),
            adjust,
            adjust_delta,
            ADJUSTMENT,
            S_COUNT,
            pa.nulls(adjust.size, pa.string()),
        ),
        LedgerPart(
            np.full(damage.size, close_s + 60),
            damage,
            damage_delta,
            DAMAGED,
            S_COUNT,
            pa.nulls(damage.size, pa.string()),
        ),
    )
