"""One store's day: visits first, then sensors and sales from the same visits (the recipe).

``simulate_store_day`` is a pure function of (context, store, day, carried state): the carried
state is the returns still pending, so consecutive days — in one run or several — chain exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen import calendar
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.baskets import (
    basket_line_counts,
    line_quantities,
    merge_repeats,
    sample_products,
)
from retail_datagen.generators.facts.columns import (
    day_start_us,
    lookup,
    maybe_null,
    timestamps,
    trace_ids,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.generators.facts.marketing import Conversions, conversions_for_store_day
from retail_datagen.generators.facts.payments import build_payments
from retail_datagen.generators.facts.promotions import apply_promotions, promotions_table
from retail_datagen.generators.facts.receipts import (
    LineItems,
    price_lines,
    receipt_ids,
    receipt_tables,
)
from retail_datagen.generators.facts.returns import DueReturns, schedule_returns, split_due
from retail_datagen.generators.facts.sensors import ble_pings, foot_traffic
from retail_datagen.generators.facts.shoppers import day_plan, return_seconds
from retail_datagen.generators.facts.visits import (
    VisitKind,
    Visits,
    build_visits,
    expected_receipts,
)
from retail_datagen.rng import stream
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_STORE_OPS

__all__ = [
    "Movements",
    "StoreDay",
    "StoreDemand",
    "finish_store_day",
    "plan_store_day",
    "simulate_store_day",
    "store_ops",
]

_TENDERS = pa.array(B.TENDERS, pa.string())


@dataclass(frozen=True)
class Movements:
    """Stock movements of a store-day's receipts: product index, units, time, receipt id."""

    product: np.ndarray
    qty: np.ndarray  # positive units
    seconds: np.ndarray
    receipt_id: pa.Array

    @staticmethod
    def empty() -> Movements:
        return Movements(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), pa.array([], pa.string())
        )


@dataclass(frozen=True)
class StoreDay:
    tables: dict[str, pa.Table]
    pending_returns: pa.Table  # carried to the next day
    sold: Movements = field(default_factory=Movements.empty)
    returned: Movements = field(default_factory=Movements.empty)


@dataclass(frozen=True)
class StoreDemand:
    """A store-day up to the baskets shoppers want: visits, sensors and desired lines."""

    store: int
    store_id: int
    day: date
    window: tuple[int, int]
    visits: Visits
    sensors: dict[str, pa.Table]
    buyer: np.ndarray  # visit index of each buyer, in checkout order
    segment: np.ndarray  # per buyer
    marketing: np.ndarray  # per buyer: brought by an ad
    conversions: Conversions
    line_receipt: np.ndarray  # desired lines, grouped by buyer
    product: np.ndarray
    qty: np.ndarray
    due: DueReturns
    still_pending: pa.Table

    @property
    def line_seconds(self) -> np.ndarray:
        seconds: np.ndarray = self.visits.checkout_s[self.buyer][self.line_receipt]
        return seconds

    def rng(self, ctx: FactContext, domain: str) -> np.random.Generator:
        return stream(ctx.seed, domain, self.store_id, self.day.toordinal())


def store_ops(store_id: int, day: date, window: tuple[int, int]) -> pa.Table:
    """OPENED and CLOSED rows at the store's hours (24-hour stores: 00:00 and 23:59:59)."""
    open_s, close_s = window
    return normalise(
        FACT_STORE_OPS,
        pa.table(
            {
                "TraceId": trace_ids("fact_store_ops", store_id, day, 2),
                "EventTS": timestamps(day, np.array([open_s, min(close_s, 86_399)])),
                "StoreID": pa.array(np.full(2, store_id, np.int32)),
                "Operation": pa.array(["OPENED", "CLOSED"], pa.string()),
            }
        ),
    )


def simulate_store_day(
    ctx: FactContext, store: int, day: date, pending_returns: pa.Table
) -> StoreDay:
    """A store-day with unlimited stock (the shoppers get what they want)."""
    demand = plan_store_day(ctx, store, day, pending_returns)
    if demand is None:
        return StoreDay({}, pending_returns)
    return finish_store_day(ctx, demand, demand.product, demand.qty)


