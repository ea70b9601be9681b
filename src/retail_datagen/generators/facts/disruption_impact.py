"""What today's supply-chain disruptions do to a region: closed DC, broken trucks, delays, and
stock lost to inventory shortages (booked as DISRUPTION adjustments when the day starts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.inventory import ADJUSTMENT, S_DISRUPTION, LedgerPart

__all__ = [
    "DC_LOSS_TIME_S",
    "STORE_LOSS_TIME_S",
    "Impact",
    "impact",
    "loss_part",
    "shortage_loss",
]

SHORTAGE_PRODUCT_SHARE = 0.05  # of a node's products hit by an inventory shortage
STORE_LOSS_TIME_S = 5.0  # shortages are found when the day starts
DC_LOSS_TIME_S = 45 * 60.0
WEATHER_DELAY_HOURS = 6.0  # at severity 1
SUPPLIER_DELAY_HOURS = 8.0

Shortage = tuple[str, int | None, float]  # (target_type, id, severity)


@dataclass(frozen=True)
class Impact:
    """What today's disruptions do to a region."""

    dc_closed: bool = False
    broken_trucks: frozenset[int] = frozenset()
    delay_to_store: dict[int, float] = field(default_factory=dict)  # store index -> hours
    dc_delay: float = 0.0
    supplier_delay: float = 0.0
    supplier_stopped: bool = False
    shortages: tuple[Shortage, ...] = ()


@dataclass
class _Found:
    dc_closed: bool = False
    broken: set[int] = field(default_factory=set)
    delays: dict[int, float] = field(default_factory=dict)
    dc_delay: float = 0.0
    supplier_delay: float = 0.0
    supplier_stopped: bool = False
    shortages: list[Shortage] = field(default_factory=list)


def impact(ctx: FactContext, region: int, day: date) -> Impact:
    """Every disruption active on ``day`` that touches the region, folded into one Impact."""
    start = datetime.combine(day, datetime.min.time())
    end = datetime.combine(day, datetime.max.time())
    dc_id = int(ctx.dc_id[region])
    store_by_id = {int(ctx.store_id[s]): int(s) for s in ctx.supply.region_stores[region]}
    fleet = ctx.supply.dc_fleet[region].truck_id
    found = _Found()
    for d in ctx.disruptions:
        if d.end < start or d.start > end:
            continue
        kind, target, target_id, severity = d.kind, d.target_type, d.target_id, d.severity
        here = target == "network" or (target == "dc" and target_id == dc_id)
        here = here or (target == "store" and target_id in store_by_id)
        if kind == "dc_outage" and target == "dc" and target_id == dc_id:
            found.dc_closed = True
        elif kind == "truck_breakdown":
            if target == "truck" and target_id in set(fleet.tolist()):
                found.broken.add(int(target_id))
            elif here:
                found.broken.update(int(t) for t in fleet[: int(np.ceil(severity * fleet.size))])
        elif kind == "weather_delay" and here:
            hours = severity * WEATHER_DELAY_HOURS
            if target == "store":
                found.delays[store_by_id[int(target_id)]] = hours
            else:
                found.dc_delay = max(found.dc_delay, hours)
        elif kind == "supplier_delay" and (here or target == "product"):
            found.supplier_delay = max(found.supplier_delay, severity * SUPPLIER_DELAY_HOURS)
            found.supplier_stopped = found.supplier_stopped or severity >= 1.0
        elif kind == "inventory_shortage" and (here or target == "product"):
            found.shortages.append((target, target_id, severity))
    return Impact(
        found.dc_closed,
        frozenset(found.broken),
        found.delays,
        found.dc_delay,
        found.supplier_delay,
        found.supplier_stopped,
        tuple(found.shortages),
    )


def shortage_loss(
    ctx: FactContext,
    impact: Impact,
    node: str,
    node_id: int,
    onhand: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Units lost at the start of the day to inventory-shortage disruptions (≤ on hand)."""
    loss = np.zeros(onhand.size, np.int64)
    for target, target_id, severity in impact.shortages:
        if target == "product" and target_id is not None:
            hit = ctx.product_id == target_id
        elif target in ("network", node) and (target == "network" or target_id == node_id):
            hit = rng.random(onhand.size) < SHORTAGE_PRODUCT_SHARE
        else:
            continue
        loss = np.maximum(loss, np.where(hit, np.floor(onhand * severity), 0).astype(np.int64))
    lost: np.ndarray = np.minimum(loss, onhand)
    return lost


def loss_part(loss: np.ndarray, seconds: float) -> LedgerPart:
    """Units lost to an inventory-shortage disruption, as ADJUSTMENT rows (zeros dropped)."""
    n = loss.size
    return LedgerPart(
        np.full(n, seconds), np.arange(n), -loss, ADJUSTMENT, S_DISRUPTION, pa.nulls(n, pa.string())
    )
