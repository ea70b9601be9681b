"""Give freed memory back to the operating system between units of work.

A unit allocates and frees hundreds of megabytes of numpy and Arrow temporaries. glibc's malloc
keeps freed heap memory (and, after a large free, serves even large arrays from the heap, which
fragments it), and Arrow's mimalloc pool keeps freed pages too, so a long-lived process keeps
its largest past working set resident although it no longer uses it. Releasing after a unit
costs about a millisecond and keeps each process near what it currently holds (issue 9).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

import pyarrow as pa

__all__ = ["release_unused_memory"]


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
