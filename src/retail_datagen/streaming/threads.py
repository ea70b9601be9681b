"""Blocking work that a stopping stream may abandon, in daemon threads.

``asyncio.to_thread`` uses the loop's executor, whose threads the interpreter joins at exit: a
stream whose ``--duration`` ran out while the next simulated day was still being planned (or
while a stalled client was closing) would then outlive its duration by that work. Work that
only computes or releases a client can be abandoned instead: :func:`in_daemon_thread` runs it
in a daemon thread, which never holds the process. Never use it for writes that must finish
(persisting a day, a checkpoint).
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
