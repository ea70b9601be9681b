"""Blocking work that a stopping stream may abandon, in daemon threads.

``asyncio.to_thread`` uses the loop's executor, whose threads the interpreter joins at exit: a
sink probe that already failed would then hold the process until its blocking call times out.
:func:`in_daemon_thread` runs such a call in a daemon thread, which never holds the process.
Only for calls into plain C clients (librdkafka's metadata request) that may be abandoned:
never for writes that must finish, and never for C++ libraries (DuckDB, Arrow) — a daemon
thread stopped inside them at exit aborts the interpreter.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["in_daemon_thread"]

T = TypeVar("T")


def in_daemon_thread(fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """Run ``fn(*args)`` in a new daemon thread; the future resolves on the running loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled: nobody waits any more
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = fn(*args), None
        except BaseException as exc:  # handed to the awaiting task
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: the work was abandoned
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(
        target=run, name=f"stream-{getattr(fn, '__name__', 'work')}", daemon=True
    ).start()
    return future
