"""Keyed random streams: the only module that creates random generators.

Every stream is derived from (seed, domain, keys) alone, so a value never depends on call order,
worker count, engine or how a date range was split. Domains are hashed with BLAKE2b (stable across
processes, unlike ``hash()``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

__all__ = ["domain_key", "stream", "substream_seeds", "uniform_from_seeds"]


@lru_cache(maxsize=4096)
def domain_key(domain: str) -> int:
    """A stable 64-bit integer for a domain name."""
    return int.from_bytes(hashlib.blake2b(domain.encode(), digest_size=8).digest(), "little")


def stream(seed: int, domain: str, *keys: int) -> np.random.Generator:
    """A fresh generator for (seed, domain, keys); equal inputs give equal streams.

    Keys are non-negative integers such as a store id or a day ordinal.
    """
    entropy = [int(seed), domain_key(domain), *(int(k) for k in keys)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def substream_seeds(seed: int, domain: str, keys: np.ndarray) -> np.ndarray:
    """Per-row 64-bit seeds for many keys at once (vectorised; for row-keyed draws).

    A splitmix64 mix of (seed, domain, key): rows keyed by, e.g., customer id get values that do
    not depend on which other rows are generated in the same call.
    """
    base = np.uint64((int(seed) * 0x9E3779B97F4A7C15 + domain_key(domain)) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + base
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def uniform_from_seeds(seeds: np.ndarray) -> np.ndarray:
    """Map 64-bit row seeds to uniforms in [0, 1) (53-bit precision)."""
    return (seeds >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
