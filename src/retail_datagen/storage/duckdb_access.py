"""How our code opens DuckDB: bounded memory, a spill folder, and bounded waits on file locks.

Every connection gets a ``memory_limit`` and a thread count so a command's peak memory stays
bounded whatever the data size (large sorts and joins spill to disk instead). Spill files go to a
private folder inside the data folder, or to the system temp folder when the data folder is
read-only. A lock held by another process is waited for with bounded back-off, never forever.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from retail_datagen.storage.atomic import pid_alive

__all__ = [
    "LOCK_WAIT_SECONDS",
    "MEMORY_LIMIT",
    "is_lock_error",
    "remove_stale_spill_dirs",
    "retry_on",
    "settings",
    "spill_dir",
]

T = TypeVar("T")

# DuckDB's buffer limit per connection; Python, Arrow and the result sets come on top of it.
MEMORY_LIMIT = "768MB"
# How long a reader or writer waits for another process's lock on retail.duckdb.
LOCK_WAIT_SECONDS = 10.0
SPILL_PREFIX = ".duckdb-spill-"


def spill_dir(root: Path) -> Path:
    """A fresh, not yet created spill folder: in ``root`` when writable, else in system temp.

    DuckDB creates it only when a query spills and removes it when the connection closes.
    """
    name = f"{SPILL_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    base = root if root.is_dir() and os.access(root, os.W_OK) else Path(tempfile.gettempdir())
    return base / name


def remove_stale_spill_dirs(root: Path) -> list[Path]:
    """Remove spill folders left in ``root`` by killed processes (their pid no longer runs)."""
    removed: list[Path] = []
    for folder in root.glob(f"{SPILL_PREFIX}*"):
        pid = folder.name[len(SPILL_PREFIX) :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def settings(
    root: Path, *, ordered: bool = True, writer: bool = False, threads: int | None = None
) -> dict[str, Any]:
    """DuckDB configuration for a connection working on the data folder ``root``.

    ``ordered=False`` lets DuckDB drop row order where no caller can see it (aggregating
    checks), which keeps scans streaming in bounded memory. ``threads=1`` keeps an ordered copy
    of large files in bounded memory: each scanning thread holds a whole row group (2^17 rows
    in new fact files, up to 2^20 in older ones),
    and keeping order buffers the next ones. A ``writer`` (retail.duckdb itself)
    keeps DuckDB's own spill folder ``retail.duckdb.tmp``: its configuration must be the same
    for every connection of a process, which then share one database instance.
    """
    config: dict[str, Any] = {
        "memory_limit": MEMORY_LIMIT,
        "threads": threads or max(1, min(4, os.cpu_count() or 1)),
        "preserve_insertion_order": ordered,
    }
    if not writer:
        config["temp_directory"] = str(spill_dir(root))
    return config


def is_lock_error(exc: BaseException) -> bool:
    """True for DuckDB's "another process holds the file" error."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def retry_on(
    fn: Callable[[], T],
    retryable: Callable[[BaseException], bool],
    seconds: float | None = None,
) -> T:
    """``fn()``, tried again with growing pauses (50 ms → 1 s) while ``retryable(error)``, for
    at most ``seconds`` (default :data:`LOCK_WAIT_SECONDS`); then the last error is raised."""
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if seconds is None else seconds)
    pause = 0.05
    while True:
        try:
            return fn()
        except Exception as exc:
            if not retryable(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
