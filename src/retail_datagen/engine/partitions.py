"""Units of work and how one is computed — the same function on every engine.

A unit is one step of one day: the network's (marketing), a region's night (REGION STEP: its
DC's replenishment, trucks, supplier orders, DC ledger and DC-fulfilled online orders) or one
store's day (STORE STEP: its sales, online picks, ledger, stockouts). The stores of a region run
side by side once their region's night is done. An online order is written on the day it becomes
final; until then the node fulfilling it carries it. Output and carried state depend only on
(configuration, dimensions, disruptions, unit, carried state).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.marketing import generate_marketing_day
from retail_datagen.generators.facts.order_lifecycle import settle
from retail_datagen.generators.facts.region_day import (
    DCCarry,
    RegionCarry,
    StoreCarry,
    StoreOrders,
    region_step,
    store_step,
)
from retail_datagen.schema.tables import FACT_ONLINE_ORDERS

__all__ = [
    "GENERATED_TABLES",
    "NETWORK",
    "RegionCarry",
    "RegionInput",
    "StoreInput",
    "Unit",
    "UnitResult",
    "canonical_units",
    "dependencies",
    "run_unit",
]

NETWORK = -1  # the partition of network-wide streams

# the fact tables this engine writes
GENERATED_TABLES = (
    "fact_receipts",
    "fact_receipt_lines",
    "fact_payments",
    "fact_store_inventory_txn",
    "fact_dc_inventory_txn",
    "fact_truck_moves",
    "fact_foot_traffic",
    "fact_ble_pings",
    "fact_customer_zone_changes",
    "fact_marketing",
    "fact_online_orders",
    "fact_online_order_lines",
    "fact_promotions",
    "fact_stockouts",
    "fact_reorders",
    "fact_store_ops",
)


@dataclass(frozen=True, order=True)
class Unit:
    day: date
    partition: int  # NETWORK or a region (DC index)
    store: int = -1  # a store step: the store index; -1: the region step (or the network)


@dataclass(frozen=True)
class RegionInput:
    """A region step's inputs: its DC's state and its stores' (None: the snapshot)."""

    dc: DCCarry | None
    store_onhand: np.ndarray | None  # (stores of the region, products)
    store_velocity: np.ndarray | None


@dataclass(frozen=True)
class StoreInput:
    """A store step's inputs: its own state (None: the snapshot) and its region's night."""

    carry: StoreCarry | None
    orders: StoreOrders


@dataclass(frozen=True)
class UnitResult:
    unit: Unit
    tables: Mapping[str, pa.Table]
    state: DCCarry | StoreCarry | None = None  # the node's state after the day
    orders: tuple[StoreOrders, ...] = ()  # a region step: what each of its stores receives
    spooled: Mapping[str, str] = field(default_factory=dict)  # table -> IPC file (workers)
    # the persisted state of regions whose day this unit completes (set on delivery)
    carry: Mapping[int, RegionCarry] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # CPU time the unit took to compute (bench/scaling.py)


def canonical_units(days: list[date], region_stores: Sequence[np.ndarray]) -> list[Unit]:
    """The order results are written in: day by day the network, then each region's night
    followed by its stores' days."""
    return [
        unit
        for d in days
        for unit in (
            Unit(d, NETWORK),
            *(
                u
                for r, stores in enumerate(region_stores)
                for u in (Unit(d, r), *(Unit(d, r, int(s)) for s in stores.tolist()))
            ),
        )
    ]


def dependencies(unit: Unit, first_day: date, region_stores: Sequence[np.ndarray]) -> list[Unit]:
    """The units of the same run whose carried state ``unit`` reads.

    A region's night needs its previous night (the DC) and its stores' previous days (on hand,
    velocity); a store's day needs its previous day and its region's night of the same day.
    """
    if unit.partition == NETWORK:
        return []
    before = unit.day - timedelta(days=1)
    earlier = unit.day > first_day
    if unit.store < 0:
        if not earlier:
            return []
        stores = region_stores[unit.partition].tolist()
        return [Unit(before, unit.partition), *(Unit(before, unit.partition, s) for s in stores)]
    own = [Unit(before, unit.partition, unit.store)] if earlier else []
    return [Unit(unit.day, unit.partition), *own]


def run_unit(ctx: FactContext, unit: Unit, inputs: RegionInput | StoreInput | None) -> UnitResult:
    began = time.process_time()
    result = _compute(ctx, unit, inputs)
    return dataclasses.replace(result, cpu_seconds=time.process_time() - began)


def _compute(ctx: FactContext, unit: Unit, inputs: RegionInput | StoreInput | None) -> UnitResult:
    if unit.partition == NETWORK:
        return UnitResult(unit, {"fact_marketing": generate_marketing_day(ctx, unit.day).table})
    if isinstance(inputs, StoreInput):
        tables, store = store_step(ctx, unit.store, unit.day, inputs.carry, inputs.orders)
        done, store.in_flight = _settle(inputs.carry, tables, unit.day)
        return UnitResult(unit, {**tables, "fact_online_orders": done}, store)
    given = inputs if inputs is not None else RegionInput(None, None, None)
    night = region_step(
        ctx, unit.partition, unit.day, given.dc, given.store_onhand, given.store_velocity
    )
    done, night.dc.in_flight = _settle(given.dc, night.tables, unit.day)
    return UnitResult(unit, {**night.tables, "fact_online_orders": done}, night.dc, night.orders)


def _settle(
    before: DCCarry | StoreCarry | None, tables: Mapping[str, pa.Table], day: date
) -> tuple[pa.Table, pa.Table]:
    """The node's orders final by the end of ``day`` (written today) and those still in flight
    (carried): an order is written on the day it becomes final."""
    placed = tables.get("fact_online_orders", FACT_ONLINE_ORDERS.arrow_schema.empty_table())
    return settle(before.in_flight if before is not None else None, placed, day)
