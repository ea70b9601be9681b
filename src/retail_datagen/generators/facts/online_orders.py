"""Online orders: lines, money, fulfilment lifecycle, promotions and payments (SPEC §6.4).

One network-wide partition per day (partition 0 in row ids). Money follows exactly the in-store
rules (``receipts.price_lines``) at the fulfilling location's tax rate; every order that is not
cancelled gets one APPROVED payment equal to its Total from the shared payment builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators import store_formats as F
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.baskets import (
    line_quantities,
    merge_repeats,
    sample_products,
)
from retail_datagen.generators.facts.columns import (
    US_PER_HOUR,
    US_PER_SECOND,
    day_start_us,
    lookup,
    trace_ids,
    yyyymmdd,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import day_hours, next_open_us
from retail_datagen.generators.facts.marketing import digital_seconds, digital_volume_factor
from retail_datagen.generators.facts.payments import build_payments
from retail_datagen.generators.facts.promotions import (
    PROMO_NAMES,
    apply_promotions,
    promotions_table,
)
from retail_datagen.generators.facts.receipts import LineItems, price_lines
from retail_datagen.ids import compose
from retail_datagen.money import cents_to_decimal
from retail_datagen.rng import stream
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import (
    FACT_ONLINE_ORDER_LINES,
    FACT_ONLINE_ORDERS,
)

__all__ = [
    "ORDER_STATUSES",
    "OnlinePlan",
    "generate_online_orders_day",
    "online_orders_tables",
    "order_ids",
    "plan_online_orders",
]

ORDER_STATUSES = ("DELIVERED", "PICKED_UP", "CANCELLED")
_DELIVERED, _PICKED_UP, _CANCELLED = 0, 1, 2
_SHIP_FROM_DC, _SHIP_FROM_STORE, _BOPIS = (
    B.FULFILLMENT_MODES.index(m) for m in ("SHIP_FROM_DC", "SHIP_FROM_STORE", "BOPIS")
)
_NODE_TYPES = ("DC", "STORE")
_ONLINE_TENDER_CODES = np.array([B.TENDERS.index(t) for t in B.ONLINE_TENDERS])
_FORMAT = F.STORE_FORMATS.index(B.ONLINE_BASKET_FORMAT)
# the latest order second that still leaves its payment on the same day
_LAST_ORDER_S = 86_400.0 - B.ONLINE_PAYMENT_DELAY_S[1] - 1.0


def order_ids(day: date, n: int) -> pa.StringArray:
    """``ORD-20240101-0000123`` in order time."""
    return compose(n, [f"ORD-{yyyymmdd(day):08d}-", (np.arange(n), 7)])


def _choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(p) / np.sum(p)
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), p.size - 1)


def _hours_us(u: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    return ((band[0] + u * (band[1] - band[0])) * US_PER_HOUR).astype(np.int64)


def _dc_positions(ctx: FactContext, dc_ids: np.ndarray) -> np.ndarray:
    order = np.argsort(ctx.dc_id, kind="stable")
    return order[np.searchsorted(ctx.dc_id[order], dc_ids)]


def _ts(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(us, pa.timestamp("us"), mask=null)


def _route(
    ctx: FactContext, rng: np.random.Generator, day: date, home: np.ndarray, seconds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each order's fulfilment mode, and the second its node takes the stock.

    A store takes an order's stock from its shelf while it is open: at the order time, or at
    opening for an order placed before it. Orders its store cannot take today (placed after
    closing, or on a day it is closed) ship from the DC; the others go to the store a little
    more often, so the day's mix stays the configured one while the stores can carry it.
    """
    open_s, close_s = day_hours(ctx, home, day)
    take = np.maximum(seconds, open_s.astype(np.float64))
    last = np.where(close_s >= 86_400, np.inf, close_s - B.STORE_LAST_TAKE_S)  # 24 h: never
    can = take < last
    p = B.FULFILLMENT_P / B.FULFILLMENT_P.sum()
    store_share = 1.0 - p[_SHIP_FROM_DC]
    can_share = float(can.mean()) if can.size else 0.0
    lifted = p / max(can_share, store_share)  # store modes, among orders a store can take
    lifted[_SHIP_FROM_DC] = max(0.0, 1.0 - (lifted.sum() - lifted[_SHIP_FROM_DC]))
    u = rng.random(seconds.size)
    cdf = np.cumsum(lifted) / lifted.sum()
    mode = np.where(
        can, np.minimum(np.searchsorted(cdf, u, side="right"), p.size - 1), _SHIP_FROM_DC
    )
    return mode, np.where(mode == _SHIP_FROM_DC, seconds, take)


