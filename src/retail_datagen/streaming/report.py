"""The statistics of a stream, as the CLI prints them and the API returns them.

A typed dict: the CLI and the tests read it by key, the API declares it as its response schema,
and mypy checks both ends of that seam.
"""

from __future__ import annotations

from typing import Any

from retail_datagen.streaming.disruption_watch import ActiveDisruption
from retail_datagen.streaming.options import StreamMode
from retail_datagen.streaming.position import SimulationProgress
from retail_datagen.streaming.stats import DeliveryCounts
from retail_datagen.streaming.timing import RunSeconds

__all__ = ["StreamerStatistics"]


class StreamerStatistics(DeliveryCounts, RunSeconds, SimulationProgress):
    """The sink's counters (``DeliveryCounts``), run times (``RunSeconds``), where the
    simulation is (``SimulationProgress``) and how the stream runs."""

    running: bool
    mode: StreamMode
    pacing: dict[str, Any] | None  # the pacer's own figures (rates, lateness), once started
    event_types: list[str]  # those sent
    circuit_state: str  # CLOSED, OPEN or HALF_OPEN
    watermark: str | None  # the last persisted moment of the history
    days_persisted: int
    unsent: int  # events left unsettled when the stream stopped (sent again next time)
    sink_failing: bool
    active_disruptions: list[ActiveDisruption]
    error: str | None  # why the stream stopped, when it failed
