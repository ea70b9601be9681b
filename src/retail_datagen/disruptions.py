"""Supply-chain disruptions: what they are, where they are kept, which are active (SPEC §7).

A disruption names a kind, a target and a time window. It is created through the CLI, the API
or the UI and kept in ``<data>/disruptions.json`` (written atomically). The simulation reads them
with :func:`load_disruptions` / :func:`active_on` to change the generated data while they are
active (delays, shortages, stockouts); the streamer shows the active ones in its statistics.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.storage.atomic import atomic_write_text
from retail_datagen.storage.duckdb_store import open_store, table_exists
from retail_datagen.storage.layout import DISRUPTIONS_FILE, DataLayout
from retail_datagen.storage.sql import fetch_one, ident

__all__ = [
    "ALLOWED_TARGETS",
    "DISRUPTIONS_FILE",
    "Disruption",
    "DisruptionKind",
    "DisruptionService",
    "TargetType",
    "active_on",
    "check_target",
    "load_disruptions",
]


DisruptionKind = Literal[
    "dc_outage", "inventory_shortage", "truck_breakdown", "weather_delay", "supplier_delay"
]
TargetType = Literal["dc", "store", "product", "truck", "network"]

# which targets make sense for each kind
ALLOWED_TARGETS: dict[str, tuple[str, ...]] = {
    "dc_outage": ("dc",),
    "inventory_shortage": ("product", "store", "dc"),
    "truck_breakdown": ("truck", "dc"),
    "weather_delay": ("store", "dc", "network"),
    "supplier_delay": ("dc", "product", "network"),
}


# the dimension that holds each kind of target (its primary key is ID)
TARGET_TABLES: dict[str, str] = {
    "dc": "dim_distribution_centers",
    "store": "dim_stores",
    "truck": "dim_trucks",
    "product": "dim_products",
}


def _new_id() -> str:
    return f"dsr-{uuid.uuid4().hex[:12]}"


class Disruption(BaseModel):
    """One disruption of the simulated supply chain during ``[start, end)`` (local time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=_new_id, min_length=1, max_length=64)
    kind: DisruptionKind
    target_type: TargetType
    target_id: int | None = Field(None, ge=1, description="required unless target_type=network")
    start: datetime
    end: datetime
    severity: float = Field(0.5, ge=0.0, le=1.0, description="0 = none … 1 = total")
    note: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("start and end are local simulated times without a time zone")
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )
        allowed = ALLOWED_TARGETS[self.kind]
        if self.target_type not in allowed:
            raise ValueError(
                f"a {self.kind} cannot target a {self.target_type}; allowed: {', '.join(allowed)}"
            )
        if self.target_type == "network":
            if self.target_id is not None:
                raise ValueError("a network-wide disruption takes no target_id")
        elif self.target_id is None:
            raise ValueError(f"target_id is required for target_type {self.target_type}")
        return self

    def overlaps(self, begin: datetime, end: datetime) -> bool:
        """True when the disruption is active at some moment of ``[begin, end)``."""
        return self.start < end and begin < self.end

    def active_at(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def target(self) -> str:
        return (
            "network" if self.target_type == "network" else f"{self.target_type}-{self.target_id}"
        )


def active_on(disruptions: Iterable[Disruption], day: date) -> list[Disruption]:
    """The disruptions active at some moment of ``day`` (pure; what the simulation asks)."""
    begin = datetime.combine(day, time.min)
    end = begin + timedelta(days=1)
    return [d for d in disruptions if d.overlaps(begin, end)]


def check_target(data_dir: str | Path, target_type: str, target_id: int | None) -> None:
    """Refuse a DC, store, truck or product that the folder's dimensions do not have.

    Checked only once the dimensions exist (before that any id may be planned ahead). The CLI
    and the API both reach it through :meth:`DisruptionService.create`.
    """
    table = TARGET_TABLES.get(target_type)
    layout = DataLayout.of(data_dir)
    if table is None or target_id is None or not layout.duckdb_path.exists():
        return
    with open_store(layout.root) as con:
        if not table_exists(con, table):
            return
        row = fetch_one(
            con,
            f"SELECT count(*) FILTER (WHERE ID = ?), min(ID), max(ID) FROM {ident(table)}",
            [target_id],
        )
    if row is None or row[0]:
        return
    known = f"the ids run from {row[1]} to {row[2]}" if row[1] is not None else "there are none"
    raise UserError(
        f"there is no {target_type} {target_id} in {layout.root} ({known}); pick an existing one"
    )


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts)


