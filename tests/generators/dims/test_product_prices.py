"""The shelf-price history: a pure function of (seed, product, day) that looks like a retailer's."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail_datagen import money
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.dims.price_model import (
    PricePlan,
    price_changes,
    price_plan,
    prices_on,
)
from retail_datagen.generators.dims.product_prices import price_history
from retail_datagen.generators.master_generator import build_dimensions

START = date(2024, 1, 1)


@pytest.fixture(scope="module")
def products() -> pa.Table:
    config = RetailConfig.from_mapping({"volume": {"total_products": 2000}})
    return build_dimensions(config)["dim_products"]


@pytest.fixture(scope="module")
def plan(products: pa.Table) -> PricePlan:
    return price_plan(7, products, START)


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def _closed(rows: list[tuple[object, ...]], through: date) -> list[tuple[object, ...]]:
    """Rows that start by ``through``, without ValidTo (which later days may set)."""
    from datetime import datetime

    end = datetime.combine(through, datetime.min.time())
    return [(r[0], r[1], r[3], r[4]) for r in rows if r[1] <= end]  # type: ignore[operator]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**31),
    offset=st.integers(0, 400),
    split=st.integers(0, 500),
    extra=st.integers(1, 500),
    first=st.integers(0, 1999),
)
def test_history_is_contiguous_within_bounds_and_the_same_however_the_range_is_split(
    products: pa.Table, seed: int, offset: int, split: int, extra: int, first: int
) -> None:
    part = products.slice(first, 40)
    start = START + timedelta(days=offset)
    plan = price_plan(seed, part, start)
    middle, last = start + timedelta(days=split), start + timedelta(days=split + extra)
    whole = price_history(plan, last)

    # deterministic under range splits: the first piece is a prefix of the whole
    assert _closed(_rows(price_history(plan, middle)), middle) == _closed(_rows(whole), middle)
    assert _rows(whole) == _rows(price_history(price_plan(seed, part, start), last))

    ids = whole.column("ProductID").to_numpy()
    start_us = whole.column("ValidFrom").cast(pa.int64()).to_numpy()
    to = whole.column("ValidTo")
    price = money.decimal_to_cents(whole.column("SalePrice"))
    order = np.lexsort((start_us, ids))
    ids, start_us, price = ids[order], start_us[order], price[order]
    to_us = to.cast(pa.int64()).to_numpy(zero_copy_only=False)[order]
    null = np.asarray(to.is_null().to_numpy(zero_copy_only=False))[order]
    last_of_product = np.append(ids[1:] != ids[:-1], True)
    # contiguous: each ValidTo is the next ValidFrom; exactly one current row per product
    assert (null == last_of_product).all()
    assert (to_us[~null] == start_us[1:][~null[:-1]]).all()
    assert np.unique(ids).size == part.num_rows
    # a change is a change, and the invariant holds for every price
    same_product = ids[1:] == ids[:-1]
    assert (price[1:][same_product] != price[:-1][same_product]).all()
    by_id = {int(i): k for k, i in enumerate(part.column("ID").to_pylist())}
    at = np.array([by_id[int(i)] for i in ids])
    cost = money.decimal_to_cents(part.column("Cost"))[at]
    msrp = money.decimal_to_cents(part.column("MSRP"))[at]
    assert ((cost < price) & (price <= msrp)).all()
    # the first row is the INITIAL price on the first day
    first_rows = np.append(True, ids[1:] != ids[:-1])
    assert (price[first_rows] == plan.initial[at[first_rows]]).all()


def test_the_table_and_the_daily_lookup_agree(plan: PricePlan) -> None:
    last = date(2025, 12, 31)
    con = duckdb.connect()
    con.register("h", price_history(plan, last))
    for day in (START, date(2024, 3, 17), date(2024, 12, 27), date(2025, 9, 10), last):
        rows = con.execute(
            "SELECT SalePrice FROM h WHERE ValidFrom <= ? AND (ValidTo IS NULL OR ValidTo > ?) "
            "ORDER BY ProductID",
            [day, day],
        ).fetchnumpy()
        cents = np.round(rows["SalePrice"].astype(float) * 100).astype(np.int64)
        assert np.array_equal(cents, prices_on(plan, day)), day


def test_daily_changes_are_the_rows_that_start_that_day(plan: PricePlan) -> None:
    con = duckdb.connect()
    con.register("h", price_history(plan, date(2024, 12, 31)))
    for day in (date(2024, 2, 9), date(2024, 9, 3), date(2024, 12, 26)):
        changes = price_changes(plan, day)
        rows = con.execute(
            "SELECT ProductID, SalePrice, Reason FROM h WHERE ValidFrom = ? ORDER BY ProductID",
            [day],
        ).fetchall()
        assert [r[0] for r in rows] == plan.product_id[changes.index].tolist()
        assert [int(r[1] * 100) for r in rows] == changes.new.tolist()
    assert price_changes(plan, START).index.size == 0


def test_prices_look_like_a_retailers(plan: PricePlan, products: pa.Table) -> None:
    history = price_history(plan, date(2024, 12, 31))
    con = duckdb.connect()
    con.register("h", history)
    con.register("p", products)
    marked = con.execute(
        "SELECT count(DISTINCT ProductID) FILTER (WHERE ValidFrom < '2024-01-29'), "
        "count(DISTINCT ProductID) FROM h WHERE Reason = 'MARKDOWN'"
    ).fetchone()
    assert marked is not None
    assert 0.15 <= marked[0] / plan.n <= 0.5  # some products on markdown in any 4 weeks
    assert marked[1] / plan.n >= 0.8  # nearly every product at least once a year
    depth = con.execute(
        "SELECT avg(1 - h.SalePrice / prev) FROM (SELECT *, lag(SalePrice) OVER "
        "(PARTITION BY ProductID ORDER BY ValidFrom) AS prev FROM h) h WHERE Reason = 'MARKDOWN'"
    ).fetchone()
    assert depth is not None and 0.08 <= depth[0] <= 0.35
    # Christmas decorations are cleared after Christmas, then return to full price
    decor = con.execute(
        "SELECT min(ValidFrom), count(DISTINCT ProductID) FROM h JOIN p ON p.ID = h.ProductID "
        "WHERE Reason = 'CLEARANCE' AND Category = 'Holiday Decor'"
    ).fetchone()
    assert decor is not None and str(decor[0]).startswith("2024-12-26") and decor[1] > 0
    # increases are small and never break MSRP (the invariant is checked above)
    increase = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE SalePrice <= prev OR SalePrice > prev * 1.05 "
        "+ 0.01) FROM (SELECT *, lag(SalePrice) OVER (PARTITION BY ProductID ORDER BY "
        "ValidFrom) AS prev FROM h) WHERE Reason = 'PRICE_INCREASE'"
    ).fetchone()
    assert increase is not None and increase[0] > 0 and increase[1] == 0  # +1-5 %, to the cent
