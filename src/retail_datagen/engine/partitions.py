"""Units of work and how one is computed — the same function on every engine.

A unit is one day of one partition: the network (marketing) or one region (a DC and the stores
it serves, with its online orders). Region units carry state to the region's next day (stock,
sales velocity, pending returns, online orders in flight); network units carry none. Output
and carried state depend only on (configuration, dimensions, disruptions, unit, carried state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.marketing import generate_marketing_day
from retail_datagen.generators.facts.order_lifecycle import settle
from retail_datagen.generators.facts.region_day import RegionCarry, simulate_region_day
from retail_datagen.schema.tables import FACT_ONLINE_ORDERS

__all__ = [
    "GENERATED_TABLES",
    "NETWORK",
    "RegionCarry",
    "Unit",
    "UnitResult",
    "canonical_units",
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


@dataclass(frozen=True)
class UnitResult:
    unit: Unit
    tables: Mapping[str, pa.Table]
    carry: RegionCarry | None  # region units: the state after the day
    spooled: Mapping[str, str] = field(default_factory=dict)  # table -> IPC file (workers)


def canonical_units(days: list[date], n_regions: int) -> list[Unit]:
    """The order results are written in: day by day, the network first, then regions."""
    return [Unit(d, p) for d in days for p in (NETWORK, *range(n_regions))]


def run_unit(ctx: FactContext, unit: Unit, carry: RegionCarry | None) -> UnitResult:
    if unit.partition == NETWORK:
        return UnitResult(
            unit, {"fact_marketing": generate_marketing_day(ctx, unit.day).table}, None
        )
    tables, after = simulate_region_day(ctx, unit.partition, unit.day, carry)
    placed = tables.get("fact_online_orders", FACT_ONLINE_ORDERS.arrow_schema.empty_table())
    # an order is written on the day it becomes final; until then the region carries it
    done, after.in_flight = settle(carry.in_flight if carry else None, placed, unit.day)
    return UnitResult(unit, {**tables, "fact_online_orders": done}, after)
