"""Progress with a fake clock: the ETA waits for a warm-up, ignores start-up time, settles near
the truth and does not swing; updates say which days are done and the rows per second."""

from __future__ import annotations

import itertools

from retail_datagen.engine.progress import ProgressTracker, ProgressUpdate, RateEstimator


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _run(
    clock: FakeClock,
    estimator: RateEstimator,
    deliveries: list[tuple[float, int]],
    total: int,
) -> list[tuple[float, float | None]]:
    """Feed ``(seconds since the previous, units)`` deliveries; return (true remaining, ETA)."""
    done = 0
    elapsed_end = sum(gap for gap, _ in deliveries)
    elapsed = 0.0
    out: list[tuple[float, float | None]] = []
    for gap, units in deliveries:
        clock.advance(gap)
        elapsed += gap
        done += units
        estimator.observe(done / total, rows=done * 1000)
        out.append((elapsed_end - elapsed, estimator.eta))
    return out


def test_no_eta_during_the_warm_up() -> None:
    clock = FakeClock()
    rates = RateEstimator(clock, warmup_seconds=3.0, warmup_fraction=0.01)
    rates.observe(0.0)
    clock.advance(2.0)
    rates.observe(0.5)
    assert rates.eta is None and rates.rows_per_second is None
    clock.advance(1.5)
    rates.observe(0.6)
    assert rates.eta is not None


def test_start_up_time_does_not_inflate_the_eta() -> None:
    """20 s of start-up (dimensions, workers), then one unit a second for 100 units."""
    clock = FakeClock()
    rates = RateEstimator(clock)
    clock.advance(20.0)  # nothing observed during start-up
    results = _run(clock, rates, [(1.0, 1)] * 100, total=100)
    after_warm_up = [(truth, eta) for truth, eta in results if eta is not None]
    assert results[5][1] is not None  # a few seconds in, there is an ETA
    for truth, eta in after_warm_up:
        assert eta is not None
        assert abs(eta - truth) <= max(2.0, 0.15 * truth), (truth, eta)


def test_bursty_results_give_an_eta_that_settles_and_does_not_swing() -> None:
    """Units arrive in bursts (6 units of a day together, then a pause), as the engine
    delivers them; the old rolling window swung between far too long and far too short."""
    clock = FakeClock()
    rates = RateEstimator(clock)
    day = [(0.05, 1)] * 5 + [(5.75, 1)]  # 6 units per 6 s
    results = _run(clock, rates, day * 40, total=240)  # 240 s in all
    etas = [(truth, eta) for truth, eta in results if eta is not None]
    assert etas[0][0] > 200  # an ETA early on
    settled = [(truth, eta) for truth, eta in etas if truth < 200]
    for truth, eta in settled:
        assert eta is not None
        assert abs(eta - truth) <= 0.2 * truth + 6.0, (truth, eta)
    # from one update to the next, the shown ETA never jumps by more than the elapsed time
    # plus a small correction: no 08:54 → 01:38 swings
    for (t1, e1), (t2, e2) in itertools.pairwise(settled):
        assert e1 is not None and e2 is not None
        assert abs((e1 - e2) - (t1 - t2)) <= 0.1 * e1 + 6.0, (e1, e2)


def test_eta_counts_down_between_updates_and_is_zero_when_done() -> None:
    clock = FakeClock()
    rates = RateEstimator(clock)
    _run(clock, rates, [(1.0, 1)] * 10, total=20)
    first = rates.eta
    clock.advance(4.0)
    assert first is not None and rates.eta == first - 4.0
    clock.advance(1.0)
    rates.observe(1.0)
    assert rates.eta == 0.0


def test_rows_per_second_is_measured_after_the_warm_up() -> None:
    clock = FakeClock()
    rates = RateEstimator(clock)
    _run(clock, rates, [(0.5, 1)] * 20, total=40)  # 1,000 rows per unit, 2 units/s
    assert rates.rows_per_second is not None
    assert 1900 <= rates.rows_per_second <= 2100


def test_tracker_updates_carry_days_rows_per_second_and_a_throttle() -> None:
    clock = FakeClock()
    seen: list[ProgressUpdate] = []
    tracker = ProgressTracker(seen.append, tables_total=16, clock=clock)
    for unit in range(1, 61):  # 10 days of 6 units, one unit every 0.25 s
        clock.advance(0.25)
        tracker.update(
            unit / 60,
            tables_complete=16 if unit == 60 else 0,
            rows_written=unit * 10_000,
            days_complete=unit // 6,
            days_total=10,
        )
    last = seen[-1]
    assert last.percent == 100.0 and last.counter == "10/10 days complete"
    assert last.table_counter == "16/16 tables complete"
    assert last.to_dict()["counter"] == "10/10 days complete"
    middle = next(u for u in seen if u.days_complete == 5)
    assert middle.counter == "5/10 days complete"
    assert middle.rows_per_second is not None and 35_000 <= middle.rows_per_second <= 45_000
    assert middle.estimated_seconds_remaining is not None
    assert abs(middle.estimated_seconds_remaining - (60 - 30) * 0.25) <= 3.0
    assert len(seen) == 60  # 0.25 s apart: above the 0.1 s throttle, every update is sent


def test_tracker_drops_updates_closer_than_the_interval() -> None:
    clock = FakeClock()
    seen: list[ProgressUpdate] = []
    tracker = ProgressTracker(seen.append, tables_total=3, clock=clock)
    for step in range(1, 11):
        clock.advance(0.02)
        tracker.update(step / 10, tables_complete=step * 3 // 10)
    assert [u.percent for u in seen][-1] == 100.0
    assert len(seen) < 10
    assert seen[0].counter == "0/3 tables complete"  # not a fact run: tables advance