def _lifecycle(
    ctx: FactContext,
    rng: np.random.Generator,
    mode: np.ndarray,
    home: np.ndarray,
    order_us: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Picked, shipped and delivered times (µs), strictly increasing; BOPIS is never shipped
    (its ShippedTS is meaningless) and is collected while the store is open. A store picks
    only while it is open (``order_us`` is when it took the stock)."""
    u_pick, u_ship, u_deliver, u_ready, u_collect = rng.random((5, order_us.size))
    bopis = mode == _BOPIS
    picked = order_us + np.where(
        bopis, _hours_us(u_ready, B.BOPIS_READY_HOURS), _hours_us(u_pick, B.ONLINE_PICK_HOURS)
    )
    s = np.flatnonzero(mode != _SHIP_FROM_DC)
    if s.size:
        picked[s] = next_open_us(ctx, home[s], picked[s])
    shipped = picked + _hours_us(u_ship, B.ONLINE_SHIP_AFTER_PICK_HOURS)
    carrier = np.where(
        mode == _SHIP_FROM_DC,
        _hours_us(u_deliver, B.ONLINE_DC_DELIVERY_HOURS),
        _hours_us(u_deliver, B.ONLINE_STORE_DELIVERY_HOURS),
    )
    delivered = shipped + carrier
    b = np.flatnonzero(bopis)
    if b.size:  # next_open_us does not take empty arrays
        delivered[b] = next_open_us(
            ctx, home[b], picked[b] + _hours_us(u_collect[b], B.BOPIS_COLLECT_HOURS)
        )
    return picked, shipped, delivered


@dataclass(frozen=True)
class OnlinePlan:
    """A day's online orders as customers place them, before stock is checked."""

    day: date
    ids: pa.StringArray
    seconds: np.ndarray
    take_seconds: np.ndarray  # when the fulfilling node takes the stock (a store: while open)
    order_us: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    home: np.ndarray  # home store index
    mode: np.ndarray
    region: np.ndarray  # DC index serving the home store (the fulfilling region)
    node_id: np.ndarray
    node_store: np.ndarray  # fulfilling store index, -1 for a DC
    rate: np.ndarray
    line_order: np.ndarray
    product: np.ndarray
    qty: np.ndarray
    cancelled: np.ndarray
    picked: np.ndarray
    shipped: np.ndarray
    delivered: np.ndarray
    tender: np.ndarray
    pay_s: np.ndarray

    @property
    def n(self) -> int:
        return int(self.seconds.size)

    @property
    def from_dc(self) -> np.ndarray:
        dc: np.ndarray = self.mode == _SHIP_FROM_DC
        return dc


def plan_online_orders(ctx: FactContext, day: date) -> OnlinePlan:
    """The day's orders (memoised on the context: every region of the day reads one plan)."""
    key = ("online_plan", day.toordinal())
    plan = ctx.memo.get(key)
    if not isinstance(plan, OnlinePlan):
        if len(ctx.memo) > 16:
            ctx.memo.clear()
        plan = ctx.memo[key] = _plan(ctx, day)
    return plan


def _plan(ctx: FactContext, day: date) -> OnlinePlan:
    ordinal = day.toordinal()

    def rng(aspect: str) -> np.random.Generator:  # one stream per aspect: columns stay apart
        return stream(ctx.seed, f"online.{aspect}", ordinal)

    volume = ctx.config.volume.online_orders_per_day
    factor = digital_volume_factor(day, B.ONLINE_SEASONALITY, B.ONLINE_HOLIDAY_LIFTS)
    n = int(rng("count").poisson(volume * factor))
    seconds = np.sort(np.minimum(digital_seconds(rng("time"), n), _LAST_ORDER_S))
    order_us = day_start_us(day) + np.floor(seconds * US_PER_SECOND).astype(np.int64)

    customer = rng("customer").integers(0, ctx.customer_id.size, n)
    segment = ctx.customer_segment[customer].astype(np.int64)
    home = ctx.customer_home[customer].astype(np.int64)
    mode, take_s = _route(ctx, rng("fulfilment"), day, home, seconds)
    from_dc = mode == _SHIP_FROM_DC
    dc = _dc_positions(ctx, ctx.store_dc[home])
    lines_per_order = _choose(rng("lines"), B.ONLINE_LINE_COUNT_P, n) + B.ONLINE_LINES[0]
    drawn = np.repeat(np.arange(n), lines_per_order)
    line_order, product, qty = merge_repeats(  # one line per product per order
        drawn,
        sample_products(ctx, day, rng("products"), _FORMAT, segment[drawn]),
        line_quantities(rng("quantities"), drawn.size),
    )
    take_us = day_start_us(day) + np.floor(take_s * US_PER_SECOND).astype(np.int64)
    picked, shipped, delivered = _lifecycle(ctx, rng("lifecycle"), mode, home, take_us)
    lo_s, hi_s = B.ONLINE_PAYMENT_DELAY_S
    return OnlinePlan(
        day=day,
        ids=order_ids(day, n),
        seconds=seconds,
        take_seconds=take_s,
        order_us=order_us,
        customer=customer,
        segment=segment,
        home=home,
        mode=mode,
        region=dc.astype(np.int64),
        node_id=np.where(from_dc, ctx.dc_id[dc], ctx.store_id[home]),
        node_store=np.where(from_dc, -1, home).astype(np.int64),
        rate=np.where(from_dc, ctx.dc_rate_micros[dc], ctx.store_rate_micros[home]),
        line_order=line_order,
        product=product,
        qty=qty,
        cancelled=rng("cancel").random(n) < B.ONLINE_CANCEL_RATE,
        picked=picked,
        shipped=shipped,
        delivered=delivered,
        tender=_ONLINE_TENDER_CODES[_choose(rng("tender"), B.ONLINE_TENDER_P, n)],
        pay_s=seconds + lo_s + rng("payment_delay").random(n) * (hi_s - lo_s),
    )


def generate_online_orders_day(ctx: FactContext, day: date) -> dict[str, pa.Table]:
    """All of a day's online orders with unlimited stock (every line as ordered)."""
    plan = plan_online_orders(ctx, day)
    return online_orders_tables(ctx, plan, np.arange(plan.n), plan.qty, partition=0)


def online_orders_tables(
    ctx: FactContext,
    plan: OnlinePlan,
    orders: np.ndarray,
    line_qty: np.ndarray,
    *,
    partition: int,
) -> dict[str, pa.Table]:
    """Orders, lines, payments and promotions for ``orders`` (indices into the plan), with the
    units each line got (``line_qty``, per plan line). A customer who finds nothing in stock
    places no order; lines that got nothing are dropped. Orders the customer cancels keep
    their lines as ordered (no payment, no lifecycle, no stock taken)."""
    day = plan.day
    ordinal = day.toordinal()

    def rng(aspect: str) -> np.random.Generator:
        return stream(ctx.seed, f"online.{aspect}", ordinal, partition)

    got = np.bincount(plan.line_order, weights=line_qty > 0, minlength=plan.n) > 0
    orders = orders[got[orders] | plan.cancelled[orders]]  # found nothing: never placed
    selected = np.zeros(plan.n, dtype=bool)
    selected[orders] = True
    in_subset = selected[plan.line_order]
    cancelled = plan.cancelled[orders]
    n = orders.size
    position = np.full(plan.n, -1, dtype=np.int64)
    position[orders] = np.arange(n)
    # cancelled orders keep their lines as ordered; the others keep the lines they got
    order_cancelled = np.zeros(plan.n, dtype=bool)
    order_cancelled[orders] = cancelled
    keep_line = in_subset & (order_cancelled[plan.line_order] | (line_qty > 0))
    lines_idx = np.flatnonzero(keep_line)
    line_order = position[plan.line_order[lines_idx]]
    product = plan.product[lines_idx]
    qty = np.where(
        order_cancelled[plan.line_order[lines_idx]], plan.qty[lines_idx], line_qty[lines_idx]
    )
    m = lines_idx.size
    segment = plan.segment[orders]
    unit = ctx.prices_on(day)[product]
    promo = apply_promotions(ctx, day, rng("promotions"), line_order, product, qty, unit, segment)
    priced = price_lines(
        LineItems(line_order, product, qty, unit, promo.line_discount, promo.line_code),
        plan.rate[orders][line_order],
        ctx.product_tax_factor[product],
        n,
    )
    mode = plan.mode[orders]
    from_dc = mode == _SHIP_FROM_DC
    status = np.where(cancelled, _CANCELLED, np.where(mode == _BOPIS, _PICKED_UP, _DELIVERED))
    ids = plan.ids.take(pa.array(orders))
    node_store = plan.node_store[orders]
    store_ids = np.where(node_store >= 0, ctx.store_id[np.maximum(node_store, 0)], -1)
    customer = plan.customer[orders]

    tender = plan.tender[orders].copy()
    paid = np.flatnonzero(~cancelled)
    payments, final_tender = build_payments(
        ctx,
        day,
        rng("payments"),
        partition=partition,
        receipt_id=None,
        order_id=ids.take(pa.array(paid)),
        store_id=store_ids[paid],
        customer_id=ctx.customer_id[customer[paid]],
        tender=tender[paid],
        amount_cents=priced.total[paid],
        event_seconds=plan.pay_s[orders][paid],
        allow_decline=np.ones(paid.size, dtype=bool),
    )
    tender[paid] = final_tender

    event_ts = _ts(plan.order_us[orders])
    orders_table = pa.table(
        {
            "TraceId": trace_ids("fact_online_orders", partition, day, n),
            "EventTS": event_ts,
            "OrderId": ids,
            "CustomerID": pa.array(ctx.customer_id[customer]),
            "FulfillmentMode": lookup(B.FULFILLMENT_MODES, mode),
            "NodeType": lookup(_NODE_TYPES, (~from_dc).astype(np.int64)),
            "NodeID": pa.array(plan.node_id[orders].astype(np.int32)),
            "ItemCount": pa.array(priced.items.astype(np.int32)),
            "Subtotal": cents_to_decimal(priced.subtotal),
            "Discount": cents_to_decimal(priced.discount),
            "Tax": cents_to_decimal(priced.tax_total),
            "Total": cents_to_decimal(priced.total),
            "TenderType": lookup(B.TENDERS, tender),
            "Status": lookup(ORDER_STATUSES, status),
            "PickedTS": _ts(plan.picked[orders], cancelled),
            "ShippedTS": _ts(plan.shipped[orders], cancelled | (mode == _BOPIS)),
            "DeliveredTS": _ts(plan.delivered[orders], cancelled),
        }
    )
    line_take = pa.array(line_order)
    starts = np.searchsorted(line_order, line_order, side="left")
    lines = pa.table(
        {
            "TraceId": trace_ids("fact_online_order_lines", partition, day, m),
            "EventTS": event_ts.take(line_take),
            "OrderId": ids.take(line_take),
            "Line": pa.array((np.arange(m) - starts + 1).astype(np.int32)),
            "ProductID": pa.array(ctx.product_id[product]),
            "Qty": pa.array(qty.astype(np.int32)),
            "UnitPrice": cents_to_decimal(unit),
            "ExtPrice": cents_to_decimal(priced.ext),
            "PromoCode": lookup(PROMO_NAMES, promo.line_code),
            "Discount": cents_to_decimal(promo.line_discount),
            "Tax": cents_to_decimal(priced.tax),
        }
    )
    return {
        "fact_online_orders": normalise(FACT_ONLINE_ORDERS, orders_table),
        "fact_online_order_lines": normalise(FACT_ONLINE_ORDER_LINES, lines),
        "fact_payments": payments,
        "fact_promotions": promotions_table(
            ctx,
            day,
            promo,
            line_order,
            product,
            partition=partition,
            receipt_ids=None,
            order_ids=ids,
            store_id=store_ids,
            customer=customer,
            seconds=plan.seconds[orders],
        ),
    }
