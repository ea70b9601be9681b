"""When events may leave: real time on a simulated clock, a target rate, or bursts (SPEC §7).

A pacer answers one question, over and over: "of the next events (their simulated times in
microseconds), how many may go now?". It sleeps at most ``max_sleep`` seconds per call and may
answer 0, so the caller can notice a stop request promptly without cancelling anything.

Every pacer reads time from a :class:`Clock`; tests inject :class:`ManualClock` (sleeping
advances it instantly) so pacing behaviour over minutes is checked in milliseconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

__all__ = [
    "BurstPacer",
    "Clock",
    "Lateness",
    "ManualClock",
    "MonotonicClock",
    "Pacer",
    "RatePacer",
    "RealTimePacer",
    "UnthrottledPacer",
    "make_pacer",
    "sim_micros",
]

_EPOCH = datetime(1970, 1, 1)
MAX_SLEEP = 0.2  # seconds: the longest a pacer blocks before answering (stop latency)
_MIN_SLEEP = 0.0002  # shorter waits only spin the event loop
_ONE = 1.0 - 1e-9  # a token, allowing for float rounding in the refill


def sim_micros(moment: datetime) -> int:
    """Naive local datetime → microseconds since the epoch (the events' time axis)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass
class ManualClock:
    """A clock that only moves when slept on (plus an optional oversleep per sleep, to mimic a
    busy event loop) — for fast, exact tests of pacing."""

    t: float = 0.0
    oversleep: float = 0.0
    sleeps: int = 0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += max(0.0, seconds) + self.oversleep
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Lateness:
    """How late released events left compared with when they were due (seconds), over the most
    recent ``window`` events; catch-up events (the backlog, sent at full speed before pacing
    first has to wait) are only counted."""

    window: int = 200_000
    samples: deque[float] = field(default_factory=deque)
    count: int = 0
    backlog: int = 0
    worst: float = 0.0

    def __post_init__(self) -> None:
        self.samples = deque(maxlen=self.window)

    def add(self, values: np.ndarray) -> None:
        if values.size:
            self.samples.extend(values.tolist())
            self.count += int(values.size)
            self.worst = max(self.worst, float(values.max()))

    def percentile(self, q: float) -> float | None:
        if not self.samples:
            return None
        return float(np.percentile(np.fromiter(self.samples, float), q))

    def summary(self) -> dict[str, Any]:
        p50, p99 = self.percentile(50), self.percentile(99)
        return {
            "events": self.count,
            "backlog_events": self.backlog,
            "p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "p99_ms": None if p99 is None else round(p99 * 1000, 3),
            "max_ms": round(self.worst * 1000, 3),
        }


class Pacer:
    """Base: subclasses implement :meth:`release`."""

    mode = "base"

    def __init__(self, clock: Clock | None = None, max_sleep: float = MAX_SLEEP) -> None:
        self.clock: Clock = clock or MonotonicClock()
        self.max_sleep = max_sleep
        self.lateness = Lateness()
        self.released = 0
        self.started = self.clock.now()

    async def release(self, times_us: np.ndarray, start: int, limit: int) -> int:
        """How many events from ``start`` (at most ``limit``) may leave now; may be 0."""
        raise NotImplementedError

    async def until(self, sim_us: int) -> bool:
        """Wait (at most ``max_sleep``) for the simulated clock to reach ``sim_us``; True when it
        has. Only real time has a simulated clock; the rate modes are there at once."""
        return True

    def sim_now(self) -> datetime | None:
        """The simulated clock (real-time mode), else None."""
        return None

    def describe(self) -> dict[str, Any]:
        elapsed = max(self.clock.now() - self.started, 1e-9)
        return {
            "mode": self.mode,
            "released": self.released,
            "release_rate": round(self.released / elapsed, 3),
            "lateness": self.lateness.summary(),
        }


class UnthrottledPacer(Pacer):
    """As fast as the delivery pipeline accepts them (it applies backpressure)."""

    mode = "unthrottled"

    async def release(self, times_us: np.ndarray, start: int, limit: int) -> int:
        await asyncio.sleep(0)
        n = max(0, min(limit, times_us.size - start))
        self.released += n
        return n


class RatePacer(Pacer):
    """A target of ``rate`` events per second: a token bucket on a monotonic clock.

    Tokens accrue with elapsed time (not per wake-up), so oversleeping does not lower the rate;
    the bucket holds at most ``capacity_seconds`` of tokens, so a stalled sink is not followed by
    an unbounded burst.
    """

    mode = "rate"

    def __init__(
        self,
        rate: float,
        clock: Clock | None = None,
        capacity_seconds: float = 0.25,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"rate = {rate}: must be a positive, finite number of events/s")
        super().__init__(clock, max_sleep)
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate * capacity_seconds)
        self.tokens = 1.0
        self._last = self.started

    def _refill(self) -> None:
        now = self.clock.now()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now

    async def release(self, times_us: np.ndarray, start: int, limit: int) -> int:
        remaining = min(limit, times_us.size - start)
        if remaining <= 0:
            return 0
        self._refill()
        if self.tokens < _ONE:
            wait = max((1.0 - self.tokens) / self.rate, _MIN_SLEEP)
            await self.clock.sleep(min(wait, self.max_sleep))
            self._refill()
            if self.tokens < _ONE:
                return 0
        n = max(1, min(int(self.tokens + 1e-9), remaining))
        self.tokens -= n
        self.released += n
        return n

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "target_rate": self.rate}


