"""What a stream was asked to do — destination, filter, pacing, duration, start point — checked
once, when the streamer is made, so a bad combination fails before anything is loaded."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from retail_datagen.config.models import RealtimeConfig
from retail_datagen.errors import UserError
from retail_datagen.streaming.events import check_event_types
from retail_datagen.streaming.pacing import Clock, Pacer, make_pacer

__all__ = ["StreamMode", "StreamOptions"]

StreamMode = Literal["realtime", "rate", "unthrottled", "burst"]


@dataclass(frozen=True)
class StreamOptions:
    """See :class:`~retail_datagen.streaming.event_streamer.EventStreamer` for the meanings."""

    sink: str = "stdout"
    event_types: tuple[str, ...] | None = None
    speed: float | None = None
    rate: float | None = None
    burst: int | None = None
    interval_ms: int | None = None
    duration: float | None = None  # None: until stopped (an infinite duration is None)
    from_watermark: datetime | date | str | None = None
    from_now: bool = False
    anchor: datetime | None = None

    @classmethod
    def checked(
        cls,
        realtime: RealtimeConfig,
        *,
        sink: str = "stdout",
        event_types: Sequence[str] | None = None,
        speed: float | None = None,
        rate: float | None = None,
        burst: int | None = None,
        interval_ms: int | None = None,
        duration: float | None = None,
        from_watermark: datetime | date | str | None = None,
        from_now: bool = False,
        anchor: datetime | None = None,
    ) -> StreamOptions:
        """The options, or a one-line ``UserError`` naming what is wrong."""
        types = check_event_types(event_types)
        _check_numbers(speed, rate, duration, burst, interval_ms)
        if duration is not None and math.isinf(duration):
            duration = None
        if from_now:
            if rate is not None or burst is not None or interval_ms is not None:
                raise UserError(
                    "--from now streams in real time: use --speed (default 1), not --rate, "
                    "--burst or --interval-ms"
                )
            if from_watermark is not None:
                raise UserError("--from is either now or the stored watermark, not both")
            speed = 1.0 if speed is None else speed
        if anchor is not None and speed is None:
            raise UserError("an anchor only applies to real-time mode (give a speed)")
        options = cls(
            sink, types, speed, rate, burst, interval_ms, duration, from_watermark, from_now, anchor
        )
        options.pacer(realtime, anchor=None)  # validate the combination now, not when starting
        return options

    @property
    def mode(self) -> StreamMode:
        if self.speed is not None:
            return "realtime"
        if self.rate is not None:
            return "unthrottled" if math.isinf(self.rate) else "rate"
        return "burst"

    def pacer(
        self, realtime: RealtimeConfig, *, clock: Clock | None = None, anchor: datetime | None
    ) -> Pacer:
        """The pacer these options ask for (``anchor``: the simulated time at the start)."""
        return make_pacer(
            speed=self.speed,
            rate=self.rate,
            burst=self.burst,
            interval_ms=self.interval_ms,
            default_burst=realtime.burst,
            default_interval_ms=realtime.emit_interval_ms,
            clock=clock,
            anchor=anchor,
        )


def _check_numbers(
    speed: float | None,
    rate: float | None,
    duration: float | None,
    burst: int | None,
    interval_ms: int | None,
) -> None:
    for name, value in (("speed", speed), ("rate", rate), ("duration", duration)):
        if value is not None and not (value > 0 and not math.isnan(value)):
            raise UserError(f"{name} = {value}: must be a positive number")
    if speed is not None and math.isinf(speed):
        raise UserError("speed = inf: use --rate inf to send as fast as possible")
    for name, ivalue in (("burst", burst), ("interval_ms", interval_ms)):
        if ivalue is not None and ivalue < 1:
            raise UserError(f"{name} = {ivalue}: must be at least 1")
