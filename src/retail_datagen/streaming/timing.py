"""The wall-clock times of one stream run: when ``start()`` was called, when delivery started,
when events started to flow (``duration`` counts from there, so loading the history never eats
into it), the deadline, and the end."""

from __future__ import annotations

import time
from collections.abc import Callable

from typing_extensions import TypedDict

__all__ = ["RunSeconds", "RunTimes"]


class RunSeconds(TypedDict):
    uptime_seconds: float  # since delivery started
    wall_seconds: float  # since start() was called
    streamed_seconds: float  # since events started to flow: what ``duration`` bounds


class RunTimes:
    """Monotonic times (``clock``) of the current or last run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.began: float | None = None
        self.delivering: float | None = None
        self.flowing: float | None = None
        self.deadline: float | None = None
        self.ended: float | None = None

    def begin(self) -> None:
        self.began, self.delivering, self.flowing, self.deadline = self.clock(), None, None, None
        self.ended = None

    def start_delivery(self) -> None:
        self.delivering = self.clock()

    def start_flowing(self, duration: float | None) -> None:
        self.flowing = self.clock()
        self.deadline = None if duration is None else self.flowing + duration

    def end(self) -> None:
        self.ended = self.clock()

    def expired(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def left(self) -> float | None:
        """Seconds to the deadline (negative past it); None without one."""
        return None if self.deadline is None else self.deadline - self.clock()

    def seconds(self) -> RunSeconds:
        until = self.ended if self.ended is not None else self.clock()

        def since(moment: float | None) -> float:
            return round(until - moment, 3) if moment is not None else 0.0

        return RunSeconds(
            uptime_seconds=since(self.delivering),
            wall_seconds=since(self.began),
            streamed_seconds=since(self.flowing),
        )
