"""Exact integer allocation of a total over shares (largest remainder).

Shares such as "FLAGSHIP 5 %" are met by allocation rather than by independent draws, so small
chains still get every guaranteed class and the shares hold exactly, not just on average.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["capped_allocation", "deal", "largest_remainder"]


def largest_remainder(weights: Sequence[float] | np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``weights`` (Hamilton's method).

    Ties in the remainders go to the earlier bucket, so the result is deterministic.
    """
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.size == 0:
        return np.zeros(w.size, dtype=np.int64)
    quotas = w / w.sum() * total
    counts: np.ndarray = np.floor(quotas).astype(np.int64)
    remainder = int(total - counts.sum())
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def capped_allocation(
    weights: Sequence[float] | np.ndarray, capacities: Sequence[int] | np.ndarray, total: int
) -> np.ndarray:
    """Like :func:`largest_remainder`, but no bucket gets more than its capacity.

    A bucket that cannot take its share is filled up and the rest is shared among the others in
    proportion to their weights; the total is capped at the sum of the capacities.
    """
    w = np.asarray(weights, dtype=np.float64)
    cap = np.asarray(capacities, dtype=np.int64)
    counts = np.zeros(w.size, dtype=np.int64)
    full = cap <= 0
    remaining = min(int(total), int(cap.sum()))
    while remaining > 0:
        open_ = ~full
        open_weights = np.where(open_, w, 0.0)
        if open_weights.sum() <= 0:  # only zero-weight buckets left: share evenly
            open_weights = open_.astype(np.float64)
        share = largest_remainder(open_weights, remaining)
        over = open_ & (share > cap)
        if not over.any():
            counts[open_] = share[open_]
            break
        counts[over] = cap[over]
        full |= over
        remaining -= int(cap[over].sum())
    return counts


def deal(count: int, weights: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Counts per bucket (trucks per DC): one each while they last (buckets holding none yet
    first, then the heaviest), the rest in proportion to the weights."""
    n = weights.size
    if count < n:
        out = np.zeros(n, np.int64)
        out[np.lexsort((-weights, held > 0))[:count]] = 1
        return out
    dealt: np.ndarray = np.ones(n, np.int64) + largest_remainder(weights, count - n)
    return dealt
