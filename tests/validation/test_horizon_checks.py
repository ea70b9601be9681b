"""The horizon: each check fails on crafted bad data and passes on generated data (a range
that ends with orders in flight, generated in two runs)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from tests.volumes import generate, small_config

from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.storage.duckdb_store import open_store
from retail_datagen.validation import horizon_checks as checks
from retail_datagen.validation.runner import RANGE_VIEW, validate

END = "2024-03-07 23:59:59.999999"
GOOD_ORDERS = """INSERT INTO fact_online_orders VALUES
    ('2024-03-05 10:00', 'SHIP_FROM_DC', 'DELIVERED',
     '2024-03-05 11:00', '2024-03-05 14:00', '2024-03-07 09:00'),
    ('2024-03-06 10:00', 'BOPIS', 'PICKED_UP', '2024-03-06 15:00', NULL, '2024-03-07 12:00'),
    ('2024-03-06 10:00', 'SHIP_FROM_DC', 'SHIPPED', '2024-03-06 11:00', '2024-03-06 14:00', NULL),
    ('2024-03-07 20:00', 'SHIP_FROM_STORE', 'PICKED', '2024-03-07 21:00', NULL, NULL),
    ('2024-03-07 23:00', 'BOPIS', 'CREATED', NULL, NULL, NULL),
    ('2024-03-07 23:00', 'SHIP_FROM_DC', 'CANCELLED', NULL, NULL, NULL)"""


def _con(*rows: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW {RANGE_VIEW} AS SELECT TIMESTAMP '{END}' AS \"RangeEnd\"")
    con.execute(
        """CREATE TABLE fact_online_orders ("EventTS" TIMESTAMP, "FulfillmentMode" VARCHAR,
           "Status" VARCHAR, "PickedTS" TIMESTAMP, "ShippedTS" TIMESTAMP,
           "DeliveredTS" TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE fact_truck_moves ("EventTS" TIMESTAMP, "ETA" TIMESTAMP,
           "ETD" TIMESTAMP)"""
    )
    con.execute(GOOD_ORDERS)
    con.execute(
        "INSERT INTO fact_truck_moves VALUES ('2024-03-07 20:00', '2024-03-07 23:00', NULL)"
    )
    for row in rows:
        con.execute(row)
    return con


def test_crafted_good_data_passes() -> None:
    con = _con()
    for fn in (checks.nothing_after_the_range, checks.in_flight_status, checks.in_flight_age):
        assert fn(con).passed, fn.__name__
    assert checks.in_flight_age(con).measured == pytest.approx(1 + 14 / 24, abs=1e-6)


@pytest.mark.parametrize(
    "row",
    [  # a delivery after the range end (what runs wrote before), a truck arriving after it
        "INSERT INTO fact_online_orders VALUES ('2024-03-07 10:00', 'SHIP_FROM_DC', "
        "'DELIVERED', '2024-03-07 11:00', '2024-03-07 14:00', '2024-03-09 09:00')",
        "INSERT INTO fact_truck_moves VALUES ('2024-03-07 22:00', '2024-03-08 02:00', NULL)",
    ],
)
def test_a_timestamp_after_the_range_end_is_counted(row: str) -> None:
    result = checks.nothing_after_the_range(_con(row))
    assert not result.passed and result.violations == 1
    assert "after 2024-03-07 23:59:59.999999" in result.detail


@pytest.mark.parametrize(
    "row",
    [
        "('2024-03-07 10:00', 'SHIP_FROM_DC', 'SHIPPED', '2024-03-07 11:00', NULL, NULL)",
        "('2024-03-07 10:00', 'SHIP_FROM_DC', 'CREATED', '2024-03-07 11:00', NULL, NULL)",
        "('2024-03-07 10:00', 'BOPIS', 'SHIPPED', '2024-03-07 11:00', '2024-03-07 12:00', NULL)",
        "('2024-03-07 10:00', 'SHIP_FROM_DC', 'DELIVERED', '2024-03-07 11:00', NULL, NULL)",
        "('2024-03-07 10:00', 'SHIP_FROM_DC', 'LOST', NULL, NULL, NULL)",
    ],
)
def test_a_status_that_does_not_match_the_recorded_steps_is_counted(row: str) -> None:
    result = checks.in_flight_status(_con(f"INSERT INTO fact_online_orders VALUES {row}"))
    assert result.violations == 1


def test_an_order_in_flight_for_too_long_fails() -> None:
    stale = (
        "INSERT INTO fact_online_orders VALUES "
        "('2024-02-20 10:00', 'BOPIS', 'CREATED', NULL, NULL, NULL)"
    )
    assert not checks.in_flight_age(_con(stale)).passed


def test_without_a_recorded_range_the_range_checks_are_skipped() -> None:
    con = _con()
    con.execute(f"DROP VIEW {RANGE_VIEW}")
    assert "skipped" in checks.nothing_after_the_range(con).detail


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("horizon") / "data"
    config = small_config(
        root,
        seed=3,
        start="2024-03-01",
        online_orders_per_day=200,
        marketing_impressions_per_day=100,
    )
    generate(config, "2024-03-01", "2024-03-04")
    FactDataGenerator(config, workers=1).generate_historical_data(None, "2024-03-07")
    return root


def test_generated_data_passes_with_orders_in_flight(two_runs: Path) -> None:
    report = validate(two_runs)
    mine = [r for r in report.results if r.name.startswith("horizon:")]
    assert len(mine) == 3 and all(r.passed for r in mine), {r.name: r.detail for r in mine}
    with open_store(two_runs) as con:
        statuses = dict(
            con.execute("SELECT Status, count(*) FROM fact_online_orders GROUP BY 1").fetchall()
        )
    assert {"CREATED", "PICKED", "SHIPPED", "DELIVERED", "PICKED_UP"} <= set(statuses)