def _read(path: Path) -> list[Disruption]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        raw = json.loads(text)
        items = raw["disruptions"] if isinstance(raw, dict) else raw
        return [Disruption.model_validate(item) for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        reason = _validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        raise DataStateError(f"{path} is damaged ({reason}); fix or delete it") from None


def load_disruptions(data_dir: str | Path) -> list[Disruption]:
    """Every stored disruption of the data folder (none when the file does not exist)."""
    return _read(DataLayout.of(data_dir).disruptions_path)


class DisruptionService:
    """Create, list and delete the disruptions of one data folder (thread-safe in-process)."""

    _lock = threading.Lock()

    def __init__(self, data_dir: str | Path) -> None:
        self.path = DataLayout.of(data_dir).disruptions_path

    def _save(self, items: list[Disruption]) -> None:
        data = {"disruptions": [d.model_dump(mode="json") for d in items]}
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")

    def create(
        self,
        kind: str,
        target_type: str,
        target_id: int | None,
        start: datetime,
        end: datetime,
        severity: float = 0.5,
        note: str = "",
    ) -> Disruption:
        """Validate and store a new disruption; a bad value is a one-line :class:`UserError`."""
        try:
            disruption = Disruption.model_validate(
                {
                    "kind": kind,
                    "target_type": target_type,
                    "target_id": target_id,
                    "start": start,
                    "end": end,
                    "severity": severity,
                    "note": note,
                }
            )
        except ValidationError as exc:
            raise UserError(f"invalid disruption: {_validation_message(exc)}") from None
        check_target(self.path.parent, disruption.target_type, disruption.target_id)
        with self._lock:
            items = _read(self.path)
            while any(d.id == disruption.id for d in items):  # practically never
                disruption = disruption.model_copy(update={"id": _new_id()})
            items.append(disruption)
            self._save(items)
        return disruption

    def list(self, active_at: datetime | None = None) -> list[Disruption]:
        items = _read(self.path)
        if active_at is not None:
            items = [d for d in items if d.active_at(active_at)]
        return sorted(items, key=lambda d: (d.start, d.id))

    def get(self, disruption_id: str) -> Disruption:
        for item in _read(self.path):
            if item.id == disruption_id:
                return item
        raise UserError(f"no disruption with id {disruption_id!r}")

    def resolve(self, prefix: str) -> str:
        """The full id that ``prefix`` (an id, or any unique start of one) names."""
        wanted = prefix.strip().rstrip("…")
        ids = [d.id for d in _read(self.path)]
        if wanted in ids:
            return wanted
        matches = [i for i in ids if wanted and i.startswith(wanted)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UserError(
                f"no disruption with id {prefix!r}; `retail-datagen disruptions list` shows them"
            )
        raise UserError(
            f"{prefix!r} matches {len(matches)} disruptions ({', '.join(matches)}); "
            "give more of the id"
        )

    def delete(self, disruption_id: str) -> Disruption:
        """Remove one disruption; an unknown id is a :class:`UserError`."""
        with self._lock:
            items = _read(self.path)
            kept = [d for d in items if d.id != disruption_id]
            if len(kept) == len(items):
                raise UserError(f"no disruption with id {disruption_id!r}")
            self._save(kept)
        return next(d for d in items if d.id == disruption_id)

    def clear(self) -> int:
        """Remove every disruption; returns how many there were."""
        with self._lock:
            count = len(_read(self.path))
            if self.path.exists():
                self._save([])
        return count
