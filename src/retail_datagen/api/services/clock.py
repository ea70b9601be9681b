"""The simulated clock the UI offers as the default time of a new disruption.

Simulated time is the stores' local time of the generated data, not the wall clock: a data
folder whose history ends in January 2024 lives in January 2024. A disruption only changes
data that is still to come, so the clock stands at the first moment not generated yet.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from retail_datagen.errors import DataStateError
from retail_datagen.storage.state import GenerationStateManager
from retail_datagen.streaming.checkpoint import CheckpointStore

__all__ = ["simulated_now"]


def _next_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def simulated_now(root: Path, history_start: date) -> datetime:
    """The later of the end of the generated history (to the next whole minute) and the start
    of the day the streamer is on; ``history_start`` (the configuration's first day) before
    anything was generated."""
    moments: list[datetime] = []
    last = GenerationStateManager(root).load().last_generated_timestamp
    if last is not None:
        moments.append(_next_minute(last.replace(tzinfo=None)))
    try:
        checkpoint = CheckpointStore(root).load()
    except DataStateError:
        checkpoint = None  # the streamer reports a damaged position itself
    if checkpoint is not None:
        moments.append(datetime.combine(checkpoint.day, time()))
    return max(moments) if moments else datetime.combine(history_start, time())
