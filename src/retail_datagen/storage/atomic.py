"""Atomic file writes: a crash never leaves a half-written file under its final name (SPEC §2.4).

Everything is first written to a hidden temporary name in the destination folder (same file
system, so the final ``os.replace`` is atomic), flushed to disk, then renamed. On any failure the
temporary file is removed, so neither a partial final file nor a stray temp file remains.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "TEMP_MARKER",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "commit",
    "fsync_dir",
    "pid_alive",
    "temp_path_for",
    "write_parquet_atomic",
]

TEMP_MARKER = ".tmp-"


def temp_path_for(final: Path) -> Path:
    """A hidden, unique sibling of ``final``: ``.<name>.tmp-<pid>-<rand>``.

    Hidden (leading dot) so globs like ``fact_x_*.parquet`` never see a file in progress.
    """
    return final.parent / f".{final.name}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}"


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists (temporary names and spools carry their writer's pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _fsync_path(path: Path) -> None:
    """Flush a file, or every file below a directory, to stable storage."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file():
                _fsync_path(child)
        fsync_dir(path)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Persist a rename: fsync the folder entry (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def commit(tmp: Path, final: Path) -> None:
    """Flush ``tmp`` and rename it over ``final`` (same folder or same file system)."""
    _fsync_path(tmp)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    fsync_dir(final.parent)


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; on success it replaces ``final`` atomically.

    The caller writes a file (or a directory, which then must not exist yet at ``final``) to the
    yielded path. If the block raises, the temporary path is removed and ``final`` is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file for {final}")
        commit(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically; ``mode`` (e.g. 0o600 for a file holding a secret)
    applies from the moment the file exists, so its content is never readable by others."""
    with atomic_path(path) as tmp:
        if mode is None:
            tmp.write_bytes(data)
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)  # exactly ``mode``, whatever the umask
            out.write(data)


def atomic_write_text(
    path: Path, text: str, encoding: str = "utf-8", *, mode: int | None = None
) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes` for ``mode``)."""
    atomic_write_bytes(path, text.encode(encoding), mode=mode)


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write an Arrow table as a zstd-compressed Parquet file, atomically."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
