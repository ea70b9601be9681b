"""Stock and the calendar (SPEC §6.3): closed stores stay closed, picks in opening hours,
nothing is replenished long before its launch and no unlaunched slot is urgent.

A store's day is open when fact_store_ops has an OPENED row for it; store-days outside the
dates fact_store_ops covers (or stores it never mentions) cannot be judged and are skipped.
"""

from __future__ import annotations

import duckdb

from retail_datagen.generators.facts.replenishment import PRELAUNCH_DAYS
from retail_datagen.storage.sql import fetch_scalar
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(fetch_scalar(con, query) or 0)


def _closed_day_rows(table: str, where: str = "TRUE") -> str:
    """Rows of ``table`` at a store on a covered day with no OPENED row for it."""
    return f"""
        (SELECT count(*) FROM {table} x
         JOIN (SELECT "StoreID", min(CAST("EventTS" AS DATE)) AS lo,
                      max(CAST("EventTS" AS DATE)) AS hi
               FROM fact_store_ops GROUP BY 1) c
           ON c."StoreID" = x."StoreID"
          AND CAST(x."EventTS" AS DATE) BETWEEN c.lo AND c.hi
         WHERE {where} AND NOT EXISTS (
             SELECT 1 FROM fact_store_ops o
             WHERE o."StoreID" = x."StoreID" AND o."Operation" = 'OPENED'
               AND CAST(o."EventTS" AS DATE) = CAST(x."EventTS" AS DATE)))"""


@check("stores: no stock movement or truck at a store on a day it is closed")
def closed_means_closed(con: duckdb.DuckDBPyConnection) -> CheckResult:
    ledger = _closed_day_rows("fact_store_inventory_txn")
    trucks = _closed_day_rows("fact_truck_moves", 'x."StoreID" IS NOT NULL')
    return CheckResult.hard(
        "",
        _count(con, f"SELECT {ledger} + {trucks}"),
        "closed = no OPENED row in fact_store_ops that day",
    )


def _outside_hours(ts: str) -> str:
    """SQL: ``ts`` falls outside its store's opening hours (24-hour stores never do)."""
    seconds = f"(hour({ts}) * 3600 + minute({ts}) * 60 + second({ts}))"
    return f"""NOT (s."OpenHour" = 0 AND s."CloseHour" = 24)
               AND ({seconds} < s."OpenHour" * 3600 OR {seconds} >= s."CloseHour" * 3600)"""


@check("online orders: stores pick only in opening hours")
def picks_in_hours(con: duckdb.DuckDBPyConnection) -> CheckResult:
    ledger = f"""
        (SELECT count(*) FROM fact_store_inventory_txn x
         JOIN dim_stores s ON s."ID" = x."StoreID"
         WHERE x."Source" = 'ONLINE' AND {_outside_hours('x."EventTS"')})"""
    picked = f"""
        (SELECT count(*) FROM fact_online_orders o
         JOIN dim_stores s ON s."ID" = o."NodeID"
         WHERE o."NodeType" = 'STORE' AND o."PickedTS" IS NOT NULL
           AND {_outside_hours('o."PickedTS"')})"""
    return CheckResult.hard(
        "", _count(con, f"SELECT {ledger} + {picked}"), "store ledger ONLINE rows and PickedTS"
    )


@check(f"reorders: nothing for a store more than {PRELAUNCH_DAYS} days before launch")
def no_early_stocking(con: duckdb.DuckDBPyConnection) -> CheckResult:
    early = f'CAST(x."EventTS" AS DATE) < p."LaunchDate" - INTERVAL {PRELAUNCH_DAYS} DAY'
    reorders = f"""
        (SELECT count(*) FROM fact_reorders x JOIN dim_products p ON p."ID" = x."ProductID"
         WHERE x."StoreID" IS NOT NULL AND {early})"""
    shipped = f"""
        (SELECT count(*) FROM fact_store_inventory_txn x
         JOIN dim_products p ON p."ID" = x."ProductID"
         WHERE x."Reason" = 'INBOUND_SHIPMENT' AND {early})"""
    return CheckResult.hard(
        "", _count(con, f"SELECT {reorders} + {shipped}"), "store reorders and deliveries"
    )


@check("reorders: none URGENT for a product not yet launched")
def no_urgent_before_launch(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_reorders x JOIN dim_products p ON p."ID" = x."ProductID"
        WHERE x."Priority" = 'URGENT' AND CAST(x."EventTS" AS DATE) < p."LaunchDate"
        """,
    )
    return CheckResult.hard("", bad)
