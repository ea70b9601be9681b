"""One store-day: money to the cent, sensor nesting, opening hours, launches, returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.receipts import LineItems, price_lines
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.store_day import StoreDay, simulate_store_day
from retail_datagen.money import decimal_to_cents, tax_cents
from retail_datagen.schema import TABLES

DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 10, 31))


def _cents(table: pa.Table, column: str) -> np.ndarray:
    return decimal_to_cents(table.column(column))


def _run_days(ctx: FactContext, store: int, first: date, days: int) -> list[StoreDay]:
    pending = empty_pending()
    out = []
    for i in range(days):
        result = simulate_store_day(ctx, store, first + timedelta(days=i), pending)
        pending = result.pending_returns
        out.append(result)
    return out


@st.composite
def _baskets(draw: st.DrawFn) -> tuple[LineItems, np.ndarray, np.ndarray, int]:
    """Receipts of 1-5 lines each: sales or returns, any prices, discounts and tax rates."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=12))
    n_lines = sum(sizes)
    sign = np.repeat([draw(st.sampled_from([1, -1])) for _ in sizes], sizes)
    qty = sign * np.array(draw(st.lists(st.integers(1, 4), min_size=n_lines, max_size=n_lines)))
    unit = np.array(draw(st.lists(st.integers(1, 500_000), min_size=n_lines, max_size=n_lines)))
    share = np.array(draw(st.lists(st.integers(0, 50), min_size=n_lines, max_size=n_lines)))
    lines = LineItems(
        receipt=np.repeat(np.arange(len(sizes)), sizes),
        product=np.zeros(n_lines, np.int64),
        qty=qty.astype(np.int64),
        unit=unit.astype(np.int64),
        discount=(unit * qty * share) // 100,  # same sign as qty, at most half the gross
        promo=np.full(n_lines, -1),
    )
    rate = draw(st.integers(0, 120_000))  # store rate in parts per million (0-12 %)
    factor = np.array(
        draw(st.lists(st.sampled_from([0, 5, 10]), min_size=n_lines, max_size=n_lines))
    )
    return lines, np.full(n_lines, rate, np.int64), factor, len(sizes)


@settings(max_examples=100, deadline=None)
@given(_baskets())
def test_line_and_receipt_money_balance_to_the_cent(
    basket: tuple[LineItems, np.ndarray, np.ndarray, int],
) -> None:
    """SPEC §6.1 identities of price_lines, with tax checked against decimal arithmetic; a
    return (negated units and discounts) refunds exactly what the sale charged."""
    lines, rate, factor, n = basket
    priced = price_lines(lines, rate, factor, n)
    assert np.array_equal(priced.ext, lines.unit * lines.qty - lines.discount)
    for ext, r, f, tax in zip(priced.ext, rate, factor, priced.tax, strict=True):
        exact = Decimal(int(ext)) * Decimal(int(r)) * Decimal(int(f)) / Decimal(10_000_000)
        assert tax == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    per_receipt = [lines.receipt == k for k in range(n)]
    assert priced.subtotal.tolist() == [int((lines.unit * lines.qty)[m].sum()) for m in per_receipt]
    assert priced.discount.tolist() == [int(lines.discount[m].sum()) for m in per_receipt]
    assert priced.tax_total.tolist() == [int(priced.tax[m].sum()) for m in per_receipt]
    assert priced.items.tolist() == [int(lines.qty[m].sum()) for m in per_receipt]
    assert np.array_equal(priced.total, priced.subtotal - priced.discount + priced.tax_total)
    back = dataclasses.replace(lines, qty=-lines.qty, discount=-lines.discount)
    refund = price_lines(back, rate, factor, n)
    assert np.array_equal(refund.total, -priced.total)
    assert np.array_equal(refund.tax, -priced.tax)


def test_receipt_tables_carry_the_money_to_the_cent(ctx: FactContext) -> None:
    """The stored decimals of two weeks of sales and returns keep the identities."""
    store = 3
    days = _run_days(ctx, store, date(2024, 11, 20), 16)  # long enough for returns to come back
    kinds = set()
    for result in days:
        if not result.tables:
            continue
        receipts, lines = result.tables["fact_receipts"], result.tables["fact_receipt_lines"]
        kinds.update(receipts["ReceiptType"].to_pylist())
        subtotal, discount = _cents(receipts, "Subtotal"), _cents(receipts, "Discount")
        tax, total = _cents(receipts, "Tax"), _cents(receipts, "Total")
        assert np.array_equal(total, subtotal - discount + tax)

        unit, qty = _cents(lines, "UnitPrice"), lines.column("Qty").to_numpy()
        line_discount, line_tax = _cents(lines, "Discount"), _cents(lines, "Tax")
        ext = _cents(lines, "ExtPrice")
        assert np.array_equal(ext, unit * qty - line_discount)
        product = lines.column("ProductID").to_numpy() - 1
        rate = ctx.store_rate_micros[store]
        assert np.array_equal(line_tax, tax_cents(ext, rate, ctx.product_tax_factor[product]))

        ids = receipts.column("ReceiptId").to_pylist()
        position = {rid: i for i, rid in enumerate(ids)}
        which = np.array([position[r] for r in lines.column("ReceiptId").to_pylist()])
        n = len(ids)
        assert np.array_equal(np.bincount(which, unit * qty, n).astype(np.int64), subtotal)
        assert np.array_equal(np.bincount(which, line_discount, n).astype(np.int64), discount)
        assert np.array_equal(np.bincount(which, line_tax, n).astype(np.int64), tax)
        assert np.array_equal(
            np.bincount(which, qty, n).astype(np.int64), receipts["ItemCount"].to_numpy()
        )
        assert (np.bincount(which, minlength=n) >= 1).all(), "a receipt without lines"
    assert kinds == {"SALE", "RETURN"}


