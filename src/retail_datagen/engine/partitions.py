"""Units of work and how one is computed — the same function on every engine.

A unit is one day of one partition: the network (online orders, marketing) or one store. Store
units carry state to the store's next day (pending returns); network units carry none. Output
and carried state depend only on (configuration, dimensions, unit, carried state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.marketing import generate_marketing_day
from retail_datagen.generators.facts.online_orders import generate_online_orders_day
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.store_day import simulate_store_day

__all__ = ["GENERATED_TABLES", "NETWORK", "Unit", "UnitResult", "canonical_units", "run_unit"]

NETWORK = -1  # the partition of network-wide streams

# the fact tables this engine writes
GENERATED_TABLES = (
    "fact_receipts",
    "fact_receipt_lines",
    "fact_payments",
    "fact_promotions",
    "fact_foot_traffic",
    "fact_ble_pings",
    "fact_customer_zone_changes",
    "fact_marketing",
    "fact_online_orders",
    "fact_online_order_lines",
    "fact_store_ops",
)


@dataclass(frozen=True, order=True)
class Unit:
    day: date
    partition: int  # NETWORK or a store index


@dataclass(frozen=True)
class UnitResult:
    unit: Unit
    tables: Mapping[str, pa.Table]
    carry: pa.Table | None  # store units: pending returns after the day
    spooled: Mapping[str, str] = field(default_factory=dict)  # table -> IPC file (workers)


def canonical_units(days: list[date], n_stores: int) -> list[Unit]:
    """The order results are written in: day by day, the network first, then stores by index."""
    return [Unit(d, p) for d in days for p in (NETWORK, *range(n_stores))]


def run_unit(ctx: FactContext, unit: Unit, carry: pa.Table | None) -> UnitResult:
    if unit.partition == NETWORK:
        tables = dict(generate_online_orders_day(ctx, unit.day))
        tables["fact_marketing"] = generate_marketing_day(ctx, unit.day).table
        return UnitResult(unit, tables, None)
    result = simulate_store_day(
        ctx, unit.partition, unit.day, carry if carry is not None else empty_pending()
    )
    return UnitResult(unit, result.tables, result.pending_returns)
