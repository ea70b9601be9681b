"""The DC's day: its ledger (outbound legs, online lines it ships, shortage losses, supplier
deliveries, cycle counts), its stockouts and the online orders it fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.disruption_impact import (
    DC_LOSS_TIME_S,
    Impact,
    loss_part,
    shortage_loss,
)
from retail_datagen.generators.facts.inventory import (
    INBOUND,
    OUTBOUND,
    S_DC,
    S_ONLINE,
    S_SUPPLIER,
    SALE,
    LedgerPart,
    allocate,
    build_ledger,
    stockouts_table,
)
from retail_datagen.generators.facts.online_orders import online_orders_tables, plan_online_orders
from retail_datagen.generators.facts.shipping import Run
from retail_datagen.generators.facts.stock_counts import counts, end_balance
from retail_datagen.generators.facts.stock_policy import updated_velocity
from retail_datagen.rng import stream
from retail_datagen.schema.tables import FACT_DC_INVENTORY_TXN

__all__ = ["DCCarry", "dc_day"]


@dataclass
class DCCarry:
    """What a DC carries from one day to the next."""

    onhand: np.ndarray  # (products,) int32
    velocity: np.ndarray  # (products,) float32: units shipped per day, smoothed
    in_flight: pa.Table | None = None  # its online orders not final yet (see order_lifecycle)


def dc_day(
    ctx: FactContext,
    region: int,
    partition: int,
    day: date,
    carry: DCCarry,
    impact: Impact,
    runs: tuple[Run, Run],
    ids: pa.Array,
) -> tuple[dict[str, pa.Table], DCCarry]:
    """The DC's rows of the day (``runs``: to stores, from suppliers) and its state after."""
    dc_id, n_products = int(ctx.dc_id[region]), ctx.product_id.size
    to_stores, from_suppliers = runs
    outbound = to_stores.units(n_products)
    dc_after = carry.onhand.astype(np.int64) - outbound
    plan = plan_online_orders(ctx, day)
    orders = np.flatnonzero((plan.region == region) & (plan.node_store < 0))
    line_dc = (plan.region[plan.line_order] == region) & (plan.node_store[plan.line_order] < 0)
    lines = np.flatnonzero(line_dc & ~plan.cancelled[plan.line_order])
    line_s = plan.take_seconds[plan.line_order[lines]]
    granted = np.zeros(plan.line_order.size, np.int64)
    if not impact.dc_closed:
        granted[lines] = allocate(
            np.maximum(dc_after, 0), plan.product[lines], plan.qty[lines], line_s
        )
    online_units = np.bincount(plan.product[lines], granted[lines], n_products).astype(np.int64)
    rng = stream(ctx.seed, "stock.shortage", partition, day.toordinal())
    loss = shortage_loss(ctx, impact, "dc", dc_id, np.maximum(dc_after, 0), rng)
    loss = np.minimum(loss, np.maximum(dc_after - online_units, 0))
    parts = [
        to_stores.part(np.flatnonzero(to_stores.shipped_piece), "LOADING", -1, OUTBOUND, S_DC, ids),
        LedgerPart(
            line_s,
            plan.product[lines],
            -granted[lines],
            SALE,
            S_ONLINE,
            plan.ids.take(pa.array(plan.line_order[lines])),
        ),
        loss_part(loss, DC_LOSS_TIME_S),
        from_suppliers.part(
            np.flatnonzero(from_suppliers.shipped_piece), "UNLOADING", 1, INBOUND, S_SUPPLIER, ids
        ),
    ]
    parts.extend(counts(ctx.seed, partition, day, end_balance(carry.onhand, parts)))
    ledger = build_ledger(
        FACT_DC_INVENTORY_TXN, "DCID", dc_id, dc_id, day, carry.onhand, parts, ctx.product_id
    )
    unmet = lines[granted[lines] < plan.qty[lines]]
    n_out = ledger.zero_product.size + unmet.size
    tables = online_orders_tables(ctx, plan, orders, granted, partition=partition)
    tables["fact_dc_inventory_txn"] = ledger.table
    tables["fact_stockouts"] = stockouts_table(
        day,
        partition,
        store_id=np.full(n_out, -1),
        dc_id=np.full(n_out, dc_id),
        product=np.concatenate([ledger.zero_product, plan.product[unmet]]),
        seconds=np.concatenate([ledger.zero_seconds, plan.take_seconds[plan.line_order[unmet]]]),
        last_known=np.concatenate([ledger.zero_last, np.zeros(unmet.size, np.int64)]),
        product_id=ctx.product_id,
    )
    return tables, DCCarry(
        ledger.end_onhand, updated_velocity(carry.velocity, outbound + online_units)
    )
