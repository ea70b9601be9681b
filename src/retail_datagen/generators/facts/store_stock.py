"""One store's stock day: shortage losses, shoppers and online picks taking stock first come
first served (a substitute from the same category when a shelf is empty), deliveries, cycle
counts and damage, written to the store's ledger; stockouts and the online orders it fulfils.

A store's day depends only on its own carried state and what its region's night sent it
(:class:`StoreOrders`), so the stores of a region run side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.baskets import expected_daily_units
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.disruption_impact import (
    STORE_LOSS_TIME_S,
    Impact,
    loss_part,
    shortage_loss,
)
from retail_datagen.generators.facts.inventory import (
    RETURN,
    S_ONLINE,
    S_STORE,
    SALE,
    LedgerPart,
    allocate,
    build_ledger,
    stockouts_table,
)
from retail_datagen.generators.facts.online_orders import (
    OnlinePlan,
    online_orders_tables,
    plan_online_orders,
)
from retail_datagen.generators.facts.returns import empty_pending, prehistory_returns
from retail_datagen.generators.facts.stock_counts import counts, end_balance
from retail_datagen.generators.facts.stock_policy import updated_velocity
from retail_datagen.generators.facts.store_day import (
    Movements,
    StoreDemand,
    finish_store_day,
    plan_store_day,
)
from retail_datagen.rng import stream
from retail_datagen.schema.tables import FACT_STORE_INVENTORY_TXN

__all__ = [
    "ONLINE_PARTITION_BASE",
    "StoreCarry",
    "StoreOrders",
    "initial_store_carry",
    "store_stock_day",
    "substitutes",
]

RESTOCK_SHARE = 0.8  # returned units fit to sell again
ONLINE_PARTITION_BASE = 10_000  # row-id partition of a store's online orders: 10000 + store id


@dataclass
class StoreCarry:
    """What a store carries from one day to the next."""

    onhand: np.ndarray  # (products,) int32
    velocity: np.ndarray  # (products,) float32: units sold per day, smoothed
    pending: pa.Table  # returns not yet brought back
    in_flight: pa.Table | None = None  # its online orders not final yet (see order_lifecycle)


@dataclass(frozen=True)
class StoreOrders:
    """What the region's night sends one store: whether it opens, its deliveries, disruptions."""

    open_today: bool
    inbound: LedgerPart  # INBOUND rows at unloading time, with their shipment ids
    impact: Impact


def initial_store_carry(ctx: FactContext, store: int, day: date | None = None) -> StoreCarry:
    """The snapshot stock and expected sales velocity; on the dataset's first day also the
    returns still pending from sales made before it (so returns start at their normal rate)."""
    one = np.array([store])
    pending = prehistory_returns(ctx, store, day) if day == ctx.history_start else empty_pending()
    return StoreCarry(
        onhand=ctx.supply.store_initial[store].copy(),
        velocity=expected_daily_units(ctx, one, ctx.history_start)[0].astype(np.float32),
        pending=pending,
    )


def substitutes(
    ctx: FactContext, rng: np.random.Generator, product: np.ndarray, day: date
) -> np.ndarray:
    """A random launched product of the same category for each product (-1 when none)."""
    out = np.full(product.size, -1, np.int64)
    category = ctx.product_category[product]
    u = rng.random(product.size)
    launched = ctx.launched_mask(day)
    for c in np.unique(category).tolist():
        pool = ctx.supply.category_products[c]
        pool = pool[launched[pool]]
        if pool.size == 0:
            continue
        sel = category == c
        out[sel] = pool[(u[sel] * pool.size).astype(np.int64)]
    out[out == product] = -1  # the same product is no substitute
    return out


@dataclass(frozen=True)
class _Taken:
    """Who got what: shoppers' lines first (``n_sale``), then the store's online lines."""

    product: np.ndarray
    qty: np.ndarray
    when: np.ndarray
    got: np.ndarray
    n_sale: int
    sale_product: np.ndarray  # a shopper's line after substitution
    sale_got: np.ndarray


def _take_stock(
    ctx: FactContext,
    store_id: int,
    day: date,
    available: np.ndarray,
    demand: StoreDemand | None,
    plan: OnlinePlan,
    mine: np.ndarray,
) -> _Taken:
    """Shoppers and online picks take stock in time order; an empty shelf: a substitute."""
    online_s = plan.take_seconds[plan.line_order[mine]]
    if demand is not None:
        n_sale = demand.product.size
        product = np.concatenate([demand.product, plan.product[mine]])
        qty = np.concatenate([demand.qty, plan.qty[mine]])
        when = np.concatenate([demand.line_seconds, online_s])
    else:
        n_sale, product, qty, when = 0, plan.product[mine], plan.qty[mine], online_s
    got = allocate(available, product, qty, when)
    sale_product, sale_got = product[:n_sale].copy(), got[:n_sale].copy()
    empty = np.flatnonzero(sale_got == 0)
    if empty.size:
        left = available - np.bincount(product, got, available.size).astype(np.int64)
        rng = stream(ctx.seed, "stock.substitute", store_id, day.toordinal())
        substitute = substitutes(ctx, rng, sale_product[empty], day)
        ok = substitute >= 0
        take = np.zeros(empty.size, np.int64)
        take[ok] = allocate(left, substitute[ok], qty[empty][ok], when[empty][ok])
        sale_product[empty[ok & (take > 0)]] = substitute[ok & (take > 0)]
        sale_got[empty] = np.where(take > 0, take, 0)
    return _Taken(product, qty, when, got, n_sale, sale_product, sale_got)


