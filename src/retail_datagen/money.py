"""Money: integer cents inside, DECIMAL outside; the one tax rule and the one rounding rule.

All amounts are int64 cents; rates are int64 millionths (parts per 1e6). Rounding is half away
from zero, applied once per line, so receipt identities hold exactly to the cent. Amounts below
a cent (the cost of one ad impression) are int64 micro-dollars, DECIMAL(12,6) outside.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = [
    "MICROS_PER_DOLLAR",
    "RATE_SCALE",
    "TAXABILITY_FACTOR",
    "cents_to_decimal",
    "decimal_to_cents",
    "micros_to_decimal",
    "percent_of",
    "rate_to_micros",
    "round_div",
    "tax_cents",
]

RATE_SCALE = 1_000_000  # rates are held as integer parts per million
MICROS_PER_DOLLAR = 1_000_000  # sub-cent amounts are held as integer micro-dollars

# Share of the store rate that applies to each product taxability, in tenths.
TAXABILITY_FACTOR: dict[str, int] = {"TAXABLE": 10, "REDUCED_RATE": 5, "NON_TAXABLE": 0}


def round_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Integer division rounding half away from zero (vectorised, exact)."""
    num = np.asarray(numerator, dtype=np.int64)
    half = denominator // 2
    mag = (np.abs(num) + half) // denominator
    return np.where(num < 0, -mag, mag)


def rate_to_micros(rate: np.ndarray | float) -> np.ndarray:
    """A fractional rate (0.0825) as integer millionths (82500)."""
    return np.rint(np.asarray(rate, dtype=np.float64) * RATE_SCALE).astype(np.int64)


def tax_cents(
    amount_cents: np.ndarray, rate_micros: np.ndarray, factor_tenths: np.ndarray
) -> np.ndarray:
    """Tax of each line: post-discount amount x store rate x taxability share, rounded once."""
    amount = np.asarray(amount_cents, dtype=np.int64)
    rate = np.asarray(rate_micros, dtype=np.int64) * np.asarray(factor_tenths, dtype=np.int64)
    return round_div(amount * rate, RATE_SCALE * 10)


def percent_of(amount_cents: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """``percent`` % of an amount in cents, rounded half away from zero."""
    return round_div(
        np.asarray(amount_cents, dtype=np.int64) * np.asarray(percent, dtype=np.int64), 100
    )


def cents_to_decimal(cents: np.ndarray, precision: int = 12, scale: int = 2) -> pa.Array:
    """int64 unscaled values → Arrow decimal128 without any per-value Python work."""
    values = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((values.size, 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63  # sign extension into the high word
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), values.size, [None, pa.py_buffer(words)]
    )


def micros_to_decimal(micros: np.ndarray) -> pa.Array:
    """int64 micro-dollars → DECIMAL(12,6), the type of Kind.MICRO_MONEY."""
    return cents_to_decimal(micros, 12, 6)


def decimal_to_cents(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow decimal128 → int64 unscaled values (the inverse of :func:`cents_to_decimal`)."""
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks == 0:
            return np.empty(0, dtype=np.int64)
        return np.concatenate([decimal_to_cents(c) for c in array.chunks])
    buf = array.buffers()[1]
    words = np.frombuffer(buf, dtype=np.int64)[2 * array.offset : 2 * (array.offset + len(array))]
    return words[0::2].copy()
