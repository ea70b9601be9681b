"""Shopper checks on hand-made tables: each fails on data that breaks it and passes on good data
(generated data passes them in tests/engine/test_historical_runs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from retail_datagen.validation import shopper_checks as S

# store 1 and 2 are ~69 miles apart (1 degree of latitude); store 3 is next to store 1
STORES = [(1, 40.0, -75.0), (2, 41.0, -75.0), (3, 40.01, -75.0)]
T0 = datetime(2024, 1, 1, 10, 0)


def _con(
    receipts: list[tuple[int | None, int, datetime, str]], customers: int = 10
) -> duckdb.DuckDBPyConnection:
    """``receipts``: (CustomerID, StoreID, EventTS, ReceiptType)."""
    con = duckdb.connect()
    con.execute('CREATE TABLE dim_stores ("ID" INT, "Latitude" DOUBLE, "Longitude" DOUBLE)')
    con.executemany("INSERT INTO dim_stores VALUES (?, ?, ?)", STORES)
    con.execute('CREATE TABLE dim_customers AS SELECT range + 1 AS "ID" FROM range(?)', [customers])
    con.execute(
        'CREATE TABLE fact_receipts ("CustomerID" INT, "StoreID" INT, "EventTS" TIMESTAMP, '
        '"ReceiptType" VARCHAR, "ReceiptId" VARCHAR)'
    )
    rows = [(*r, f"R{i:05d}") for i, r in enumerate(receipts)]
    if rows:
        con.executemany("INSERT INTO fact_receipts VALUES (?, ?, ?, ?, ?)", rows)
    return con


def _weekly(trips_per_week: int, weeks: int = 2) -> list[tuple[int | None, int, datetime, str]]:
    """Customers 1 and 2 shop ``trips_per_week`` at store 1, one trip a day."""
    return [
        (c, 1, T0 + timedelta(days=w * 7 + k), "SALE")
        for c in (1, 2)
        for w in range(weeks)
        for k in range(trips_per_week)
    ]


def test_trips_per_week_in_band_passes_and_daily_shoppers_fail() -> None:
    good = S.trips_per_week(_con(_weekly(2)))
    assert good.passed and good.measured == pytest.approx(2.0)
    bad = S.trips_per_week(_con(_weekly(7)))
    assert not bad.passed and bad.measured == pytest.approx(7.0)


def test_trips_per_week_skips_less_than_a_week() -> None:
    result = S.trips_per_week(_con([(1, 1, T0, "SALE"), (1, 1, T0 + timedelta(days=2), "SALE")]))
    assert result.passed and "skipped" in result.detail


def test_three_sale_trips_a_day_are_counted_returns_and_anonymous_are_not() -> None:
    two = [(1, 1, T0, "SALE"), (1, 1, T0 + timedelta(hours=5), "SALE")]
    extra = [
        (1, 1, T0 + timedelta(hours=1), "RETURN"),
        (None, 1, T0, "SALE"),
        (None, 1, T0, "SALE"),
    ]
    assert S.trips_a_day(_con(two + extra)).violations == 0
    three = [*two, (1, 1, T0 + timedelta(hours=7), "SALE")]
    assert S.trips_a_day(_con(three)).violations == 1


def test_driving_69_miles_in_30_minutes_is_impossible_travel() -> None:
    fast = [(1, 1, T0, "SALE"), (1, 2, T0 + timedelta(minutes=30), "RETURN")]
    assert S.travel_speed(_con(fast)).violations == 1
    slow = [(1, 1, T0, "SALE"), (1, 2, T0 + timedelta(hours=2), "SALE")]
    near = [(2, 1, T0, "SALE"), (2, 3, T0 + timedelta(minutes=5), "SALE")]
    anonymous = [(None, 1, T0, "SALE"), (None, 2, T0, "SALE")]
    assert S.travel_speed(_con(slow + near + anonymous)).violations == 0


def test_anonymous_share_outside_the_band_fails() -> None:
    # 10 customers carry ~2.3 receipts a day: 4 receipts a day is within their capacity
    day = [(1, 1, T0, "SALE"), (2, 1, T0, "SALE"), (3, 1, T0, "SALE")]
    assert S.anonymous_share(_con([*day, (None, 1, T0, "SALE")])).passed
    all_known = S.anonymous_share(_con([*day, (4, 1, T0, "SALE")]))
    assert not all_known.passed and all_known.measured == 0.0
    mostly_anonymous = [(1, 1, T0, "SALE"), (None, 1, T0, "SALE"), (None, 1, T0, "SALE")]
    assert not S.anonymous_share(_con(mostly_anonymous, customers=100)).passed


def test_anonymous_share_is_skipped_when_the_customer_base_is_small() -> None:
    many = [(None, 1, T0, "SALE")] * 30 + [(1, 1, T0, "SALE")]
    result = S.anonymous_share(_con(many, customers=10))
    assert result.passed and "skipped" in result.detail and "10 customers" in result.detail
