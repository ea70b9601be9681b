"""Fast, deterministic identifiers: fixed-width strings built from integer parts in numpy.

Business ids (ReceiptId, TraceId, ...) are strings such as ``R0007-20240101-000123``; building
millions of them with Python string formatting would dominate generation time, so they are
assembled as a byte matrix and handed to Arrow without per-row Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["Part", "compose", "digits"]

Part = str | tuple[np.ndarray | range, int]
"""A literal text piece, or (non-negative integers or a range of them, zero-padded width)."""

_SEQUENCE_DIGITS: dict[int, np.ndarray] = {}


def _sequence_digits(seq: range, width: int) -> np.ndarray:
    """Digits of consecutive numbers, sliced from a per-width cache (row ids are sequences)."""
    cached = _SEQUENCE_DIGITS.get(width)
    if cached is None or cached.shape[0] < seq.stop:
        size = max(seq.stop, 2 * (0 if cached is None else cached.shape[0]), 1 << 16)
        size = min(size, 10**width)
        cached = digits(np.arange(size), width)
        _SEQUENCE_DIGITS[width] = cached
    return cached[seq.start : seq.stop]


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of ``values`` as an (n, width) uint8 ASCII matrix."""
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    out = np.empty((v.size, width), dtype=np.uint8)
    _write_digits(out, 0, v, width)
    return out


_TRIPLETS = np.array(
    [[48 + i // 100, 48 + i // 10 % 10, 48 + i % 10] for i in range(1000)], np.uint8
)


def _write_digits(out: np.ndarray, start: int, values: np.ndarray, width: int) -> None:
    if values.size and (values.min() < 0 or values.max() >= 10**width):
        raise ValueError(f"value out of range for {width} digits")
    rest = values
    end = start + width
    while end - start >= 3:  # three digits per gather from a lookup table
        rest, low = np.divmod(rest, 1000)
        out[:, end - 3 : end] = _TRIPLETS[low]
        end -= 3
    while end > start:
        rest, digit = np.divmod(rest, 10)
        out[:, end - 1] = digit.astype(np.uint8) + 48
        end -= 1


def compose(n: int, parts: Sequence[Part]) -> pa.StringArray:
    """Concatenate literal pieces and zero-padded numbers into ``n`` equal-width strings."""
    widths = [len(p) if isinstance(p, str) else p[1] for p in parts]
    width = sum(widths)
    matrix = np.empty((n, width), dtype=np.uint8)
    pos = 0
    for part, w in zip(parts, widths, strict=True):
        if isinstance(part, str):
            matrix[:, pos : pos + w] = np.frombuffer(part.encode("ascii"), dtype=np.uint8)
        elif isinstance(part[0], range) and part[0].step == 1 and part[0].stop <= 10**w:
            matrix[:, pos : pos + w] = _sequence_digits(part[0], w)
        else:
            values = np.asarray(part[0], dtype=np.int64).reshape(-1)
            if values.size == 1:  # a constant: format once, broadcast
                matrix[:, pos : pos + w] = digits(values, w)
            else:
                _write_digits(matrix, pos, values, w)
        pos += w
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(matrix))
