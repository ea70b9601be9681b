"""Pacing: rates held over minutes (on an injected clock), bursts, and real time with speed."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from retail_datagen.errors import UserError
from retail_datagen.streaming.pacing import (
    BurstPacer,
    ManualClock,
    Pacer,
    RatePacer,
    RealTimePacer,
    UnthrottledPacer,
    make_pacer,
    sim_micros,
)

MANY = np.arange(10_000_000, dtype=np.int64)  # the pacers only look at times in real time


async def _drain(pacer: Pacer, clock: ManualClock, seconds: float, chunk: int = 1024) -> int:
    """Release as much as the pacer allows for ``seconds`` of (manual) time."""
    sent = 0
    end = clock.now() + seconds
    while clock.now() < end:
        sent += await pacer.release(MANY, sent, chunk)
    return sent


@pytest.mark.parametrize("rate", [5.0, 200.0, 1_000.0, 25_000.0])
async def test_rate_is_held_within_two_percent_over_thirty_seconds(rate: float) -> None:
    clock = ManualClock(oversleep=0.0007)  # a busy loop oversleeps every wait
    pacer = RatePacer(rate, clock=clock)
    sent = await _drain(pacer, clock, 30.0)
    assert sent == pytest.approx(rate * 30, rel=0.02)


async def test_rate_recovers_after_a_short_stall_without_a_big_burst() -> None:
    clock = ManualClock()
    pacer = RatePacer(1_000, clock=clock)
    sent = await _drain(pacer, clock, 5.0)
    clock.advance(0.1)  # the sink blocked for 100 ms: the bucket absorbs it
    first = await pacer.release(MANY, sent, 10_000)
    assert first <= 250 + 1  # capacity: 0.25 s of tokens
    sent += first + await _drain(pacer, clock, 4.9)
    assert sent == pytest.approx(10_000, rel=0.02)


async def test_bursts_leave_every_interval() -> None:
    clock = ManualClock()
    pacer = BurstPacer(100, 500, clock=clock)
    released: list[tuple[float, int]] = []
    sent = 0
    while clock.now() < 10.0:
        n = await pacer.release(MANY, sent, 64)
        if n:
            released.append((clock.now(), n))
        sent += n
    released = [(t, n) for t, n in released if t < 9.999]  # 20 ticks: 0.0, 0.5, … 9.5
    assert sum(n for _, n in released) == 100 * 20
    ticks = sorted({round(t, 3) for t, _ in released})
    assert ticks == [round(0.5 * k, 3) for k in range(20)]
    per_tick = {t: sum(n for s, n in released if round(s, 3) == t) for t in ticks}
    assert set(per_tick.values()) == {100}


async def test_real_time_releases_each_event_when_due_at_speed() -> None:
    clock = ManualClock()
    anchor = datetime(2024, 3, 4, 8, 0)
    pacer = RealTimePacer(speed=60.0, anchor=anchor, clock=clock)
    # one event per simulated minute from 08:00:30 → one per wall second at speed 60
    start = sim_micros(anchor) + 30_000_000
    times = np.array([start + k * 60_000_000 for k in range(100)], dtype=np.int64)
    done, released_at = 0, []
    while done < times.size:
        n = await pacer.release(times, done, 10)
        released_at += [clock.now()] * n
        done += n
    expected = 0.5 + np.arange(100)  # wall seconds after start
    assert np.allclose(released_at, expected, atol=1e-6)
    assert pacer.sim_now() >= anchor + timedelta(minutes=99)
    assert pacer.lateness.summary()["max_ms"] < 1.0


async def test_real_time_sends_the_backlog_at_full_speed_first() -> None:
    clock = ManualClock()
    anchor = datetime(2024, 3, 4, 12, 0)
    pacer = RealTimePacer(speed=1.0, anchor=anchor, clock=clock)
    base = sim_micros(anchor)
    backlog = base - np.arange(5_000, 0, -1, dtype=np.int64) * 1_000_000  # the morning
    live = base + np.arange(1, 4, dtype=np.int64) * 1_000_000
    times = np.concatenate([backlog, live])
    first = 0
    while first < backlog.size:
        first += await pacer.release(times, first, 1024)
    assert clock.now() == 0.0  # no waiting for events already due
    assert pacer.lateness.backlog == backlog.size
    while first < times.size:
        first += await pacer.release(times, first, 1024)
    assert clock.now() == pytest.approx(3.0)
    assert pacer.lateness.count == 3


async def test_real_time_waits_for_the_end_of_the_day() -> None:
    clock = ManualClock()
    pacer = RealTimePacer(speed=3600.0, anchor=datetime(2024, 3, 4, 23, 0), clock=clock)
    midnight = sim_micros(datetime(2024, 3, 5))
    while not await pacer.until(midnight):
        pass
    assert clock.now() == pytest.approx(1.0)


async def test_unthrottled_releases_everything_offered() -> None:
    pacer = UnthrottledPacer()
    assert await pacer.release(MANY[:500], 0, 1024) == 500
    assert await pacer.release(MANY[:500], 500, 1024) == 0


def test_pacing_options_are_exclusive_and_default_to_configured_bursts() -> None:
    defaults = {"default_burst": 100, "default_interval_ms": 500}
    pacer = make_pacer(speed=None, rate=None, burst=None, interval_ms=None, **defaults)
    assert isinstance(pacer, BurstPacer) and pacer.burst == 100 and pacer.interval == 0.5
    assert isinstance(
        make_pacer(speed=None, rate=float("inf"), burst=None, interval_ms=None, **defaults),
        UnthrottledPacer,
    )
    with pytest.raises(UserError, match="choose one pacing"):
        make_pacer(speed=2.0, rate=10.0, burst=None, interval_ms=None, **defaults)


async def test_real_clock_rate_never_exceeds_the_target() -> None:
    """On the real clock only the direction a busy machine cannot break is asserted: never
    faster than the rate over the measured time (the ±2 % is proven on the injected clock)."""
    pacer = RatePacer(2_000)
    sent, began = 0, time.monotonic()
    while time.monotonic() - began < 0.5:
        sent += await pacer.release(MANY, sent, 256)
    elapsed = time.monotonic() - began
    assert 0 < sent <= 2_000 * (elapsed + 0.25)  # + the bucket's quarter second of tokens


async def test_real_clock_real_time_never_releases_early() -> None:
    anchor = datetime.now()
    pacer = RealTimePacer(speed=1.0, anchor=anchor)
    base = sim_micros(anchor)
    times = base + np.arange(1, 301, dtype=np.int64) * 3_000  # 300 events over 0.9 s
    began = time.monotonic()
    done = 0
    while done < times.size:
        done += await pacer.release(times, done, 64)
        await asyncio.sleep(0)
    assert time.monotonic() - began >= 0.9 - 0.01  # the last one was due after 0.9 s
    lateness = pacer.lateness  # every release is measured (the p99 bound: injected clock)
    assert lateness.count + lateness.backlog == 300
