"""Online orders: schema, money identities, payments, fulfilment, lifecycle and determinism."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.columns import US_PER_DAY, day_start_us
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.generators.facts.online_orders import generate_online_orders_day
from retail_datagen.money import decimal_to_cents, tax_cents
from retail_datagen.schema import get_table

Reconfigure = Callable[..., FactContext]
DAY = date(2024, 3, 7)
TABLES = ("fact_online_orders", "fact_online_order_lines", "fact_payments", "fact_promotions")


def _col(table: pa.Table, name: str) -> np.ndarray:
    values: np.ndarray = table.column(name).to_numpy(zero_copy_only=False)
    return values


def _us(table: pa.Table, name: str) -> np.ndarray:
    """Timestamps as int64 µs, NULL as -1."""
    values: np.ndarray = pc.fill_null(table[name].cast(pa.int64()), -1).to_numpy()
    return values


@pytest.fixture(scope="module")
def week(ctx: FactContext) -> dict[str, pa.Table]:
    days = [DAY + timedelta(days=k) for k in range(7)]
    parts = [generate_online_orders_day(ctx, d) for d in days]
    return {name: pa.concat_tables([p[name] for p in parts]) for name in TABLES}


def test_tables_match_the_registry(ctx: FactContext) -> None:
    out = generate_online_orders_day(ctx, DAY)
    assert set(out) == set(TABLES)
    for name, table in out.items():
        assert table.schema.equals(get_table(name).arrow_schema, check_metadata=False), name
        assert table.num_rows > 0


def test_same_day_is_identical_whatever_was_generated_before(ctx: FactContext) -> None:
    alone = generate_online_orders_day(ctx, DAY)
    generate_online_orders_day(ctx, DAY + timedelta(days=1))
    generate_online_orders_day(ctx, DAY - timedelta(days=5))
    again = generate_online_orders_day(ctx, DAY)
    for name in TABLES:
        assert alone[name].equals(again[name]), name


def _check_money(ctx: FactContext, out: dict[str, pa.Table]) -> None:
    orders, lines = out["fact_online_orders"], out["fact_online_order_lines"]
    n = orders.num_rows
    order_pos = {o: i for i, o in enumerate(_col(orders, "OrderId").tolist())}
    line_order = np.array([order_pos[o] for o in _col(lines, "OrderId").tolist()], dtype=np.int64)
    unit, qty = decimal_to_cents(lines["UnitPrice"]), _col(lines, "Qty").astype(np.int64)
    disc, tax, ext = (decimal_to_cents(lines[c]) for c in ("Discount", "Tax", "ExtPrice"))
    assert (ext == unit * qty - disc).all()
    assert (disc >= 0).all() and (disc <= unit * qty).all()

    def per_order(v: np.ndarray) -> np.ndarray:
        return np.bincount(line_order, weights=v, minlength=n).astype(np.int64)

    subtotal, discount = decimal_to_cents(orders["Subtotal"]), decimal_to_cents(orders["Discount"])
    tax_total, total = decimal_to_cents(orders["Tax"]), decimal_to_cents(orders["Total"])
    assert (subtotal == per_order(unit * qty)).all()
    assert (discount == per_order(disc)).all()
    assert (tax_total == per_order(tax)).all()
    assert (total == subtotal - discount + tax_total).all()
    assert (_col(orders, "ItemCount") == per_order(qty)).all()
    counts = np.bincount(line_order, minlength=n)
    assert counts.min(initial=1) >= B.ONLINE_LINES[0] and counts.max(initial=1) <= B.ONLINE_LINES[1]

    # tax at the fulfilling location's rate and the product's taxability
    node_type, node_id = _col(orders, "NodeType"), _col(orders, "NodeID")
    store_pos = np.searchsorted(ctx.store_id, node_id)
    dc_pos = np.searchsorted(ctx.dc_id, node_id)
    rate = np.where(
        node_type == "DC",
        ctx.dc_rate_micros[np.minimum(dc_pos, ctx.dc_id.size - 1)],
        ctx.store_rate_micros[np.minimum(store_pos, ctx.store_id.size - 1)],
    )
    product = np.searchsorted(ctx.product_id, _col(lines, "ProductID"))
    expected_tax = tax_cents(ext, rate[line_order], ctx.product_tax_factor[product])
    assert (tax == expected_tax).all()

    # promotions: one row per promoted order, equal to its lines' discounts
    promos = out["fact_promotions"]
    promoted = np.flatnonzero(per_order(disc) > 0)
    p_order = np.array([order_pos[o] for o in _col(promos, "OrderId").tolist()], dtype=np.int64)
    assert len(set(p_order.tolist())) == p_order.size
    assert set(promoted.tolist()) <= set(p_order.tolist())
    assert (decimal_to_cents(promos["DiscountAmount"]) == per_order(disc)[p_order]).all()
    assert promos["ReceiptId"].null_count == promos.num_rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    day=st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    seed=st.integers(min_value=0, max_value=2**32),
    per_day=st.sampled_from([0, 1, 7, 60, 400]),
)
def test_money_identities_hold_to_the_cent_for_every_order(
    ctx: FactContext, reconfigure: Reconfigure, day: date, seed: int, per_day: int
) -> None:
    small = reconfigure(ctx, seed=seed, online_orders_per_day=per_day)
    out = generate_online_orders_day(small, day)
    for name, table in out.items():
        assert table.schema.equals(get_table(name).arrow_schema, check_metadata=False)
    _check_money(small, out)
    _check_payments(out)


def _check_payments(out: dict[str, pa.Table]) -> None:
    orders, payments = out["fact_online_orders"], out["fact_payments"]
    approved = payments.filter(pc.equal(payments["Status"], "APPROVED"))
    live = orders.filter(pc.not_equal(orders["Status"], "CANCELLED"))
    # exactly one approved payment per order that is not cancelled, in order sequence
    assert _col(approved, "OrderId").tolist() == _col(live, "OrderId").tolist()
    assert (decimal_to_cents(approved["Amount"]) == decimal_to_cents(live["Total"])).all()
    assert _col(approved, "TenderType").tolist() == _col(live, "TenderType").tolist()
    assert (_col(approved, "CustomerID") == _col(live, "CustomerID")).all()
    cancelled = set(_col(orders, "OrderId")[_col(orders, "Status") == "CANCELLED"].tolist())
    assert not cancelled & set(_col(payments, "OrderId").tolist())
    assert payments["ReceiptId"].null_count == payments.num_rows
    assert set(_col(orders, "TenderType")) <= set(B.ONLINE_TENDERS)
    # a store node's payments carry that store, a DC's carry none
    store_of_order = dict(
        zip(
            _col(live, "OrderId").tolist(),
            np.where(_col(live, "NodeType") == "STORE", _col(live, "NodeID"), -1).tolist(),
            strict=True,
        )
    )
    pay_store = pc.fill_null(payments["StoreID"], -1).to_numpy()
    assert [store_of_order[o] for o in _col(payments, "OrderId").tolist()] == pay_store.tolist()


def test_one_approved_payment_per_live_order_and_none_for_cancelled(
    week: dict[str, pa.Table],
) -> None:
    _check_payments(week)
    assert (week["fact_payments"]["Status"].to_numpy(zero_copy_only=False) == "DECLINED").any()


def test_fulfilment_mix_and_cancellations_match_the_configuration(
    week: dict[str, pa.Table],
) -> None:
    orders = week["fact_online_orders"]
    n = orders.num_rows
    mode = _col(orders, "FulfillmentMode")
    for name, p in zip(B.FULFILLMENT_MODES, B.FULFILLMENT_P, strict=True):
        assert abs((mode == name).mean() - p) < 5 * np.sqrt(p * (1 - p) / n), name
    cancelled = (_col(orders, "Status") == "CANCELLED").mean()
    rate = B.ONLINE_CANCEL_RATE
    assert abs(cancelled - rate) < 5 * np.sqrt(rate * (1 - rate) / n)


def test_fulfilment_node_is_the_home_store_or_its_serving_dc(
    ctx: FactContext, week: dict[str, pa.Table]
) -> None:
    orders = week["fact_online_orders"]
    customer = np.searchsorted(ctx.customer_id, _col(orders, "CustomerID"))
    home = ctx.customer_home[customer]
    mode, node_type, node = (_col(orders, c) for c in ("FulfillmentMode", "NodeType", "NodeID"))
    dc = mode == "SHIP_FROM_DC"
    assert (node_type[dc] == "DC").all() and (node_type[~dc] == "STORE").all()
    assert (node[dc] == ctx.store_dc[home[dc]]).all()
    assert (node[~dc] == ctx.store_id[home[~dc]]).all()
    promos = week["fact_promotions"]
    order_node = dict(zip(_col(orders, "OrderId").tolist(), node.tolist(), strict=True))
    order_type = dict(zip(_col(orders, "OrderId").tolist(), node_type.tolist(), strict=True))
    for oid, store in zip(
        _col(promos, "OrderId").tolist(), promos["StoreID"].to_pylist(), strict=True
    ):
        assert store == (order_node[oid] if order_type[oid] == "STORE" else None)


def stores_of(ctx: FactContext, orders: pa.Table) -> np.ndarray:
    found: np.ndarray = np.searchsorted(ctx.store_id, _col(orders, "NodeID"))
    return found


def test_lifecycle_timestamps_are_ordered(ctx: FactContext, week: dict[str, pa.Table]) -> None:
    orders = week["fact_online_orders"]
    event, picked = _us(orders, "EventTS"), _us(orders, "PickedTS")
    shipped, delivered = _us(orders, "ShippedTS"), _us(orders, "DeliveredTS")
    status, mode = _col(orders, "Status"), _col(orders, "FulfillmentMode")
    cancelled = status == "CANCELLED"
    assert (picked[cancelled] == -1).all() and (shipped[cancelled] == -1).all()
    assert (delivered[cancelled] == -1).all()
    ship = ~cancelled & (mode != "BOPIS")
    bopis = ~cancelled & (mode == "BOPIS")
    assert (status[ship] == "DELIVERED").all() and (status[bopis] == "PICKED_UP").all()
    assert (event[ship] < picked[ship]).all()
    assert (picked[ship] < shipped[ship]).all() and (shipped[ship] < delivered[ship]).all()
    assert (shipped[bopis] == -1).all()
    assert (event[bopis] < picked[bopis]).all() and (picked[bopis] < delivered[bopis]).all()
    hour = 3_600_000_000
    dc = ship & (mode == "SHIP_FROM_DC")
    assert ((picked - event)[ship] >= hour // 2).all()
    assert ((picked - event)[dc] <= 4 * hour).all()  # a store picks when it is open
    at_store = ~cancelled & (mode != "SHIP_FROM_DC")
    at_store_s = stores_of(ctx, orders)[at_store].tolist()
    for s, t in zip(at_store_s, picked[at_store].tolist(), strict=True):
        day = date.fromordinal(t // US_PER_DAY + date(1970, 1, 1).toordinal())
        window = open_window(ctx, s, day)
        assert window is not None and window[0] <= (t % US_PER_DAY) // 10**6 < window[1]
    assert ((delivered - shipped)[dc] >= 24 * hour).all()
    assert ((delivered - shipped)[dc] <= 72 * hour).all()
    # BOPIS orders are collected while the store is open
    stores = np.searchsorted(ctx.store_id, _col(orders, "NodeID"))
    for s, t in zip(stores[bopis].tolist(), delivered[bopis].tolist(), strict=True):
        day = date.fromordinal(t // US_PER_DAY + date(1970, 1, 1).toordinal())
        window = open_window(ctx, s, day)
        assert window is not None and window[0] <= (t - day_start_us(day)) / 1e6 < window[1]


def test_orders_lines_and_payments_have_unique_ids(week: dict[str, pa.Table]) -> None:
    for name, key in (
        ("fact_online_orders", "OrderId"),
        ("fact_payments", "PaymentId"),
        ("fact_online_orders", "TraceId"),
        ("fact_online_order_lines", "TraceId"),
        ("fact_payments", "TraceId"),
        ("fact_promotions", "TraceId"),
    ):
        values = _col(week[name], key)
        assert len(set(values.tolist())) == values.size, (name, key)
    lines = week["fact_online_order_lines"]
    pairs = set(zip(_col(lines, "OrderId").tolist(), _col(lines, "Line").tolist(), strict=True))
    assert len(pairs) == lines.num_rows
    assert _col(week["fact_online_orders"], "OrderId")[0] == "ORD-20240307-0000000"


def test_lines_share_their_order_time_and_orders_stay_on_their_day(
    week: dict[str, pa.Table],
) -> None:
    orders, lines, payments = (
        week[t] for t in ("fact_online_orders", "fact_online_order_lines", "fact_payments")
    )
    order_ts = dict(
        zip(_col(orders, "OrderId").tolist(), _us(orders, "EventTS").tolist(), strict=True)
    )
    assert [order_ts[o] for o in _col(lines, "OrderId").tolist()] == _us(lines, "EventTS").tolist()
    day_of_order = {o: t // US_PER_DAY for o, t in order_ts.items()}
    pay_day = _us(payments, "EventTS") // US_PER_DAY
    assert [day_of_order[o] for o in _col(payments, "OrderId").tolist()] == pay_day.tolist()
    assert (np.diff(_us(orders, "EventTS")) >= 0).all()  # OrderIds follow order time


def test_black_friday_cyber_monday_and_december_are_busier(ctx: FactContext) -> None:
    def count(d: date) -> int:
        return int(generate_online_orders_day(ctx, d)["fact_online_orders"].num_rows)

    march = np.mean([count(date(2024, 3, 4) + timedelta(days=k)) for k in range(7)])
    december = np.mean([count(date(2024, 12, 9) + timedelta(days=k)) for k in range(7)])
    assert december > 1.2 * march
    assert count(date(2024, 11, 29)) > 2 * march  # Black Friday
    assert count(date(2024, 12, 2)) > 2 * march  # Cyber Monday
