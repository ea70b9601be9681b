"""The replenishment policy: levels cover the days between deliveries, small stores are
delivered every few days, the fleet follows the work, and a chain started from its snapshots is
steady from the first weeks (the old snapshots held two months of sales and drained)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
from tests.volumes import generate, small_config

from retail_datagen.generators.facts import stock_policy as P

BUSY = {
    "stores": 3,
    "dcs": 1,
    "total_geographies": 20,
    "total_customers": 3000,
    "total_products": 200,
    "customers_per_day": 300,
    "online_orders_per_day": 30,
    "marketing_impressions_per_day": 100,
    "truck_capacity": 3000,
}


def test_levels_cover_the_days_until_the_next_delivery() -> None:
    velocity = np.array([[40.0, 0.1], [40.0, 0.1]])
    rop, up_to = P.store_levels(velocity, np.array([1, 3]), shelf=20)
    assert rop[0, 0] == np.ceil(P.STORE_ROP_DAYS * 40)
    assert rop[1, 0] - rop[0, 0] == up_to[1, 0] - up_to[0, 0] == 80  # two more days to cover
    assert rop[0, 1] == 2 and up_to[0, 1] == 20  # a slow seller: its presentation stock
    assert (up_to >= rop + P.STORE_CASE_PACK).all()


def test_small_stores_are_delivered_every_few_days_on_staggered_days() -> None:
    review = P.review_days(np.array([50_000.0, 6_000.0, 100.0]), 15_000)
    assert review.tolist() == [1, 2, P.MAX_REVIEW_DAYS]
    days = [date(2024, 1, d) for d in range(1, 8)]
    due = np.array([P.delivery_day(np.array([1, 2]), np.array([2, 2]), d) for d in days])
    assert due.sum(axis=0).tolist() in ([4, 3], [3, 4]) and not (due[:, 0] & due[:, 1]).any()


def test_the_fleet_follows_the_work() -> None:
    units = np.array([100_000.0, 100_000.0, 5_000.0])
    cold, dry = P.fleet_size(units, np.array([2.0, 6.0, 2.0]), np.array([0, 1, 1]), 3, 15_000)
    assert cold[1] > cold[0] and dry[1] > dry[0]  # farther stores keep trucks longer
    assert cold[2] == 0 and dry[2] == 1  # a DC without stores keeps one truck
    split = P.supplier_split(np.array([True] * 4 + [False] * 8), units, np.array([3.0, 9, 3]))
    assert np.bincount(split[4:], minlength=3).tolist()[1] == max(np.bincount(split[4:]))


def test_the_supplier_fleet_covers_each_dcs_inbound_within_the_busy_bound() -> None:
    units, travel = np.array([150_000.0, 150_000.0, 0.0]), np.array([3.0, 9.0, 3.0])
    cold, dry = P.supplier_fleet_size(units, travel, 15_000)
    legs_a_day = np.array([3, 1, 3])  # 23.5 working hours: 5.6 h first leg, 8.6 h each further
    for n, share in ((cold, P.REFRIGERATED_UNIT_SHARE), (dry, 1 - P.REFRIGERATED_UNIT_SHARE)):
        legs = np.ceil(units * share * P.FLEET_PEAK / 15_000)  # a peak day's full legs
        assert n == np.ceil(legs / (legs_a_day * P.FLEET_BUSY)).sum()
        assert n * P.FLEET_BUSY >= (legs / legs_a_day).sum()  # no more than FLEET_BUSY busy
    near = P.supplier_fleet_size(units[[0, 2, 2]], travel, 15_000)
    far = P.supplier_fleet_size(units[[2, 1, 2]], travel, 15_000)
    assert far[0] > near[0] and far[1] > near[1]  # a near DC's trucks make more trips a day
    assert P.supplier_fleet_size(np.zeros(2), travel[:2], 15_000) == (1, 1)


def test_the_starting_stock_lies_between_the_reorder_point_and_the_order_up_to_level() -> None:
    rop, up_to = np.array([5.0, 10.0]), np.array([17.0, 40.0])
    for u in (0.0, 0.5, 0.999):
        held = P.starting_stock(rop, up_to, np.full(2, u))
        assert (rop <= held).all() and (held <= up_to).all()


@pytest.fixture(scope="module")
def busy_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("steady") / "data"
    generate(small_config(root, seed=5, **BUSY), "2024-01-01", "2024-01-28")
    return root


def _flow(root: Path, first: str, last: str) -> float:
    with duckdb.connect(str(root / "retail.duckdb"), read_only=True) as con:
        row = con.execute(
            """SELECT sum("QtyDelta") FILTER (WHERE "Reason" = 'INBOUND_SHIPMENT')
                      / -sum("QtyDelta") FILTER (WHERE "Reason" = 'SALE')
               FROM fact_store_inventory_txn WHERE CAST("EventTS" AS DATE) BETWEEN ? AND ?""",
            [first, last],
        ).fetchone()
    assert row is not None
    return float(row[0])


def test_stock_neither_drains_nor_piles_up_from_the_first_weeks(busy_month: Path) -> None:
    assert 0.9 <= _flow(busy_month, "2024-01-01", "2024-01-14") <= 1.1  # was 0.76
    assert 0.9 <= _flow(busy_month, "2024-01-15", "2024-01-28") <= 1.1


def test_store_reorders_ship_the_same_day(busy_month: Path) -> None:
    with duckdb.connect(str(busy_month / "retail.duckdb"), read_only=True) as con:
        row = con.execute(
            """SELECT avg(CASE WHEN "ShipmentId" IS NULL THEN 0 ELSE 1 END)
               FROM fact_reorders WHERE "StoreID" IS NOT NULL"""
        ).fetchone()
    assert row is not None and row[0] >= 0.9


def test_stores_stock_up_ahead_of_known_peaks_only() -> None:
    assert P.peak_lift(date(2024, 11, 26)) > 1.8  # the week of Black Friday
    assert P.peak_lift(date(2024, 12, 12)) > 1.2  # the Christmas run-up
    assert P.peak_lift(date(2024, 3, 6)) == 1.0  # an ordinary week: the weekday cycle cancels
