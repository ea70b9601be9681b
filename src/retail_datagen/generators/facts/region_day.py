"""One region's day — a DC and the stores it serves — with real stock (the recipe).

Night (00:10-00:40), the REGION STEP: disruptions are read, every open store asks its DC for what
fell to its reorder point, the DC grants what it has, packs it into truck legs and ships it that
day, and asks its suppliers likewise; the DC's own ledger and online lines follow. Day, one STORE
STEP per store (side by side): shoppers and online orders take stock first come first served, a
shopper who finds a shelf empty buys less or a substitute; deliveries arrive; evening cycle
counts and damage. Everything a node does is written to its ledger with the running balance.

Each phase lives with its fact family (disruption_impact, replenishment, shipping, dc_ledger,
store_stock); every draw comes from its own keyed stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts.baskets import expected_daily_units
from retail_datagen.generators.facts.columns import trace_ids
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.dc_ledger import DCCarry, dc_day
from retail_datagen.generators.facts.disruption_impact import impact
from retail_datagen.generators.facts.inventory import allocate
from retail_datagen.generators.facts.replenishment import (
    receiving,
    reorders_table,
    store_requests,
    supplier_requests,
)
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.shipping import (
    deliveries,
    number_runs,
    store_run,
    supplier_run,
    truck_moves_table,
)
from retail_datagen.generators.facts.store_stock import (
    StoreCarry,
    StoreOrders,
    initial_store_carry,
    store_stock_day,
)
from retail_datagen.schema import TABLES, normalise

__all__ = [
    "DCCarry",
    "RegionCarry",
    "RegionNight",
    "StoreCarry",
    "StoreOrders",
    "initial_dc_carry",
    "join_carry",
    "region_partition",
    "region_step",
    "split_carry",
    "store_step",
]

REGION_PARTITION_BASE = 5000  # row-id partition of a region: 5000 + DC id (stores are ≤ 5000)


def region_partition(ctx: FactContext, region: int) -> int:
    return REGION_PARTITION_BASE + int(ctx.dc_id[region])


@dataclass
class RegionCarry:
    """What a region carries from one day to the next (the persisted form of its DC's and its
    stores' carried state)."""

    store_onhand: np.ndarray  # (stores of the region, products)
    store_velocity: np.ndarray
    dc_onhand: np.ndarray  # (products,)
    dc_velocity: np.ndarray
    pending: dict[int, pa.Table] = field(default_factory=dict)  # store index -> returns
    in_flight: pa.Table | None = None  # online orders not final yet (see order_lifecycle)


def initial_dc_carry(ctx: FactContext, region: int) -> DCCarry:
    velocity = expected_daily_units(ctx, ctx.supply.region_stores[region], ctx.history_start)
    return DCCarry(ctx.supply.dc_initial[region].copy(), velocity.sum(axis=0).astype(np.float32))


def split_carry(
    carry: RegionCarry, stores: np.ndarray, store_ids: np.ndarray
) -> tuple[DCCarry, list[StoreCarry]]:
    """A region's carried state as its DC's and each store's (copies: the parts evolve apart);
    each node carries the orders in flight it fulfils (``store_ids``: the stores' IDs)."""
    flying = carry.in_flight
    node = _order_nodes(flying)
    return DCCarry(
        carry.dc_onhand.copy(), carry.dc_velocity.copy(), _orders_of(flying, node, -1)
    ), [
        StoreCarry(
            carry.store_onhand[k].copy(),
            carry.store_velocity[k].copy(),
            carry.pending.get(int(s), empty_pending()),
            _orders_of(flying, node, int(store_ids[k])),
        )
        for k, s in enumerate(stores.tolist())
    ]


def _order_nodes(orders: pa.Table | None) -> np.ndarray:
    """The fulfilling store's ID of each order (-1: its DC)."""
    if orders is None or not orders.num_rows:
        return np.zeros(0, np.int64)
    is_store = pc.equal(orders["NodeType"].cast(pa.string()), "STORE")
    node = pc.if_else(is_store, orders["NodeID"], -1)
    return np.asarray(node.to_numpy(zero_copy_only=False), np.int64)


def _orders_of(orders: pa.Table | None, node: np.ndarray, store: int) -> pa.Table | None:
    if orders is None or not orders.num_rows:
        return None
    return orders.filter(pa.array(node == (-1 if store < 0 else store)))


def join_carry(dc: DCCarry, stores: np.ndarray, parts: list[StoreCarry]) -> RegionCarry:
    n = dc.onhand.size
    flying = [t for t in (dc.in_flight, *(p.in_flight for p in parts)) if t is not None]
    return RegionCarry(
        store_onhand=np.array([p.onhand for p in parts], np.int32).reshape(len(parts), n),
        store_velocity=np.array([p.velocity for p in parts], np.float32).reshape(len(parts), n),
        dc_onhand=dc.onhand,
        dc_velocity=dc.velocity,
        pending={int(s): p.pending for s, p in zip(stores.tolist(), parts, strict=True)},
        in_flight=pa.concat_tables(flying) if flying else None,
    )


@dataclass(frozen=True)
class RegionNight:
    """The region step's rows, its DC's state after the day, and what each store receives."""

    tables: dict[str, pa.Table]
    dc: DCCarry
    orders: tuple[StoreOrders, ...]  # per store of the region, in region order


def region_step(
    ctx: FactContext,
    region: int,
    day: date,
    dc: DCCarry | None,
    store_onhand: np.ndarray | None,
    store_velocity: np.ndarray | None,
) -> RegionNight:
    """The night: requests, grants, trucks, supplier orders, the DC's day (stores' on hand
    and velocity as of the end of yesterday; None: the snapshot)."""
    stores = ctx.supply.region_stores[region]
    if store_onhand is None or store_velocity is None:
        store_onhand = ctx.supply.store_initial[stores]
        store_velocity = expected_daily_units(ctx, stores, ctx.history_start).astype(np.float32)
    dc = dc if dc is not None else initial_dc_carry(ctx, region)
    partition, dc_id = region_partition(ctx, region), int(ctx.dc_id[region])
    hit = impact(ctx, region, day)
    open_today = receiving(ctx, stores, day)
    req = store_requests(ctx, region, partition, day, store_onhand, store_velocity, open_today)
    granted = allocate(dc.onhand, req.product, req.qty, req.priority * 10_000 + req.node)
    if hit.dc_closed:
        granted[:] = 0
    outbound = store_run(ctx, region, partition, day, req, granted, hit)
    dc_after = dc.onhand.astype(np.int64) - outbound.units(ctx.product_id.size)
    sup_req = supplier_requests(
        ctx, region, partition, day, dc.onhand, dc_after, dc.velocity, hit.supplier_stopped
    )
    inbound = supplier_run(ctx, region, partition, day, sup_req, hit)
    ids, (outbound, inbound) = number_runs(dc_id, day, outbound, inbound)
    tables, dc_after_day = dc_day(ctx, region, partition, day, dc, hit, (outbound, inbound), ids)
    tables["fact_truck_moves"] = truck_moves_table(
        ctx, region, partition, day, ids, [outbound, inbound]
    )
    store_ids = ctx.store_id[stores]
    tables["fact_reorders"] = pa.concat_tables(
        reorders_table(
            ctx, day, partition, dc_id, ids_of, run.requests, run.legs, run.leg_number, ids
        )
        for ids_of, run in (
            (store_ids[outbound.requests.node], outbound),
            (np.full(inbound.requests.product.size, -1), inbound),
        )
    )
    for name in ("fact_truck_moves", "fact_reorders"):  # built in two parts: renumber the ids
        rows = tables[name].num_rows
        column = trace_ids(name, partition, day, rows)
        tables[name] = normalise(TABLES[name], tables[name].set_column(0, "TraceId", column))
    delivered = deliveries(outbound, stores.size, ids)
    orders = tuple(StoreOrders(bool(open_today[k]), delivered[k], hit) for k in range(stores.size))
    return RegionNight(tables, dc_after_day, orders)


def store_step(
    ctx: FactContext, store: int, day: date, carry: StoreCarry | None, orders: StoreOrders
) -> tuple[dict[str, pa.Table], StoreCarry]:
    """One store's day after its region's night (``carry`` None: the snapshot)."""
    carry = carry if carry is not None else initial_store_carry(ctx, store, day)
    return store_stock_day(ctx, store, day, carry, orders)