def _my_online_lines(plan: OnlinePlan, store: int) -> tuple[np.ndarray, np.ndarray]:
    """The plan's orders this store fulfils, and their lines still open (not cancelled)."""
    orders = np.flatnonzero(plan.node_store == store)
    line_store = plan.node_store[plan.line_order]
    lines = np.flatnonzero((line_store == store) & ~plan.cancelled[plan.line_order])
    return orders, lines


def store_stock_day(
    ctx: FactContext, store: int, day: date, carry: StoreCarry, orders: StoreOrders
) -> tuple[dict[str, pa.Table], StoreCarry]:
    """Every row of one store's day (sales, its online orders, ledger, stockouts) and its
    state after the day."""
    store_id, n_products = int(ctx.store_id[store]), ctx.product_id.size
    start = carry.onhand.astype(np.int64)
    loss = np.zeros(n_products, np.int64)
    if orders.open_today:  # a closed store books nothing: a shortage is found when it opens
        rng = stream(ctx.seed, "stock.shortage", store_id, day.toordinal())
        loss = shortage_loss(ctx, orders.impact, "store", store_id, start, rng)
    demand = plan_store_day(ctx, store, day, carry.pending)
    plan = plan_online_orders(ctx, day)
    my_orders, mine = _my_online_lines(plan, store)
    taken = _take_stock(ctx, store_id, day, start - loss, demand, plan, mine)
    tables: dict[str, list[pa.Table]] = {}
    parts = [loss_part(loss, STORE_LOSS_TIME_S)]
    pending = carry.pending
    if demand is not None:
        result = finish_store_day(ctx, demand, taken.sale_product, taken.sale_got)
        for name, table in result.tables.items():
            tables.setdefault(name, []).append(table)
        pending = result.pending_returns
        parts.extend(_shopper_parts(ctx, store_id, day, result.sold, result.returned))
    online_got = taken.got[taken.n_sale :]
    online = LedgerPart(
        plan.take_seconds[plan.line_order[mine]],
        plan.product[mine],
        -online_got,
        SALE,
        S_ONLINE,
        plan.ids.take(pa.array(plan.line_order[mine])),
    )
    parts.extend([online, orders.inbound])
    if orders.open_today:  # nobody counts or writes off stock in a closed store
        parts.extend(counts(ctx.seed, store_id, day, end_balance(start, parts)))
    ledger = build_ledger(
        FACT_STORE_INVENTORY_TXN, "StoreID", store_id, store_id, day, start, parts, ctx.product_id
    )
    tables.setdefault("fact_store_inventory_txn", []).append(ledger.table)
    unmet = np.flatnonzero(taken.got < taken.qty)
    tables["fact_stockouts"] = [
        stockouts_table(
            day,
            store_id,
            store_id=np.full(unmet.size + ledger.zero_product.size, store_id),
            dc_id=np.full(unmet.size + ledger.zero_product.size, -1),
            product=np.concatenate([taken.product[unmet], ledger.zero_product]),
            seconds=np.concatenate([taken.when[unmet], ledger.zero_seconds]),
            last_known=np.concatenate([np.zeros(unmet.size, np.int64), ledger.zero_last]),
            product_id=ctx.product_id,
        )
    ]
    if my_orders.size:
        granted = np.zeros(plan.line_order.size, np.int64)
        granted[mine] = online_got
        partition = ONLINE_PARTITION_BASE + store_id
        for name, table in online_orders_tables(
            ctx, plan, my_orders, granted, partition=partition
        ).items():
            tables.setdefault(name, []).append(table)
    day_units = np.bincount(plan.product[mine], online_got, n_products).astype(np.int64)
    if demand is not None:
        day_units += np.bincount(result.sold.product, result.sold.qty, n_products).astype(np.int64)
    out = {name: pa.concat_tables(t) if len(t) > 1 else t[0] for name, t in tables.items()}
    return out, StoreCarry(ledger.end_onhand, updated_velocity(carry.velocity, day_units), pending)


def _shopper_parts(
    ctx: FactContext, store_id: int, day: date, sold: Movements, back: Movements
) -> list[LedgerPart]:
    """SALE rows of receipts and RETURN rows of the units fit to sell again."""
    rng = stream(ctx.seed, "stock.restock", store_id, day.toordinal())
    restock = rng.binomial(back.qty, RESTOCK_SHARE) if back.qty.size else back.qty
    return [
        LedgerPart(sold.seconds, sold.product, -sold.qty, SALE, S_STORE, sold.receipt_id),
        LedgerPart(back.seconds, back.product, restock, RETURN, S_STORE, back.receipt_id),
    ]
