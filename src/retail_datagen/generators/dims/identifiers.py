"""Unique, random-looking codes without rejection loops: a keyed permutation of a code space.

Loyalty cards, BLE ids, ad ids, phone numbers and licence plates must be unique yet look random.
Row ``i`` gets ``permute(i)`` where ``permute`` is a bijection of the code space [0, a·b): a
Feistel network with alternating radices (as in format-preserving encryption), whose round
function is the keyed hash of :func:`retail_datagen.rng.substream_seeds`. Being a bijection,
distinct rows always get distinct codes, and a row's code depends only on (seed, domain, row).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retail_datagen import rng

__all__ = ["FEISTEL_ROUNDS", "keyed_permutation", "letters_and_digits"]

FEISTEL_ROUNDS = 4  # even, so the radices end where they started


def keyed_permutation(
    seed: int, domain: str, values: np.ndarray, radices: tuple[int, int]
) -> np.ndarray:
    """Map ``values`` in [0, a·b) through a keyed bijection of that range (``radices = (a, b)``)."""
    a, b = radices
    x = np.asarray(values, dtype=np.int64)
    if x.size and (x.min() < 0 or x.max() >= a * b):
        raise ValueError(f"values out of the code space [0, {a * b})")
    left, right = np.divmod(x, b)  # left in Z_a, right in Z_b
    size_left, size_right = a, b
    for round_ in range(FEISTEL_ROUNDS):
        mixed = rng.substream_seeds(seed, f"{domain}#{round_}", right) % np.uint64(size_left)
        left, right = right, (left + mixed.astype(np.int64)) % size_left
        size_left, size_right = size_right, size_left
    return left * size_right + right


def letters_and_digits(codes: np.ndarray, pattern: str) -> pa.StringArray:
    """Render integer codes as fixed-width strings: ``A`` a letter, ``9`` a digit, ``1`` a
    non-zero digit; any other character is literal. The last placeholder varies fastest.
    """
    rest = np.asarray(codes, dtype=np.int64).copy()
    matrix = np.empty((rest.size, len(pattern)), dtype=np.uint8)
    alphabets = {"A": (26, ord("A")), "9": (10, ord("0")), "1": (9, ord("1"))}
    for pos in range(len(pattern) - 1, -1, -1):
        char = pattern[pos]
        if char in alphabets:
            size, base = alphabets[char]
            rest, digit = np.divmod(rest, size)
            matrix[:, pos] = digit + base
        else:
            matrix[:, pos] = ord(char)
    width = len(pattern)
    offsets = np.arange(0, (rest.size + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(rest.size, pa.py_buffer(offsets), pa.py_buffer(matrix))
