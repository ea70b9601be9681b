"""Disruption polling: disruptions may be created or removed (API, CLI) while a stream runs.

The simulation must plan each day with the stored disruptions, as a historical run would
(``changed``, every planned day); the statistics show those active at the simulated time, read
at most once per ``ttl`` seconds (``active``), since the UI asks every second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from typing_extensions import TypedDict

from retail_datagen.disruptions import Disruption, load_disruptions

__all__ = ["ActiveDisruption", "DisruptionWatch"]

ACTIVE_TTL = 1.0  # seconds the active disruptions of the statistics are reused


class ActiveDisruption(TypedDict):
    """A disruption as JSON (times are simulated local times without a zone)."""

    id: str
    kind: str
    target_type: str
    target_id: int | None
    start: str
    end: str
    severity: float
    note: str


class DisruptionWatch:
    """The stored disruptions of one data folder, polled."""

    def __init__(
        self, root: Path, *, clock: Callable[[], float] = time.monotonic, ttl: float = ACTIVE_TTL
    ) -> None:
        self.root = root
        self._clock = clock
        self._ttl = ttl
        self._planned: list[Disruption] | None = None  # what the simulation runs with
        self._active: tuple[float, list[ActiveDisruption]] | None = None

    def planned(self) -> list[Disruption]:
        """Read the stored disruptions and remember them as the simulation's."""
        self._planned = list(load_disruptions(self.root))
        return self._planned

    def changed(self) -> bool:
        """True when the stored disruptions differ from the simulation's (read them again
        with :meth:`planned`). A damaged file raises: a day must not be planned without them."""
        return list(load_disruptions(self.root)) != self._planned

    def active(self, moment: datetime) -> list[ActiveDisruption]:
        """Those active at ``moment``, as JSON; none when the file cannot be read."""
        now = self._clock()
        if self._active is not None and now - self._active[0] < self._ttl:
            return self._active[1]
        try:
            items = load_disruptions(self.root)
        except Exception:  # statistics never fail over a damaged file; planning reports it
            items = []
        active = [_json(d) for d in items if d.active_at(moment)]
        self._active = (now, active)
        return active


def _json(disruption: Disruption) -> ActiveDisruption:
    return ActiveDisruption(
        id=disruption.id,
        kind=disruption.kind,
        target_type=disruption.target_type,
        target_id=disruption.target_id,
        start=disruption.start.isoformat(),
        end=disruption.end.isoformat(),
        severity=disruption.severity,
        note=disruption.note,
    )
