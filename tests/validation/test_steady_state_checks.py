"""The steady-state checks: each passes on a crafted steady chain, fails when that chain is
bent the way the old simulation was (stock draining, shelves emptying week by week, reorders
left waiting, near-empty legs, a saturated fleet), and skips a range too short to judge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import duckdb
import pytest

from retail_datagen.validation import steady_state_checks as checks
from retail_datagen.validation.report import CheckResult

FIRST = date(2024, 1, 1)
DAYS = 56
PRODUCTS = 50


ALL = (
    checks.delivered_over_sold,
    checks.zero_on_hand,
    checks.zero_not_growing,
    checks.reorders_shipped,
    checks.leg_fill,
    checks.fleet_busy,
)


def _chain(
    *,
    days: int = DAYS,
    delivered: Callable[[int], int] = lambda d: 100,
    zero_products: Callable[[int], int] = lambda d: 2,
    shipped: Callable[[int], bool] = lambda d: True,
    capacity: int = 250,
    leg_hours: float = 8.0,
) -> duckdb.DuckDBPyConnection:
    """One store selling 100 units a day of product 1, one DC with two trucks and one leg a
    day; at 20:00 a zero-unit count leaves ``zero_products(day)`` of the products empty."""
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE fact_store_inventory_txn ("TraceId" VARCHAR, "EventTS" TIMESTAMP,
           "StoreID" INTEGER, "ProductID" INTEGER, "QtyDelta" INTEGER, "Reason" VARCHAR,
           "SourceId" VARCHAR, "Balance" INTEGER)"""
    )
    con.execute(
        """CREATE TABLE dim_store_inventory_snapshots ("StoreID" INTEGER, "ProductID" INTEGER,
           "CurrentQuantity" INTEGER)"""
    )
    con.execute('CREATE TABLE dim_products ("ID" INTEGER, "LaunchDate" DATE)')
    con.execute(
        """CREATE TABLE fact_reorders ("EventTS" TIMESTAMP, "StoreID" INTEGER,
           "ProductID" INTEGER, "ShipmentId" VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE fact_truck_moves ("EventTS" TIMESTAMP, "TruckId" INTEGER,
           "DCID" INTEGER, "StoreID" INTEGER, "ShipmentId" VARCHAR, "Status" VARCHAR,
           "ETA" TIMESTAMP, "ETD" TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE dim_trucks ("ID" INTEGER, "DCID" INTEGER, "TruckType" VARCHAR,
           "Capacity" INTEGER)"""
    )
    con.execute(
        "INSERT INTO dim_trucks VALUES (1, 1, 'DC', ?), (2, 1, 'DC', ?), (3, NULL, 'SUPPLIER', 1)",
        [capacity, capacity],
    )
    con.execute(
        "INSERT INTO dim_products SELECT range, DATE '2020-01-01' FROM range(1, ?)",
        [PRODUCTS + 1],
    )
    con.execute(
        "INSERT INTO dim_store_inventory_snapshots SELECT 1, range, 50 FROM range(1, ?)",
        [PRODUCTS + 1],
    )
    ledger, reorders, moves = [], [], []
    for d in range(days):
        day = FIRST + timedelta(days=d)
        at = datetime.combine(day, datetime.min.time())
        sid = f"SHP-{d:04d}"
        rows = [(9, 1, delivered(d), "INBOUND_SHIPMENT", 1_000), (12, 1, -100, "SALE", 900)]
        rows += [
            (20, p, 0, "ADJUSTMENT", 0 if p <= zero_products(d) else 10)
            for p in range(1, PRODUCTS + 1)
        ]
        for k, (hour, product, delta, reason, balance) in enumerate(rows):
            trace = f"SI-0001-{day:%Y%m%d}-{k:08d}"
            ledger.append(
                (trace, at + timedelta(hours=hour), 1, product, delta, reason, sid, balance)
            )
        reorders.append((at + timedelta(minutes=20), 1, 2, sid if shipped(d) else None))
        start = at + timedelta(hours=1)
        drive = timedelta(hours=2)
        moves += [
            (start, 1, 1, 1, sid, "SCHEDULED", start + drive, start),
            (start + timedelta(minutes=30), 1, 1, 1, sid, "LOADING", None, None),
            (start + timedelta(hours=1), 1, 1, 1, sid, "IN_TRANSIT", start + drive, start),
            (start + timedelta(hours=leg_hours) - drive, 1, 1, 1, sid, "COMPLETED", None, None),
        ]
    con.executemany("INSERT INTO fact_store_inventory_txn VALUES (?,?,?,?,?,?,?,?)", ledger)
    con.executemany("INSERT INTO fact_reorders VALUES (?,?,?,?)", reorders)
    con.executemany("INSERT INTO fact_truck_moves VALUES (?,?,?,?,?,?,?,?)", moves)
    return con


def test_a_steady_chain_passes_every_check() -> None:
    con = _chain()
    for fn in ALL:
        result = fn(con)
        assert result.passed and not result.detail.startswith("skipped"), result
    shares = checks._zero_shares(con)
    assert shares == pytest.approx([2 / 50] * 4)


def test_draining_stock_fails_delivered_over_sold() -> None:
    result = checks.delivered_over_sold(_chain(delivered=lambda d: 100 if d < 40 else 60))
    assert not result.passed and result.measured == pytest.approx(0.6)


def test_piling_stock_fails_delivered_over_sold() -> None:
    assert not checks.delivered_over_sold(_chain(delivered=lambda d: 130)).passed


def test_empty_shelves_outside_the_band_fail() -> None:
    assert not checks.zero_on_hand(_chain(zero_products=lambda d: 0)).passed
    assert not checks.zero_on_hand(_chain(zero_products=lambda d: 6)).passed


def test_growing_empty_shelves_fail() -> None:
    con = _chain(zero_products=lambda d: 1 + d // 14)
    result = checks.zero_not_growing(con)
    assert not result.passed and result.measured is not None and result.measured > 0.01


def test_reorders_left_waiting_fail() -> None:
    result = checks.reorders_shipped(_chain(shipped=lambda d: d % 3 == 0))
    assert not result.passed and result.measured is not None and result.measured < 0.9


def test_near_empty_legs_fail_and_full_ones_pass() -> None:
    result = checks.leg_fill(_chain(capacity=15_000))
    assert not result.passed and result.measured == pytest.approx(100 / 15_000)


def test_a_saturated_fleet_fails() -> None:
    result = checks.fleet_busy(_chain(leg_hours=48.0))
    assert not result.passed and result.measured is not None and result.measured > 0.9


def test_a_short_range_is_skipped_with_its_reason() -> None:
    con = _chain(days=30)
    for fn in ALL:
        result: CheckResult = fn(con)
        assert result.passed and "skipped: the range has 30 days" in result.detail