def _segments(ctx: FactContext, customer: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Known buyers' own segment; anonymous buyers draw one from the customer shares."""
    cdf = np.cumsum(B.ANONYMOUS_SEGMENT_P) / B.ANONYMOUS_SEGMENT_P.sum()
    drawn = np.minimum(np.searchsorted(cdf, rng.random(customer.size), side="right"), cdf.size - 1)
    known = customer >= 0
    segment: np.ndarray = np.where(
        known, ctx.customer_segment[np.where(known, customer, 0)], drawn
    ).astype(np.int64)
    return segment


def plan_store_day(
    ctx: FactContext, store: int, day: date, pending_returns: pa.Table
) -> StoreDemand | None:
    """Visits, sensors and the baskets buyers want; None when the store is closed all day."""
    store_id = int(ctx.store_id[store])
    window = open_window(ctx, store, day)
    if window is None:  # closed all day: nothing happens, returns wait for the next open day
        return None

    def rng(domain: str) -> np.random.Generator:
        return stream(ctx.seed, domain, store_id, day.toordinal())

    _, weather_factor = calendar.weather(ctx.seed, np.array([store_id]), day)
    mean_receipts = expected_receipts(ctx, store, day, float(weather_factor[0]))
    conversions = conversions_for_store_day(ctx, store, day)
    marketing_s = (conversions.visit_us - day_start_us(day)) / 1e6
    due, still_pending = split_due(pending_returns, day)
    plan = day_plan(ctx, day)
    return_s = return_seconds(
        ctx,
        plan,
        store,
        day,
        due.customer,
        due.arrival_seconds(ctx.seed, store_id, window),
        rng("return_slots").random(due.n),
        window,
    )
    visits = build_visits(
        ctx,
        store,
        day,
        rng("visits"),
        window,
        mean_receipts,
        plan.trips_at(store),
        marketing_s,
        conversions.customer_index.astype(np.int64),
        return_s,
        due.customer,
    )
    sensors = {"fact_foot_traffic": foot_traffic(ctx, store, day, visits)}
    sensors["fact_ble_pings"], sensors["fact_customer_zone_changes"] = ble_pings(
        ctx, store, day, rng("ble"), visits
    )

    buyer = np.flatnonzero(visits.buys)
    buyer = buyer[np.argsort(visits.checkout_s[buyer], kind="stable")]
    segment = _segments(ctx, visits.customer[buyer], rng("segments"))
    marketing = visits.kind[buyer] == VisitKind.MARKETING
    fmt = int(ctx.store_format[store])
    basket_rng = rng("baskets")
    n_lines = basket_line_counts(
        ctx, basket_rng, fmt, segment, np.where(marketing, B.MARKETING_BASKET_LIFT, 1.0)
    )
    line_receipt = np.repeat(np.arange(buyer.size), n_lines)
    product = sample_products(
        ctx, day, basket_rng, fmt, segment[line_receipt], marketing[line_receipt]
    )
    qty = line_quantities(basket_rng, line_receipt.size)
    return StoreDemand(
        store,
        store_id,
        day,
        window,
        visits,
        sensors,
        buyer,
        segment,
        marketing,
        conversions,
        line_receipt,
        product,
        qty,
        due,
        still_pending,
    )


def finish_store_day(
    ctx: FactContext, demand: StoreDemand, product: np.ndarray, qty: np.ndarray
) -> StoreDay:
    """Receipts, payments, promotions and returns for the lines shoppers actually got.

    ``product``/``qty`` replace the desired lines (substitutes, fewer units); lines with no
    units are dropped, a product drawn twice (or substituted into a basket that has it) is one
    line, and a buyer left with nothing leaves without a receipt.
    """
    store, store_id, day, visits = demand.store, demand.store_id, demand.day, demand.visits
    tables = dict(demand.sensors)
    keep = qty > 0
    kept_receipt, product, qty = merge_repeats(demand.line_receipt[keep], product[keep], qty[keep])
    has_lines = np.bincount(kept_receipt, minlength=demand.buyer.size) > 0
    renumber = np.cumsum(has_lines) - 1
    buyer = demand.buyer[has_lines]
    n_sales = buyer.size
    segment, marketing = demand.segment[has_lines], demand.marketing[has_lines]
    line_receipt = renumber[kept_receipt]
    unit = ctx.prices_on(day)[product]
    promo = apply_promotions(
        ctx, day, demand.rng(ctx, "promotions"), line_receipt, product, qty, unit, segment
    )
    rate = ctx.store_rate_micros[store]
    sales = price_lines(
        LineItems(line_receipt, product, qty, unit, promo.line_discount, promo.line_code),
        rate,
        ctx.product_tax_factor[product],
        n_sales,
    )
    due = demand.due
    returns = price_lines(due.lines, rate, ctx.product_tax_factor[due.lines.product], due.n)

    # --- payments for sales and refunds, then the receipts that show the final tender
    tender_rng = demand.rng(ctx, "tender")
    cdf = np.cumsum(B.STORE_TENDER_P)
    tender = np.searchsorted(cdf, tender_rng.random(n_sales) * cdf[-1], side="right")
    return_visit = np.flatnonzero(visits.kind == VisitKind.RETURN)
    return_visit = return_visit[np.argsort(visits.ref[return_visit], kind="stable")]
    sale_s = visits.checkout_s[buyer]
    return_s = visits.checkout_s[return_visit]
    sale_ids = receipt_ids("RCP", store_id, day, np.arange(n_sales))
    return_ids = receipt_ids("RTN", store_id, day, np.arange(due.n))
    customers = np.concatenate([visits.customer[buyer], due.customer])
    payments, final_tender = build_payments(
        ctx,
        day,
        demand.rng(ctx, "payments"),
        partition=store_id,
        receipt_id=pa.concat_arrays([sale_ids, return_ids]),
        order_id=None,
        store_id=np.full(customers.size, store_id, np.int64),
        customer_id=ctx.customer_ids(customers),
        tender=np.concatenate([tender, due.tender]),
        amount_cents=np.concatenate([sales.total, returns.total]),
        event_seconds=np.concatenate([sale_s, return_s]),
        allow_decline=np.r_[np.ones(n_sales, bool), np.zeros(due.n, bool)],
    )
    tables["fact_payments"] = payments
    tender_names = lookup(_TENDERS, final_tender)

    campaign = impression = None
    conversions = demand.conversions
    if len(conversions.campaign_id):
        ref = np.where(marketing, visits.ref[buyer], 0)
        campaign = maybe_null(conversions.campaign_id.take(pa.array(ref)), marketing)
        impression = maybe_null(conversions.impression_id.take(pa.array(ref)), marketing)
    sale_receipts, sale_lines = receipt_tables(
        ctx,
        store_id,
        day,
        ids=sale_ids,
        seconds=sale_s,
        customer=visits.customer[buyer],
        tender=tender_names.slice(0, n_sales),
        receipt_type="SALE",
        priced=sales,
        campaign_ids=campaign,
        impression_ids=impression,
    )
    return_receipts, return_lines = receipt_tables(
        ctx,
        store_id,
        day,
        ids=return_ids,
        seconds=return_s,
        customer=due.customer,
        tender=tender_names.slice(n_sales),
        receipt_type="RETURN",
        priced=returns,
        original_ids=due.original_ids,
        first_receipt_seq=n_sales,
        first_line_seq=line_receipt.size,
    )
    tables["fact_receipts"] = pa.concat_tables([sale_receipts, return_receipts])
    tables["fact_receipt_lines"] = pa.concat_tables([sale_lines, return_lines])
    tables["fact_promotions"] = promotions_table(
        ctx,
        day,
        promo,
        line_receipt,
        product,
        partition=store_id,
        receipt_ids=sale_ids,
        order_ids=None,
        store_id=np.full(n_sales, store_id, np.int64),
        customer=visits.customer[buyer],
        seconds=sale_s,
    )
    tables["fact_store_ops"] = store_ops(store_id, day, demand.window)

    new_pending = schedule_returns(
        demand.rng(ctx, "returns"),
        day,
        sale_ids,
        visits.customer[buyer],
        final_tender[:n_sales],
        sales,
    )
    returned_lines = due.lines
    return StoreDay(
        tables,
        pa.concat_tables([demand.still_pending, new_pending]),
        sold=Movements(product, qty, sale_s[line_receipt], sale_ids.take(pa.array(line_receipt))),
        returned=Movements(
            returned_lines.product,
            -returned_lines.qty,
            return_s[returned_lines.receipt] if due.n else np.zeros(0),
            return_ids.take(pa.array(returned_lines.receipt)),
        ),
    )
