"""Closed days, pick hours and launches: each check fails on crafted bad data and passes on
a generated December 20-28 (a Christmas inside, products launching weeks later)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from tests.volumes import generate, small_config

from retail_datagen.validation import stock_calendar_checks as checks
from retail_datagen.validation.runner import validate

DAYS = (date(2024, 12, 24), date(2024, 12, 25), date(2024, 12, 26))


def _con() -> duckdb.DuckDBPyConnection:
    """Store 1 open 8-22 (closed on the 25th), store 2 open 24 h; product 1 launches 2025-03-01."""
    con = duckdb.connect()
    con.execute('CREATE TABLE dim_stores ("ID" INTEGER, "OpenHour" INTEGER, "CloseHour" INTEGER)')
    con.execute("INSERT INTO dim_stores VALUES (1, 8, 22), (2, 0, 24)")
    con.execute('CREATE TABLE dim_products ("ID" INTEGER, "LaunchDate" DATE)')
    con.execute("INSERT INTO dim_products VALUES (1, '2025-03-01'), (2, '2020-01-01')")
    con.execute(
        'CREATE TABLE fact_store_ops ("EventTS" TIMESTAMP, "StoreID" INTEGER, "Operation" VARCHAR)'
    )
    for d in DAYS:
        stores = (2,) if d.day == 25 else (1, 2)
        for s in stores:
            con.execute("INSERT INTO fact_store_ops VALUES (?, ?, 'OPENED')", [d, s])
    con.execute(
        """CREATE TABLE fact_store_inventory_txn ("EventTS" TIMESTAMP, "StoreID" INTEGER,
           "ProductID" INTEGER, "QtyDelta" INTEGER, "Reason" VARCHAR, "Source" VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE fact_truck_moves ("EventTS" TIMESTAMP, "StoreID" INTEGER,
           "Status" VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE fact_online_orders ("NodeType" VARCHAR, "NodeID" INTEGER,
           "PickedTS" TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE fact_reorders ("EventTS" TIMESTAMP, "StoreID" INTEGER,
           "ProductID" INTEGER, "Priority" VARCHAR)"""
    )
    # good rows: a delivery on an open day, a 24 h store on the 25th, picks in hours
    con.execute(
        """INSERT INTO fact_store_inventory_txn VALUES
           ('2024-12-24 09:00', 1, 2, 5, 'INBOUND_SHIPMENT', 'DC'),
           ('2024-12-25 03:00', 2, 2, -1, 'SALE', 'ONLINE'),
           ('2024-12-27 10:00', 1, 2, 5, 'INBOUND_SHIPMENT', 'DC'),
           ('2024-12-26 21:59', 1, 2, -1, 'SALE', 'ONLINE')"""
    )
    con.execute("INSERT INTO fact_truck_moves VALUES ('2024-12-25 04:00', NULL, 'ARRIVED')")
    con.execute(
        """INSERT INTO fact_online_orders VALUES ('STORE', 1, '2024-12-26 08:00'),
           ('STORE', 2, '2024-12-26 02:00'), ('DC', 1, '2024-12-26 02:00'),
           ('STORE', 1, NULL)"""
    )
    con.execute(
        """INSERT INTO fact_reorders VALUES ('2025-02-20 00:20', 1, 1, 'HIGH'),
           ('2024-12-24 00:20', 1, 2, 'URGENT'), ('2024-12-24 00:20', NULL, 1, 'NORMAL')"""
    )
    return con


def test_crafted_good_data_passes() -> None:
    con = _con()
    for fn in (
        checks.closed_means_closed,
        checks.picks_in_hours,
        checks.no_early_stocking,
        checks.no_urgent_before_launch,
    ):
        assert fn(con).passed, fn.__name__


@pytest.mark.parametrize(
    "row",
    [
        "INSERT INTO fact_store_inventory_txn VALUES "
        "('2024-12-25 23:45', 1, 2, -1, 'ADJUSTMENT', 'COUNT')",
        "INSERT INTO fact_truck_moves VALUES ('2024-12-25 02:00', 1, 'UNLOADING')",
    ],
)
def test_activity_on_a_closed_day_is_counted(row: str) -> None:
    con = _con()
    con.execute(row)
    result = checks.closed_means_closed(con)
    assert not result.passed and result.violations == 1


def test_days_and_stores_without_store_ops_are_not_judged() -> None:
    con = _con()
    con.execute(  # after the last covered day, and a store fact_store_ops never mentions
        """INSERT INTO fact_truck_moves VALUES ('2024-12-27 01:00', 1, 'COMPLETED'),
           ('2024-12-25 01:00', 3, 'UNLOADING')"""
    )
    assert checks.closed_means_closed(con).passed


@pytest.mark.parametrize(
    "row",
    [
        "INSERT INTO fact_store_inventory_txn VALUES "
        "('2024-12-26 22:00', 1, 2, -1, 'SALE', 'ONLINE')",
        "INSERT INTO fact_online_orders VALUES ('STORE', 1, '2024-12-26 07:59:59')",
    ],
)
def test_a_pick_outside_opening_hours_is_counted(row: str) -> None:
    con = _con()
    con.execute(row)
    assert checks.picks_in_hours(con).violations == 1


@pytest.mark.parametrize(
    "row",
    [
        "INSERT INTO fact_reorders VALUES ('2025-02-14 00:20', 1, 1, 'NORMAL')",
        "INSERT INTO fact_store_inventory_txn VALUES "
        "('2024-12-26 09:00', 1, 1, 5, 'INBOUND_SHIPMENT', 'DC')",
    ],
)
def test_stocking_long_before_launch_is_counted(row: str) -> None:
    con = _con()
    con.execute(row)
    assert checks.no_early_stocking(con).violations == 1


def test_an_urgent_reorder_before_launch_is_counted() -> None:
    con = _con()
    con.execute(f"INSERT INTO fact_reorders VALUES ('{datetime(2025, 2, 28)}', 1, 1, 'URGENT')")
    assert checks.no_urgent_before_launch(con).violations == 1


@pytest.fixture(scope="module")
def christmas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xmas") / "data"
    config = small_config(
        root,
        seed=5,
        start="2024-12-20",
        stores=6,
        total_customers=2000,
        customers_per_day=150,
        online_orders_per_day=200,
        marketing_impressions_per_day=100,
    )
    generate(config, "2024-12-20", "2024-12-28")
    return root


def test_generated_data_passes(christmas: Path) -> None:
    report = validate(christmas)
    names = {
        "stores: no stock movement or truck at a store on a day it is closed",
        "online orders: stores pick only in opening hours",
        "reorders: nothing for a store more than 14 days before launch",
        "reorders: none URGENT for a product not yet launched",
    }
    mine = {r.name: r for r in report.results if r.name in names}
    assert set(mine) == names
    assert all(r.passed for r in mine.values()), {n: r.detail for n, r in mine.items()}
