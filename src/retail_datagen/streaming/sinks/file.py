"""``file://``: JSON Lines on disk, optionally gzip-compressed, rotated by size.

Layout for ``file:///data/events.jsonl?max_bytes=…``::

    events.jsonl        the file being written (always this name)
    events.1.jsonl      the first completed file, then events.2.jsonl, … (higher = newer)

With ``gzip=true`` the names end in ``.gz`` and every batch is appended as one gzip member
(concatenated members are one valid gzip stream, so ``gzip -dc``/``gzip.open`` read the whole
file). Rotation is one ``rename`` of a closed, fsynced file to a name that did not exist, so a
reader never sees a half-rotated file; a batch never straddles two files.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from retail_datagen.storage.atomic import fsync_dir as _fsync_dir
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import SinkError

__all__ = ["FileSink"]

# a retry cannot fix these (a disk that is full or briefly unavailable may recover)
_NOT_RETRIABLE = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.EEXIST,
    errno.ENAMETOOLONG,
    errno.EINVAL,
}


class FileSink:
    """Appends batches as JSON Lines (see the module docstring for names and rotation)."""

    def __init__(
        self,
        path: Path,
        *,
        gzip: bool = False,
        max_bytes: int | None = None,
        gzip_level: int = 6,
    ) -> None:
        if gzip and not path.name.endswith(".gz"):
            path = path.with_name(path.name + ".gz")
        self.path = path
        self.gzip = gzip
        self.max_bytes = max_bytes
        self.gzip_level = gzip_level
        self.name = f"file://{path}"
        self._file: BinaryIO | None = None
        self._size = 0
        self._next_index = 1
        stem, ext = _split_name(path.name)
        self._rotated = re.compile(re.escape(stem) + r"\.(\d+)" + re.escape(ext) + "$")

    # ------------------------------------------------------------------ Sink
    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    async def send(self, batch: Sequence[Event]) -> None:
        if not batch:
            return
        data = b"\n".join([e.body for e in batch]) + b"\n"
        await asyncio.to_thread(self._write, data)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    # ------------------------------------------------------------------ blocking work
    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - kept open across batches
        except OSError as exc:
            raise _sink_error(f"cannot open {self.path}", exc) from None
        self._size = self._file.tell()
        indexes = [
            int(m.group(1))
            for p in self.path.parent.iterdir()
            if (m := self._rotated.match(p.name)) is not None
        ]
        self._next_index = max(indexes, default=0) + 1

    def _write(self, data: bytes) -> None:
        if self._file is None:
            raise SinkError(f"{self.name} is not open", retriable=False)
        if self.gzip:
            packer = zlib.compressobj(self.gzip_level, zlib.DEFLATED, 31)  # 31: gzip container
            data = packer.compress(data) + packer.flush()
        if self.max_bytes and self._size > 0 and self._size + len(data) > self.max_bytes:
            self._rotate()
        file = self._file
        start = self._size
        try:
            file.write(data)
            file.flush()
        except OSError as exc:
            # never leave half a batch behind: a retry appends the whole batch again
            try:
                file.seek(start)
                file.truncate(start)
            except OSError:
                pass
            raise _sink_error(f"cannot write {self.path}", exc) from None
        self._size = start + len(data)

    def _rotate(self) -> None:
        assert self._file is not None
        stem, ext = _split_name(self.path.name)
        target = self.path.with_name(f"{stem}.{self._next_index}{ext}")
        while target.exists():  # another writer used the number: never overwrite
            self._next_index += 1
            target = self.path.with_name(f"{stem}.{self._next_index}{ext}")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.rename(self.path, target)
            _fsync_dir(self.path.parent)
            self._file = open(self.path, "ab")  # noqa: SIM115
        except OSError as exc:
            raise _sink_error(f"cannot rotate {self.path}", exc) from None
        self._next_index += 1
        self._size = 0

    def _close(self) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        try:
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()


def _split_name(name: str) -> tuple[str, str]:
    """``events.jsonl.gz`` → (``events``, ``.jsonl.gz``); ``events`` → (``events``, ``""``)."""
    gz = ".gz" if name.endswith(".gz") else ""
    base = name[: -len(gz)] if gz else name
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        return base, gz
    return stem, f".{ext}{gz}"


def _sink_error(what: str, exc: OSError) -> SinkError:
    return SinkError(f"{what}: {exc.strerror or exc}", retriable=exc.errno not in _NOT_RETRIABLE)
