"""The parts EventStreamer composes, each on its own and on fake clocks (no sleeps): options,
run times, the stream position, the disruption watch, persistence of the position and the day
player's wait for midnight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from retail_datagen.config.models import RealtimeConfig, RetailConfig
from retail_datagen.disruptions import DisruptionService
from retail_datagen.errors import UserError
from retail_datagen.streaming.checkpoint import CheckpointStore
from retail_datagen.streaming.delivery import DeliveryPipeline
from retail_datagen.streaming.disruption_watch import DisruptionWatch
from retail_datagen.streaming.event import Event
from retail_datagen.streaming.options import StreamOptions
from retail_datagen.streaming.pacing import ManualClock, RatePacer, RealTimePacer
from retail_datagen.streaming.persistence import StreamPersistence
from retail_datagen.streaming.player import DayPlayer
from retail_datagen.streaming.position import Mark, StreamPosition
from retail_datagen.streaming.sinks import open_sink
from retail_datagen.streaming.timing import RunTimes

DAY = date(2024, 3, 3)
REALTIME = RealtimeConfig()


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _events(n: int, event_type: str = "receipt_created") -> list[Event]:
    return [
        Event(
            event_type,
            f"T{i}",
            "store-1",
            f'{{"event_type":"{event_type}","trace_id":"T{i}"}}'.encode(),
            datetime(2024, 3, 3, 8, 0, i),
        )
        for i in range(n)
    ]


# ---------------------------------------------------------------- options
def test_options_from_now_is_real_time_at_speed_one_and_excludes_rates() -> None:
    options = StreamOptions.checked(REALTIME, from_now=True)
    assert options.speed == 1.0 and options.mode == "realtime"
    with pytest.raises(UserError, match="--from now streams in real time"):
        StreamOptions.checked(REALTIME, from_now=True, burst=5)
    with pytest.raises(UserError, match="not both"):
        StreamOptions.checked(REALTIME, from_now=True, from_watermark="2024-03-02")


def test_options_check_numbers_and_combinations() -> None:
    assert StreamOptions.checked(REALTIME, rate=float("inf")).mode == "unthrottled"
    assert StreamOptions.checked(REALTIME, rate=10).mode == "rate"
    assert StreamOptions.checked(REALTIME).mode == "burst"
    assert StreamOptions.checked(REALTIME, duration=float("inf")).duration is None
    for kwargs, message in (
        ({"speed": float("nan")}, "speed = nan: must be a positive number"),
        ({"speed": float("inf")}, "use --rate inf"),
        ({"interval_ms": 0}, "interval_ms = 0: must be at least 1"),
        ({"anchor": datetime(2024, 3, 3)}, "an anchor only applies to real-time mode"),
        ({"speed": 2.0, "burst": 3}, "choose one pacing"),
        ({"event_types": ["nope"]}, "unknown event type"),
    ):
        with pytest.raises(UserError, match=message):
            StreamOptions.checked(REALTIME, **kwargs)  # type: ignore[arg-type]


def test_options_make_the_pacer_they_describe() -> None:
    clock = ManualClock()
    anchor = datetime(2024, 3, 3, 12)
    pacer = StreamOptions.checked(REALTIME, speed=60.0).pacer(REALTIME, clock=clock, anchor=anchor)
    assert isinstance(pacer, RealTimePacer) and pacer.sim_now() == anchor
    rate = StreamOptions.checked(REALTIME, rate=50).pacer(REALTIME, clock=clock, anchor=None)
    assert isinstance(rate, RatePacer) and rate.describe()["target_rate"] == 50


# ---------------------------------------------------------------- run times
def test_run_times_count_the_duration_from_when_events_flow() -> None:
    ticks = Ticks()
    times = RunTimes(ticks)
    assert times.seconds() == {"uptime_seconds": 0.0, "wall_seconds": 0.0, "streamed_seconds": 0.0}
    times.begin()
    ticks.t += 2.0  # loading the history and probing the sink
    times.start_delivery()
    ticks.t += 1.0
    times.start_flowing(duration=10.0)
    assert not times.expired() and times.left() == 10.0
    ticks.t += 10.0
    assert times.expired() and times.left() == 0.0
    ticks.t += 0.5
    times.end()
    ticks.t += 100.0  # an ended run's figures stay put
    assert times.seconds() == {
        "uptime_seconds": 11.5,
        "wall_seconds": 13.5,
        "streamed_seconds": 10.5,
    }
    times.begin()
    assert times.left() is None and not times.expired()


# ---------------------------------------------------------------- position
def test_position_moves_over_the_settled_prefix_of_the_current_day_only() -> None:
    position = StreamPosition(recent=3)
    assert position.begin_day(DAY, total=10, skip=4) == 4
    assert position.generated == 6
    events = _events(5)
    position.track(DAY, events[:3], np.array([4, 5, 7]))  # 6 was filtered out
    position.handed_on(events[:3])
    assert position.mark() == Mark(DAY, 4, 10)
    assert position.settle(events[:2], "delivered")
    assert position.mark() == Mark(DAY, 6, 10)
    assert position.settle(events[2:3], "dead_lettered")
    assert position.mark() == Mark(DAY, 8, 10)
    assert not position.settle(events[3:], "delivered")  # never tracked: no position
    assert position.counts() == ({"receipt_created": 4}, {"receipt_created": 1})
    position.track(DAY, events[3:4], np.array([8]))
    position.next_day(date(2024, 3, 4))  # the day was persisted meanwhile
    assert not position.settle(events[3:4], "delivered")  # an old day's event: no move
    assert position.mark() == Mark(date(2024, 3, 4), 0, 0)
    assert [e["trace_id"] for e in position.recent(10)] == ["T1", "T2", "T3"]
    assert position.recent(0) == []


def test_position_progress_reads_lag_against_the_simulated_clock() -> None:
    position = StreamPosition()
    empty = position.progress(None, datetime(2024, 3, 3, 9))
    assert empty["lag_seconds"] is None and empty["current_day"] is None
    position.begin_day(DAY, total=2, skip=0)
    position.handed_on(_events(2))
    progress = position.progress(None, datetime(2024, 3, 3, 9))
    assert progress["last_event_time"] == "2024-03-03T08:00:01"
    assert progress["lag_seconds"] == 3599.0
    assert progress["day_position"] == {"settled": 0, "total": 2}
    ahead = position.progress(datetime(2024, 3, 3, 8, 30), datetime(2024, 3, 3, 9))
    assert ahead["simulated_time"] == "2024-03-03T08:30:00" and ahead["lag_seconds"] == 1800.0


# ---------------------------------------------------------------- disruptions
def test_disruption_watch_sees_changes_and_caches_the_active_ones(tmp_path: Path) -> None:
    service = DisruptionService(tmp_path)
    ticks = Ticks()
    watch = DisruptionWatch(tmp_path, clock=ticks, ttl=1.0)
    assert watch.planned() == [] and not watch.changed()
    window = (datetime(2024, 3, 3), datetime(2024, 3, 4))
    created = service.create("weather_delay", "network", None, *window)
    assert watch.changed()  # the next planned day rebuilds the simulation
    assert watch.planned() == [created] and not watch.changed()
    noon = datetime(2024, 3, 3, 12)
    assert [d["id"] for d in watch.active(noon)] == [created.id]
    assert watch.active(noon)[0]["start"] == "2024-03-03T00:00:00"
    service.clear()
    assert len(watch.active(noon)) == 1  # read at most once per ttl
    ticks.t += 1.0
    assert watch.active(noon) == []
    (tmp_path / "disruptions.json").write_text("{not json", encoding="utf-8")
    ticks.t += 1.0
    assert watch.active(noon) == []  # statistics never fail over a damaged file
    with pytest.raises(Exception, match="damaged"):
        watch.changed()  # but a day is never planned without its disruptions


# ---------------------------------------------------------------- persistence
def test_persistence_checkpoints_the_position_unless_detached(tmp_path: Path) -> None:
    stamp = datetime(2024, 3, 3, 9)
    kept = StreamPersistence(
        tmp_path, seed=1, event_types=("store_opened",), detached=False, now=lambda: stamp
    )
    kept.history = "seed=1;start=2024-03-01;historical_run=-"
    kept.save(Mark(None, 0, 0))  # no day yet: nothing to save
    assert CheckpointStore(tmp_path).load() is None
    kept.save(Mark(DAY, 7, 20))
    checkpoint = CheckpointStore(tmp_path).load()
    assert checkpoint is not None and (checkpoint.day, checkpoint.settled) == (DAY, 7)
    assert checkpoint.updated_at == stamp and checkpoint.event_types == ("store_opened",)
    assert kept.resume_position(DAY) == 7 and kept.resume_position(date(2024, 3, 4)) == 0
    kept.history = "seed=1;start=2024-03-01;historical_run=2024-03-05"  # regenerated
    assert kept.resume_position(DAY) == 0

    detached = StreamPersistence(tmp_path / "d", seed=1, event_types=None, detached=True)
    detached.save(Mark(DAY, 3, 20))
    assert CheckpointStore(tmp_path / "d").load() is None and detached.resume_position(DAY) == 0


# ---------------------------------------------------------------- the day player
async def test_player_waits_for_simulated_midnight_in_real_time_only() -> None:
    clock = ManualClock()
    stopped: list[bool] = [False]
    pacer = RealTimePacer(60.0, anchor=datetime(2024, 3, 3, 23, 0), clock=clock)
    player = _player(pacer, lambda: stopped[0])
    assert await player.wait_day_over(DAY)
    assert clock.t == pytest.approx(60.0)  # one simulated hour at 60x
    assert pacer.sim_now() >= datetime(2024, 3, 4)

    late = RealTimePacer(60.0, anchor=datetime(2024, 3, 3, 23, 0), clock=ManualClock())
    stopped[0] = True
    assert not await _player(late, lambda: stopped[0]).wait_day_over(DAY)
    rate = RatePacer(100.0, ManualClock())
    assert await _player(rate, lambda: False).wait_day_over(DAY)  # no simulated clock


def _player(pacer: RealTimePacer | RatePacer, stopped: Callable[[], bool]) -> DayPlayer:
    config = RetailConfig.from_mapping({})
    sink = open_sink("stdout", config)
    return DayPlayer(
        pacer,
        DeliveryPipeline(sink, config.realtime),  # not started: waiting never sends
        StreamPosition(),
        event_types=None,
        stopped=stopped,
        on_day=lambda: None,
    )