class BurstPacer(Pacer):
    """``burst`` events every ``interval_ms`` (the ``realtime.burst`` / ``emit_interval_ms`` of
    the configuration). Lateness is measured against each tick."""

    mode = "burst"

    def __init__(
        self,
        burst: int,
        interval_ms: int,
        clock: Clock | None = None,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        if burst < 1 or interval_ms < 1:
            raise ValueError("burst and interval_ms must be at least 1")
        super().__init__(clock, max_sleep)
        self.burst = burst
        self.interval = interval_ms / 1000.0
        self.next_tick = self.started
        self.budget = 0
        self.tick_time = self.started

    async def release(self, times_us: np.ndarray, start: int, limit: int) -> int:
        remaining = min(limit, times_us.size - start)
        if remaining <= 0:
            return 0
        if self.budget <= 0:
            now = self.clock.now()
            if now < self.next_tick:
                await self.clock.sleep(min(self.next_tick - now, self.max_sleep))
                now = self.clock.now()
                if now < self.next_tick:
                    return 0
            self.budget = self.burst
            self.tick_time = self.next_tick
            # ticks missed while the consumer was busy are skipped, not caught up in one burst
            self.next_tick = max(self.next_tick + self.interval, now)
        n = min(self.budget, remaining)
        self.budget -= n
        self.released += n
        self.lateness.add(np.full(n, max(0.0, self.clock.now() - self.tick_time)))
        return n

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "burst": self.burst,
            "interval_ms": self.interval * 1000,
            "target_rate": self.burst / self.interval,
        }


class RealTimePacer(Pacer):
    """Events leave when their time comes due on a simulated clock running ``speed`` times as
    fast as the wall clock from ``anchor`` (default: local now):
    ``sim = anchor + (now - start) * speed``. Events already due — the backlog between the
    watermark and now — leave at full speed first."""

    mode = "realtime"

    def __init__(
        self,
        speed: float = 1.0,
        anchor: datetime | None = None,
        clock: Clock | None = None,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        if not speed > 0 or math.isinf(speed):
            raise ValueError(f"speed = {speed}: must be a positive, finite factor")
        super().__init__(clock, max_sleep)
        self.speed = float(speed)
        self.anchor = anchor or datetime.now()
        self.anchor_us = sim_micros(self.anchor)
        self.caught_up = False

    def sim_now_us(self) -> int:
        return self.anchor_us + int((self.clock.now() - self.started) * self.speed * 1e6)

    def sim_now(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.sim_now_us())

    def due(self, sim_us: np.ndarray | int) -> np.ndarray | float:
        """Monotonic time at which simulated time ``sim_us`` comes due."""
        return self.started + (np.asarray(sim_us, dtype=np.float64) - self.anchor_us) / (
            self.speed * 1e6
        )

    async def release(self, times_us: np.ndarray, start: int, limit: int) -> int:
        if start >= times_us.size or limit <= 0:
            return 0
        wait = float(self.due(int(times_us[start]))) - self.clock.now()
        if wait > 0:
            self.caught_up = True  # ahead of the clock: from now on lateness is real lateness
            await self.clock.sleep(min(wait, self.max_sleep))
            if float(self.due(int(times_us[start]))) > self.clock.now():
                return 0
        now_us = self.sim_now_us()
        stop = int(np.searchsorted(times_us, now_us, side="right"))
        n = max(1, min(limit, stop - start))
        self.released += n
        times = times_us[start : start + n]
        # catch-up: events due before the start, and everything released before the pacer
        # first had to wait (they were due while the backlog was still being sent)
        live = times > self.anchor_us if self.caught_up else np.zeros(n, dtype=bool)
        self.lateness.backlog += int(n - live.sum())
        if live.any():
            late = self.clock.now() - np.asarray(self.due(times[live]), dtype=np.float64)
            self.lateness.add(np.maximum(late, 0.0))
        return n

    async def until(self, sim_us: int) -> bool:
        wait = float(self.due(sim_us)) - self.clock.now()
        if wait <= 0:
            return True
        await self.clock.sleep(min(wait, self.max_sleep))
        return float(self.due(sim_us)) <= self.clock.now()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "speed": self.speed, "anchor": self.anchor.isoformat()}


def make_pacer(
    *,
    speed: float | None,
    rate: float | None,
    burst: int | None,
    interval_ms: int | None,
    default_burst: int,
    default_interval_ms: int,
    clock: Clock | None = None,
    anchor: datetime | None = None,
) -> Pacer:
    """The pacer the options ask for: ``speed`` → real time; ``rate`` → token bucket
    (``inf`` → unthrottled); ``burst``/``interval_ms`` or nothing → bursts from the config."""
    chosen = [
        name
        for name, given in (
            ("speed", speed is not None),
            ("rate", rate is not None),
            ("burst/interval", burst is not None or interval_ms is not None),
        )
        if given
    ]
    if len(chosen) > 1:
        from retail_datagen.errors import UserError

        raise UserError(f"choose one pacing: {' or '.join(chosen)} were both given")
    if speed is not None:
        return RealTimePacer(speed, anchor=anchor, clock=clock)
    if rate is not None:
        return UnthrottledPacer(clock) if math.isinf(rate) else RatePacer(rate, clock)
    return BurstPacer(burst or default_burst, interval_ms or default_interval_ms, clock)
