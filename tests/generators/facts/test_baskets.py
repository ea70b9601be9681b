"""Baskets: one line per product per receipt/order, units kept, ProductCount counts products."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.baskets import merge_repeats, product_probabilities
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.online_orders import generate_online_orders_day
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.store_day import (
    finish_store_day,
    plan_store_day,
    simulate_store_day,
)
from retail_datagen.generators.store_formats import FORMATS, STORE_FORMATS
from retail_datagen.money import decimal_to_cents

DAY = date(2024, 3, 8)


def _repeated_keys(table: pa.Table, key: str) -> int:
    pairs = table.group_by([key, "ProductID"]).aggregate([("Line", "count")])
    return int(pc.sum(pc.greater(pairs["Line_count"], 1)).as_py() or 0)


def test_merge_repeats_keeps_units_and_first_appearance_order() -> None:
    basket = np.array([0, 0, 0, 0, 1, 1, 2])
    product = np.array([5, 3, 5, 5, 3, 3, 9])
    qty = np.array([1, 2, 1, 3, 1, 1, 4])
    b, p, q = merge_repeats(basket, product, qty)
    assert b.tolist() == [0, 0, 1, 2]
    assert p.tolist() == [5, 3, 3, 9]
    assert q.tolist() == [5, 2, 2, 4]


def test_each_product_is_one_line_per_receipt_with_the_units_drawn(ctx: FactContext) -> None:
    pending = empty_pending()
    for i in range(3):
        demand = plan_store_day(ctx, 0, DAY + timedelta(days=i), pending)
        assert demand is not None
        result = finish_store_day(ctx, demand, demand.product, demand.qty)
        pending = result.pending_returns
        lines = result.tables["fact_receipt_lines"]
        assert _repeated_keys(lines, "ReceiptId") == 0
        sales = lines.filter(pc.greater(lines["Qty"], 0))
        assert pc.sum(sales["Qty"]).as_py() == int(demand.qty.sum())  # no unit lost


def test_a_substitute_already_in_the_basket_joins_its_line(ctx: FactContext) -> None:
    demand = plan_store_day(ctx, 0, DAY, empty_pending())
    assert demand is not None
    product = demand.product.copy()
    first = demand.line_receipt == demand.line_receipt[0]
    product[first] = product[0]  # every shelf of the first basket empty: one substitute for all
    result = finish_store_day(ctx, demand, product, demand.qty)
    lines = result.tables["fact_receipt_lines"]
    assert _repeated_keys(lines, "ReceiptId") == 0
    first_id = lines["ReceiptId"][0]
    mine = lines.filter(pc.equal(lines["ReceiptId"], first_id))
    assert mine.num_rows == 1
    assert mine["Qty"][0].as_py() == int(demand.qty[first].sum())
    ledger = result.sold
    assert int(ledger.qty.sum()) == int(demand.qty.sum())


def test_each_product_is_one_line_per_online_order(ctx: FactContext) -> None:
    for i in range(3):
        lines = generate_online_orders_day(ctx, DAY + timedelta(days=i))["fact_online_order_lines"]
        assert lines.num_rows > 0
        assert _repeated_keys(lines, "OrderId") == 0


def test_product_count_counts_the_distinct_promoted_products(ctx: FactContext) -> None:
    demand = plan_store_day(ctx, 0, date(2024, 12, 14), empty_pending())
    assert demand is not None
    tables = finish_store_day(ctx, demand, demand.product, demand.qty).tables
    promos, lines = tables["fact_promotions"], tables["fact_receipt_lines"]
    assert promos.num_rows > 0
    promoted = lines.filter(pc.is_valid(lines["PromoCode"]))
    distinct = promoted.group_by("ReceiptId").aggregate([("ProductID", "count_distinct")])
    expected = sorted(
        zip(
            *distinct.select(["ReceiptId", "ProductID_count_distinct"]).to_pydict().values(),
            strict=True,
        )
    )
    got = sorted(
        zip(*promos.select(["ReceiptId", "ProductCount"]).to_pydict().values(), strict=True)
    )
    assert got == expected


def test_tickets_grow_with_the_format_and_stay_believable(ctx: FactContext) -> None:
    """Every format (stores 0-4 recast as HYPERMARKET..EXPRESS): $25-120, ordered, skewed."""
    formats = np.arange(ctx.n_stores) % len(STORE_FORMATS)
    recast = dataclasses.replace(ctx, store_format=formats.astype(ctx.store_format.dtype))
    means = []
    for store in range(len(STORE_FORMATS)):
        totals = np.concatenate(
            [
                decimal_to_cents(
                    simulate_store_day(recast, store, day, empty_pending()).tables["fact_receipts"][
                        "Total"
                    ]
                )
                / 100
                for day in (DAY, DAY + timedelta(days=1))
            ]
        )
        assert np.median(totals) < totals.mean()
        means.append(float(totals.mean()))
    assert all(25 <= m <= 120 for m in means), means
    assert means[0] == max(means) and means[-1] == min(means), means


def test_supercenter_like_formats_spend_55_to_60_percent_on_grocery_type_departments() -> None:
    for store_format in FORMATS.values():
        assert sum(store_format.department_shares.values()) == pytest.approx(1.0)
    for name in ("HYPERMARKET", "SUPERSTORE"):
        shares = FORMATS[name].department_shares
        grocery = sum(shares[d] for d in B.GROCERY_DEPARTMENTS)
        assert 0.55 <= grocery <= 0.61, name


def test_out_of_season_categories_are_damped(ctx: FactContext) -> None:
    """Grilling sells in summer, holiday decor in December — not the other way round."""
    fmt = STORE_FORMATS.index("SUPERSTORE")

    def share(day: date, category: str) -> float:
        p = product_probabilities(ctx, day, fmt, 0)
        return float(p[ctx.product_category == ctx.category_names.index(category)].sum())

    january, july, december = date(2024, 1, 20), date(2024, 7, 10), date(2024, 12, 10)
    assert share(january, "Grilling & Outdoor") < 0.2 * share(july, "Grilling & Outdoor")
    assert share(july, "Holiday Decor") < 0.2 * share(december, "Holiday Decor")


def test_a_markdown_lifts_the_marked_down_products_share_of_lines(ctx: FactContext) -> None:
    """Line choice reads the day's shelf price (dim_product_prices), not the regular price."""
    day = DAY + timedelta(days=40)
    fmt, segment = 0, 0
    regular = product_probabilities(ctx, day, fmt, segment)
    launched = np.flatnonzero(ctx.launched_mask(day))
    marked = launched[:50]
    prices = ctx.prices_on(day).copy()
    prices[marked] = np.maximum(prices[marked] * 7 // 10, 1)  # 30 % off
    on_sale = dataclasses.replace(ctx)  # a fresh memo: nothing cached from the regular prices
    on_sale.memo[("prices_on", day)] = prices
    lifted = product_probabilities(on_sale, day, fmt, segment)
    assert lifted[marked].sum() > 1.05 * regular[marked].sum()