def test_store_day_tables_match_their_declarations(ctx: FactContext) -> None:
    result = simulate_store_day(ctx, 0, date(2024, 5, 10), empty_pending())
    for name, table in result.tables.items():
        assert table.schema.equals(TABLES[name].arrow_schema, check_metadata=False), name


def test_same_inputs_give_identical_rows(ctx: FactContext) -> None:
    first = _run_days(ctx, 2, date(2024, 6, 1), 3)
    again = _run_days(ctx, 2, date(2024, 6, 1), 3)
    for a, b in zip(first, again, strict=True):
        assert a.tables.keys() == b.tables.keys()
        for name in a.tables:
            assert a.tables[name].equals(b.tables[name]), name


def test_another_seed_gives_other_rows(
    ctx: FactContext, reconfigure: Callable[..., FactContext]
) -> None:
    day = date(2024, 6, 3)
    a = simulate_store_day(ctx, 1, day, empty_pending()).tables["fact_receipts"]
    b = simulate_store_day(reconfigure(ctx, seed=ctx.seed + 1), 1, day, empty_pending())
    assert not a.equals(b.tables["fact_receipts"])


def _per_hour(table: pa.Table, value: Callable[[pa.Table], pa.Table]) -> dict[int, int]:
    hours = pc.hour(table.column("EventTS")).to_numpy()
    grouped = value(table.append_column("h", pa.array(hours)))
    return dict(zip(grouped["h"].to_pylist(), grouped["v"].to_pylist(), strict=True))


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=DAYS, store=st.integers(0, 7))
def test_foot_traffic_covers_devices_covers_receipts_every_hour(
    ctx: FactContext, day: date, store: int
) -> None:
    result = simulate_store_day(ctx, store, day, empty_pending())
    if not result.tables:
        return
    traffic = _per_hour(
        result.tables["fact_foot_traffic"],
        lambda t: t.group_by("h").aggregate([("Count", "sum")]).rename_columns(["h", "v"]),
    )
    devices = _per_hour(
        result.tables["fact_ble_pings"],
        lambda t: (
            t.group_by("h")
            .aggregate([("CustomerBLEId", "count_distinct")])
            .rename_columns(["h", "v"])
        ),
    )
    receipts = _per_hour(
        result.tables["fact_receipts"],
        lambda t: t.group_by("h").aggregate([("ReceiptId", "count")]).rename_columns(["h", "v"]),
    )
    for hour in set(traffic) | set(devices) | set(receipts):
        assert traffic.get(hour, 0) >= devices.get(hour, 0) >= receipts.get(hour, 0), hour


def test_sales_only_while_open_and_nothing_on_christmas(ctx: FactContext) -> None:
    for store in range(ctx.n_stores):
        christmas = simulate_store_day(ctx, store, date(2024, 12, 25), empty_pending())
        assert christmas.tables == {}
        tables = simulate_store_day(ctx, store, date(2024, 12, 23), empty_pending()).tables
        hours = pc.hour(tables["fact_receipts"].column("EventTS")).to_numpy()
        assert hours.min() >= ctx.store_open[store]
        assert hours.max() < ctx.store_close[store]


def test_products_are_never_sold_before_launch(ctx: FactContext) -> None:
    day = date(2024, 2, 1)
    lines = simulate_store_day(ctx, 3, day, empty_pending()).tables["fact_receipt_lines"]
    product = lines.column("ProductID").to_numpy() - 1
    assert (ctx.product_launch[product] <= day.toordinal()).all()


def test_returns_come_back_within_two_weeks_with_negative_money(ctx: FactContext) -> None:
    days = _run_days(ctx, 0, date(2024, 3, 1), 30)
    sales = pa.concat_tables(d.tables["fact_receipts"] for d in days if d.tables)
    returns = sales.filter(pc.equal(sales["ReceiptType"], "RETURN"))
    assert returns.num_rows > 0
    originals = {
        r["ReceiptId"]: r for r in sales.filter(pc.equal(sales["ReceiptType"], "SALE")).to_pylist()
    }
    for row in returns.to_pylist():
        original = originals[row["OriginalReceiptId"]]
        assert row["CustomerID"] == original["CustomerID"]
        assert 1 <= (row["EventTS"].date() - original["EventTS"].date()).days <= 14
        assert row["Total"] < 0 and row["ItemCount"] < 0


def test_items_per_ticket_mean_drives_basket_size(
    ctx: FactContext, reconfigure: Callable[..., FactContext]
) -> None:
    day = date(2024, 4, 9)

    def mean_items(c: FactContext) -> float:
        receipts = simulate_store_day(c, 0, day, empty_pending()).tables["fact_receipts"]
        return float(pc.mean(receipts["ItemCount"]).as_py())

    small = mean_items(reconfigure(ctx, items_per_ticket_mean=4.1))
    large = mean_items(reconfigure(ctx, items_per_ticket_mean=16.4))
    assert 3.0 < large / small < 5.0
