"""The night's replenishment: stores ask their DC, the DC asks its suppliers (fact_reorders).

The levels, delivery days and peaks come from the policy (``stock_policy``); this module applies
them to tonight's stock. Every column of a request draws from its own keyed stream, so adding a
draw elsewhere changes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts.columns import lookup, timestamps, trace_ids
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.generators.facts.logistics import Legs
from retail_datagen.generators.facts.stock_policy import (
    PRIORITIES,
    dc_levels,
    delivery_day,
    peak_lift,
    store_levels,
)
from retail_datagen.rng import stream
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_REORDERS

__all__ = [
    "NIGHT_RUN_S",
    "PRELAUNCH_DAYS",
    "Requests",
    "receiving",
    "reorders_table",
    "stockable",
    "store_requests",
    "supplier_requests",
]

PRELAUNCH_DAYS = 14  # a product is stocked at most this many days before its launch
NIGHT_RUN_S = (10 * 60, 40 * 60)  # requests are raised between 00:10 and 00:40


@dataclass(frozen=True)
class Requests:
    """A night's reorder lines: who asks (store position in the region; 0 for the DC)."""

    node: np.ndarray
    product: np.ndarray
    onhand: np.ndarray  # what the node held when it asked
    rop: np.ndarray
    qty: np.ndarray
    priority: np.ndarray  # index into PRIORITIES
    seconds: np.ndarray


def stockable(ctx: FactContext, day: date) -> np.ndarray:
    """Products launched or launching within PRELAUNCH_DAYS: the only ones replenished."""
    out: np.ndarray = ctx.product_launch <= day.toordinal() + PRELAUNCH_DAYS
    return out


def receiving(ctx: FactContext, stores: np.ndarray, day: date) -> np.ndarray:
    """Stores open today: a closed store orders nothing, so no truck comes to it."""
    return np.array([open_window(ctx, int(s), day) is not None for s in stores.tolist()], bool)


def _priority(onhand: np.ndarray, rop: np.ndarray, launched: np.ndarray) -> np.ndarray:
    """URGENT (0) for an empty launched slot, HIGH (1) at half the reorder point, else NORMAL;
    a pre-launch stocking is never urgent (nobody can buy the product yet)."""
    priority = np.where(onhand == 0, 0, np.where(onhand * 2 <= rop, 1, 2))
    out: np.ndarray = np.where(launched, priority, 2)
    return out


def _night_seconds(ctx: FactContext, column: str, partition: int, day: date, n: int) -> np.ndarray:
    rng = stream(ctx.seed, f"night.{column}", partition, day.toordinal())
    out: np.ndarray = NIGHT_RUN_S[0] + rng.random(n) * (NIGHT_RUN_S[1] - NIGHT_RUN_S[0])
    return out


def store_requests(
    ctx: FactContext,
    region: int,
    partition: int,
    day: date,
    onhand: np.ndarray,
    store_velocity: np.ndarray,
    open_today: np.ndarray,
) -> Requests:
    """What each store of the region open on its delivery day asks its DC for (stores ×
    products on hand)."""
    stores = ctx.supply.region_stores[region]
    review = ctx.supply.store_review[stores]
    shelf = ctx.config.volume.store_initial_inventory_min
    rop, up_to = store_levels(store_velocity * peak_lift(day), review, shelf)
    ordering = open_today & delivery_day(ctx.store_id[stores], review, day)
    node, product = np.nonzero((onhand <= rop) & stockable(ctx, day) & ordering[:, None])
    have, point = onhand[node, product], rop[node, product]
    return Requests(
        node=node,
        product=product,
        onhand=have,
        rop=point,
        qty=(up_to - onhand)[node, product].astype(np.int64),
        priority=_priority(have, point, ctx.launched_mask(day)[product]),
        seconds=_night_seconds(ctx, "store_req_s", partition, day, node.size),
    )


def supplier_requests(
    ctx: FactContext,
    region: int,
    partition: int,
    day: date,
    dc_start: np.ndarray,
    dc_after: np.ndarray,
    dc_velocity: np.ndarray,
    stopped: bool,
) -> Requests:
    """What the DC asks its suppliers for, after tonight's shipments to stores (``dc_after``)."""
    shelf = ctx.config.volume.dc_initial_inventory_min
    dc_rop, dc_up_to = dc_levels(dc_velocity * peak_lift(day), shelf)
    product = np.flatnonzero((dc_after <= dc_rop) & stockable(ctx, day))
    qty = (dc_up_to[product] - dc_after[product]).astype(np.int64)
    if stopped:  # a supplier stop: the DC still asks, nothing is granted
        qty[:] = 0
    empty = (dc_after[product] == 0) & ctx.launched_mask(day)[product]
    return Requests(
        node=np.zeros(product.size, np.int64),
        product=product,
        onhand=dc_start[product],
        rop=dc_rop[product],
        qty=qty,
        priority=np.where(empty, 0, 2),
        seconds=_night_seconds(ctx, "supplier_req_s", partition, day, product.size),
    )


def _first_shipment(legs: Legs, leg_number: np.ndarray, n: int) -> np.ndarray:
    """Per request line: the number of the first shipment carrying it (-1: none)."""
    first_piece = np.full(n, -1, np.int64)
    shipped = np.flatnonzero((leg_number[legs.piece_leg] >= 0) & (legs.piece_qty > 0))
    if shipped.size:
        lines = legs.piece_line[shipped]
        order = np.lexsort((shipped, lines))
        lines, pieces = lines[order], shipped[order]
        first = np.r_[True, lines[1:] != lines[:-1]]
        first_piece[lines[first]] = pieces[first]
    out = np.full(n, -1, np.int64)
    has = first_piece >= 0
    out[has] = leg_number[legs.piece_leg[first_piece[has]]]
    return out


def reorders_table(
    ctx: FactContext,
    day: date,
    partition: int,
    dc_id: int,
    store_id: np.ndarray,
    req: Requests,
    legs: Legs,
    leg_number: np.ndarray,
    ids: pa.Array,
) -> pa.Table:
    """fact_reorders rows (``store_id`` -1: the DC's own); each names the shipment that carries
    (the first part of) it."""
    n = req.product.size
    number = _first_shipment(legs, leg_number, n)
    order = np.lexsort((np.arange(n), req.seconds))
    has = number[order] >= 0
    shipment = ids.take(pa.array(np.maximum(number[order], 0))) if len(ids) else None
    return normalise(
        FACT_REORDERS,
        pa.table(
            {
                "TraceId": trace_ids("fact_reorders", partition, day, n),
                "EventTS": timestamps(day, req.seconds[order]),
                "StoreID": pa.array(store_id[order].astype(np.int32), mask=store_id[order] < 0),
                "DCID": pa.array(np.full(n, dc_id, np.int32)),
                "ProductID": pa.array(ctx.product_id[req.product[order]]),
                "CurrentQuantity": pa.array(req.onhand[order].astype(np.int32)),
                "ReorderPoint": pa.array(req.rop[order].astype(np.int32)),
                "ReorderQuantity": pa.array(req.qty[order].astype(np.int32)),
                "Priority": lookup(PRIORITIES, req.priority[order]),
                "ShipmentId": pa.nulls(n, pa.string())
                if shipment is None
                else pc.if_else(pa.array(has), shipment, pa.scalar(None, pa.string())),
            }
        ),
    )
