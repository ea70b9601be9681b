"""Give freed memory back to the operating system between units of work.

A unit allocates and frees hundreds of megabytes of numpy and Arrow temporaries. glibc's malloc
keeps freed heap memory (and, after a large free, serves even large arrays from the heap, which
fragments it), and Arrow's mimalloc pool keeps freed pages too, so a long-lived process keeps
its largest past working set resident although it no longer uses it. Releasing keeps each
process near what it currently holds (issue 9), but the pages given back are faulted in again by
the next unit: after every one of a day's ~50 small units that cost 40 % of a default week's
run time. So between units memory is released only once a process holds more than a budget.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable

import pyarrow as pa

__all__ = ["UNIT_RSS_BUDGET", "release_unused_memory", "release_when_above"]

UNIT_RSS_BUDGET = 320 * 2**20  # a process above this after a unit gives its free memory back
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_unused_memory() -> None:
    """Return the C heap's and Arrow's free memory to the system; results never change."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def resident_bytes() -> int | None:
    """This process's resident memory now (None where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def release_when_above(budget: int = UNIT_RSS_BUDGET) -> bool:
    """Release unused memory if this process holds more than ``budget`` (or cannot tell)."""
    held = resident_bytes()
    if held is not None and held <= budget:
        return False
    release_unused_memory()
    return True
