"""The returns, marketing-cost and dim_date checks fail on crafted bad data (and pass on good)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from retail_datagen.validation import cost_checks, date_checks, fact_checks, returns_checks

START = date(2024, 11, 1)


def _con(
    returns_per_day: dict[date, int], *, closed: tuple[date, ...] = ()
) -> duckdb.DuckDBPyConnection:
    """fact_receipts: a sale a day at store 1, the given returns, store ops on open days."""
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE fact_receipts ("EventTS" TIMESTAMP, "StoreID" INTEGER,
           "CustomerID" INTEGER, "ReceiptId" VARCHAR, "ReceiptType" VARCHAR,
           "OriginalReceiptId" VARCHAR, "Total" DECIMAL(12,2))"""
    )
    con.execute(
        """CREATE TABLE fact_store_ops ("EventTS" TIMESTAMP, "StoreID" INTEGER,
           "Operation" VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE fact_receipt_lines ("ReceiptId" VARCHAR, "ProductID" INTEGER,
           "Qty" INTEGER)"""
    )
    days = sorted(returns_per_day)
    for d in days:
        if d not in closed:
            con.execute("INSERT INTO fact_store_ops VALUES (?, 1, 'OPENED')", [d])
            sale = f"RCP-0001-{d:%Y%m%d}-0000000"
            con.execute(
                "INSERT INTO fact_receipts VALUES (?, 1, 5, ?, 'SALE', NULL, 10)", [d, sale]
            )
            con.execute("INSERT INTO fact_receipt_lines VALUES (?, 1, 1)", [sale])
        for k in range(returns_per_day[d]):
            original = f"RCP-0001-{d - timedelta(days=1):%Y%m%d}-0000000"
            rid = f"RTN-0001-{d:%Y%m%d}-{k:07d}"
            con.execute(
                "INSERT INTO fact_receipts VALUES (?, 1, 5, ?, 'RETURN', ?, -10)",
                [d, rid, original],
            )
    return con


def _december(dec26: int, first_week: int = 10) -> dict[date, int]:
    days = {START + timedelta(days=i): 10 for i in range(61)}  # Nov 1 - Dec 31
    for i in range(7):
        days[START + timedelta(days=i)] = first_week
    days[date(2024, 12, 25)] = 0
    days[date(2024, 12, 26)] = dec26
    return days


def test_warm_start_fails_when_the_first_week_has_no_returns() -> None:
    assert returns_checks.warm_start(_con(_december(60))).passed
    cold = returns_checks.warm_start(_con(_december(60, first_week=0)))
    assert not cold.passed and cold.measured == 0.0


def test_warm_start_is_skipped_on_short_data() -> None:
    short = {START + timedelta(days=i): 5 for i in range(10)}
    assert "skipped" in returns_checks.warm_start(_con(short)).detail


def test_december_26_ratio() -> None:
    assert returns_checks.december_26(_con(_december(60))).passed
    low = returns_checks.december_26(_con(_december(40)))  # the old ~4x
    assert not low.passed and low.measured == pytest.approx(4.0)
    assert not returns_checks.december_26(_con(_december(90))).passed
    november = {START + timedelta(days=i): 10 for i in range(30)}
    assert "December 1-26" in returns_checks.december_26(_con(november)).detail


def test_a_return_on_a_closed_day_is_counted() -> None:
    days = _december(60)
    days[date(2024, 12, 25)] = 3
    con = _con(days, closed=(date(2024, 12, 25),))
    assert returns_checks.returns_on_open_days(con).violations == 3


def _one_return(con: duckdb.DuckDBPyConnection, day: date, original: str, customer: object) -> None:
    con.execute(
        "INSERT INTO fact_receipts VALUES (?, 1, ?, 'RTN-X', 'RETURN', ?, -10)",
        [day, customer, original],
    )
    con.execute("INSERT INTO fact_receipt_lines VALUES ('RTN-X', 1, -1)")


def test_returns_of_sales_before_the_data_are_accepted_only_as_such() -> None:
    days = {START + timedelta(days=i): 0 for i in range(20)}
    ok = _con(days)
    _one_return(ok, START + timedelta(days=2), "RCP-0001-20241025-0000042", None)
    assert fact_checks.returns_refer_to_sales(ok).passed
    assert fact_checks.returned_units(ok).passed
    # a missing original dated inside the data is an error, and so is a named customer
    for original, customer in (
        ("RCP-0001-20241105-0000042", None),
        ("RCP-0001-20241025-0000042", 5),
        ("RCP-0002-20241025-0000042", None),  # another store
    ):
        bad = _con(days)
        _one_return(bad, START + timedelta(days=2), original, customer)
        assert fact_checks.returns_refer_to_sales(bad).violations == 1, original
    missing = _con(days)
    _one_return(missing, START + timedelta(days=2), "RCP-0001-20241105-0000042", None)
    assert fact_checks.returned_units(missing).violations == 1


def test_a_return_later_than_14_days_is_accepted_only_past_closed_days() -> None:
    days = {date(2024, 12, 1) + timedelta(days=i): 0 for i in range(30)}
    sale_day = date(2024, 12, 11)  # due at the latest on Dec 25 (closed): comes on Dec 26
    con = _con(days, closed=(date(2024, 12, 25),))
    _one_return(con, date(2024, 12, 26), f"RCP-0001-{sale_day:%Y%m%d}-0000000", 5)
    assert fact_checks.returns_refer_to_sales(con).passed
    late = _con(days, closed=(date(2024, 12, 25),))
    _one_return(late, date(2024, 12, 27), f"RCP-0001-{sale_day:%Y%m%d}-0000000", 5)
    assert fact_checks.returns_refer_to_sales(late).violations == 1


def _marketing(
    cost: str, channel: str = "EMAIL", device: str = "MOBILE"
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE fact_marketing AS SELECT CAST(? AS DECIMAL(12,6)) AS "Cost",
           ? AS "Channel", ? AS "Device" """,
        [cost, channel, device],
    )
    return con


def test_marketing_cost_checks() -> None:
    good = _marketing("0.001500")  # EMAIL CPM 1.5
    assert cost_checks.mean_cost(good).passed and cost_checks.cost_bands(good).passed
    old = _marketing("0.200000")  # the old per-impression bands
    assert not cost_checks.mean_cost(old).passed
    assert cost_checks.cost_bands(old).violations == 1
    desktop = _marketing("0.090000", "GOOGLE", "DESKTOP")  # CPM 60 x 1.5 = $0.09: the top
    assert cost_checks.cost_bands(desktop).passed
    assert cost_checks.cost_bands(_marketing("0.090000", "GOOGLE", "MOBILE")).violations == 1
    assert cost_checks.cost_bands(_marketing("0.001", "PIGEON")).violations == 1


def test_dim_date_must_cover_every_fact_date() -> None:
    from retail_datagen.schema import FACTS

    con = _con({date(2024, 1, 1): 0, date(2024, 1, 2): 0})
    for table in FACTS:  # every fact table has its time column; the others are empty
        if table.time_column:
            column = f'"{table.time_column}" TIMESTAMP'
            con.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({column})")
            con.execute(f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {column}")
    con.execute("""CREATE TABLE dim_date AS SELECT DATE '2024-01-01' AS "Date" """)
    assert date_checks.dates_cover_facts(con).violations == 1
    con.execute("""INSERT INTO dim_date VALUES (DATE '2024-01-02')""")
    assert date_checks.dates_cover_facts(con).passed
