"""``stdout``: one JSON envelope per line, for piping into other tools (``| jq``, ``| kcat``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import BinaryIO

from retail_datagen.streaming.event import Event
from retail_datagen.streaming.sinks.base import SinkError

__all__ = ["StdoutSink"]


class StdoutSink:
    """Writes each batch as JSON Lines to standard output (or ``stream``) and flushes it."""

    name = "stdout"

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream

    async def open(self) -> None:
        if self._stream is None:
            self._stream = sys.stdout.buffer

    async def send(self, batch: Sequence[Event]) -> None:
        if not batch:
            return
        stream = self._stream or sys.stdout.buffer
        try:
            stream.write(b"\n".join([e.body for e in batch]) + b"\n")
            stream.flush()
        except BrokenPipeError:
            raise SinkError("stdout was closed by the reader", retriable=False) from None
        except OSError as exc:
            raise SinkError(f"cannot write to stdout: {exc.strerror or exc}") from None

    async def close(self) -> None:
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.flush()
