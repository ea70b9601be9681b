"""Shoppers behave like people (SPEC §6.1): believable trip frequency, at most two sale trips a
day, no impossible travel between a customer's receipts, and a believable anonymous share.

Hard checks count violating rows; range checks measure a figure over the whole dataset.
"""

from __future__ import annotations

import duckdb

from retail_datagen.storage.sql import fetch_one, fetch_scalar, haversine_miles_sql
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

TRIPS_PER_WEEK = (0.5, 3.0)  # sale trips a week per shopping known customer
MAX_SALE_TRIPS_A_DAY = 2
MAX_MPH = 70.0  # faster than this between two receipts of one customer is impossible travel
ANONYMOUS_SHARE = (0.20, 0.50)  # of sale receipts (real loyalty capture 50-80 %)
REFERENCE_TRIPS_PER_WEEK = 1.6  # SPEC §6.1 mean, for the customer base's capacity
# The anonymous share is only meaningful where the customer base could carry at least this
# share of the receipts at the reference frequency; below it, most receipts are anonymous by
# design (more anonymous receipts, never more trips).
MIN_CAPACITY_FOR_SHARE = 0.5

_SALES = """SELECT "CustomerID" AS c, "StoreID" AS s, "EventTS" AS t FROM fact_receipts
            WHERE "ReceiptType" = 'SALE'"""


@check("customers: sale trips a week per shopping customer", kind="range")
def trips_per_week(con: duckdb.DuckDBPyConnection) -> CheckResult:
    # Over the whole weeks from the first sale day, per customer who shopped in them: a partial
    # week or the never-seen customers of a large base would bias the rate.
    row = fetch_one(
        con,
        f"""
        WITH sales AS ({_SALES}), span AS (
            SELECT min(CAST(t AS DATE)) AS d0,
                   (date_diff('day', min(CAST(t AS DATE)), max(CAST(t AS DATE))) + 1) // 7 AS w
            FROM sales)
        SELECT any_value(w), count(*) / nullif(count(DISTINCT c) * any_value(w), 0)
        FROM sales, span
        WHERE c IS NOT NULL AND w > 0 AND CAST(t AS DATE) < d0 + CAST(w * 7 AS INTEGER)
        """,
    )
    if row is None or not row[0]:
        return CheckResult.skipped("", "range", "fewer than 7 days of sales")
    value = None if row[1] is None else float(row[1])
    return CheckResult.range("", value, TRIPS_PER_WEEK, f"over {int(row[0])} whole weeks")


@check("customers: at most two sale trips a day")
def trips_a_day(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = int(
        fetch_scalar(
            con,
            f"""
            SELECT count(*) FROM (
                SELECT c, CAST(t AS DATE) FROM ({_SALES}) WHERE c IS NOT NULL
                GROUP BY 1, 2 HAVING count(*) > {MAX_SALE_TRIPS_A_DAY})
            """,
        )
        or 0
    )
    return CheckResult.hard("", bad, "customer-days with more sale receipts")


@check("customers: no impossible travel between consecutive receipts")
def travel_speed(con: duckdb.DuckDBPyConnection) -> CheckResult:
    miles = haversine_miles_sql("a.Latitude", "a.Longitude", "b.Latitude", "b.Longitude")
    bad = int(
        fetch_scalar(
            con,
            f"""
            WITH seq AS (
                SELECT "CustomerID" AS c, "StoreID" AS s, "EventTS" AS t,
                       lag("StoreID") OVER w AS ps, lag("EventTS") OVER w AS pt
                FROM fact_receipts WHERE "CustomerID" IS NOT NULL
                WINDOW w AS (PARTITION BY "CustomerID" ORDER BY "EventTS", "ReceiptId"))
            SELECT count(*) FROM seq
            JOIN dim_stores a ON a."ID" = seq.ps JOIN dim_stores b ON b."ID" = seq.s
            WHERE seq.ps IS NOT NULL AND seq.ps <> seq.s
              AND {miles} > {MAX_MPH} * epoch(seq.t - seq.pt) / 3600.0
            """,
        )
        or 0
    )
    return CheckResult.hard("", bad, f"consecutive receipts at different stores > {MAX_MPH:g} mph")


@check("receipts: share of sale receipts without a known customer", kind="range")
def anonymous_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    row = fetch_one(
        con,
        f"""
        SELECT avg(CASE WHEN c IS NULL THEN 1.0 ELSE 0.0 END),
               count(*) / nullif(count(DISTINCT CAST(t AS DATE)), 0),
               (SELECT count(*) FROM dim_customers)
        FROM ({_SALES})
        """,
    )
    if row is None or row[0] is None:
        return CheckResult.range("", None, ANONYMOUS_SHARE)
    share, per_day, customers = float(row[0]), float(row[1]), int(row[2])
    capacity = customers * REFERENCE_TRIPS_PER_WEEK / 7 / per_day
    if capacity < MIN_CAPACITY_FOR_SHARE:
        return CheckResult.skipped(
            "",
            "range",
            f"{customers} customers at {REFERENCE_TRIPS_PER_WEEK:g} trips a week carry only "
            f"{capacity:.0%} of {per_day:.0f} sale receipts a day (anonymous: {share:.1%})",
        )
    return CheckResult.range("", share, ANONYMOUS_SHARE, "CustomerID NULL")
