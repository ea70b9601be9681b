"""A steady state (SPEC §6.3): after a warm-up, store stock neither drains nor piles up, the
shelves are empty about as often as in real stores and not more so week by week, reorders ship
within two days, and the DC fleet runs reasonably full legs without being saturated.

Every figure is measured after STEADY_WARM_UP_DAYS from the first day of the store ledger; a range
shorter than the warm-up plus one WINDOW_DAYS window has nothing to judge and is skipped.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from retail_datagen.storage.duckdb_store import table_exists
from retail_datagen.storage.sql import fetch_one, fetch_scalar
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__ = ["STEADY_SQL", "steady_window"]

STEADY_WARM_UP_DAYS = 28
WINDOW_DAYS = 14
DELIVERED_OVER_SOLD = (0.9, 1.1)  # over every trailing WINDOW_DAYS after the warm-up
ZERO_ON_HAND = (0.02, 0.08)  # launched store-products at zero at the end of a week's last day
ZERO_GROWTH = 0.01  # the zero share of the last two weeks over the first two: at most +1 point
SHIPPED_IN_TWO_DAYS = 0.90  # store reorders with a shipment that day or the next
MEDIAN_LEG_FILL = 0.30  # units on a DC leg / the truck's capacity
MAX_FLEET_BUSY = 0.90  # of a DC fleet's truck-days, incl. the drive back

STEADY_SQL = {
    # per day: units delivered to and sold by all stores
    "flow": """
        SELECT CAST("EventTS" AS DATE) AS day,
               coalesce(sum("QtyDelta") FILTER (WHERE "Reason" = 'INBOUND_SHIPMENT'), 0)
                   AS delivered,
               coalesce(-sum("QtyDelta") FILTER (WHERE "Reason" = 'SALE'), 0) AS sold
        FROM fact_store_inventory_txn GROUP BY 1""",
    # per week after the warm-up (w = weeks since the first day): launched store-products whose
    # last balance up to the end of the week is 0 (the snapshot when they never moved)
    "zero": """
        WITH weekly AS (
            SELECT "StoreID" AS s, "ProductID" AS p,
                   date_diff('day', $first, CAST("EventTS" AS DATE)) // 7 AS w,
                   arg_max("Balance", "TraceId") AS balance
            FROM fact_store_inventory_txn GROUP BY ALL),
        grid AS (
            SELECT i."StoreID" AS s, i."ProductID" AS p, i."CurrentQuantity" AS q, g.w
            FROM dim_store_inventory_snapshots i
            JOIN dim_products d ON d."ID" = i."ProductID"
            CROSS JOIN range($first_week, $weeks) g(w)
            WHERE d."LaunchDate" <= $first + CAST(7 * g.w + 6 AS INTEGER))
        SELECT g.w, avg(CASE WHEN coalesce(x.balance, g.q) = 0 THEN 1.0 ELSE 0.0 END) AS share
        FROM grid g ASOF LEFT JOIN weekly x ON x.s = g.s AND x.p = g.p AND g.w >= x.w
        GROUP BY 1 ORDER BY 1""",
    # store reorders of a day and whether a shipment for the store-product left then or next day
    "reorders": """
        WITH r AS (
            SELECT "StoreID" AS s, "ProductID" AS p, CAST("EventTS" AS DATE) AS day,
                   count(*) AS n, bool_or("ShipmentId" IS NOT NULL) AS shipped
            FROM fact_reorders WHERE "StoreID" IS NOT NULL GROUP BY ALL)
        SELECT a.day, sum(a.n) AS reorders,
               sum(a.n) FILTER (WHERE a.shipped OR coalesce(b.shipped, false)) AS in_two_days
        FROM r a LEFT JOIN r b ON b.s = a.s AND b.p = a.p AND b.day = a.day + 1
        GROUP BY 1""",
    # DC legs to stores: units unloaded / the truck's capacity
    "legs": """
        WITH units AS (
            SELECT "SourceId" AS sid, min(CAST("EventTS" AS DATE)) AS day, sum("QtyDelta") AS q
            FROM fact_store_inventory_txn WHERE "Reason" = 'INBOUND_SHIPMENT' GROUP BY 1),
        cap AS (
            SELECT m."ShipmentId" AS sid, any_value(t."Capacity") AS c
            FROM fact_truck_moves m JOIN dim_trucks t ON t."ID" = m."TruckId"
            WHERE m."Status" = 'LOADING' AND m."StoreID" IS NOT NULL GROUP BY 1)
        SELECT u.day, u.q / c.c AS fill FROM units u JOIN cap c USING (sid)""",
    # per DC and day: hours its trucks are out (scheduled -> completed, and the drive back)
    "busy": """
        WITH leg AS (
            SELECT m."DCID" AS dc, CAST(min(m."EventTS") AS DATE) AS day,
                   epoch(max(m."EventTS") - min(m."EventTS"))
                   + coalesce(epoch(any_value(m."ETA" - m."ETD")
                                    FILTER (WHERE m."Status" = 'IN_TRANSIT')), 0) AS busy_s
            FROM fact_truck_moves m JOIN dim_trucks t ON t."ID" = m."TruckId"
            WHERE t."TruckType" = 'DC' GROUP BY m."DCID", m."ShipmentId")
        SELECT l.dc, l.day, sum(l.busy_s) / 3600.0 AS hours, any_value(f.n) AS trucks
        FROM leg l JOIN (SELECT "DCID" AS dc, count(*) AS n FROM dim_trucks
                         WHERE "TruckType" = 'DC' GROUP BY 1) f USING (dc)
        GROUP BY 1, 2""",
}


def _rows(
    con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None
) -> list[tuple[Any, ...]]:
    return con.execute(query, params or []).fetchall()


def steady_window(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | str:
    """(first day after the warm-up, last day), or why the range cannot be judged."""
    if not table_exists(con, "fact_store_inventory_txn"):
        return "no store ledger"
    row = fetch_one(
        con,
        'SELECT min(CAST("EventTS" AS DATE)), max(CAST("EventTS" AS DATE)) '
        "FROM fact_store_inventory_txn",
    )
    if row is None or row[0] is None:
        return "no store ledger rows"
    first, last = row
    days = (last - first).days + 1
    if days < STEADY_WARM_UP_DAYS + WINDOW_DAYS:
        return (
            f"the range has {days} days; a steady state needs {STEADY_WARM_UP_DAYS + WINDOW_DAYS} "
            f"({STEADY_WARM_UP_DAYS}-day warm-up + {WINDOW_DAYS})"
        )
    return first + timedelta(days=STEADY_WARM_UP_DAYS), last


def _skip_or(con: duckdb.DuckDBPyConnection, name: str) -> tuple[date, date] | CheckResult:
    window = steady_window(con)
    return CheckResult.skipped(name, "range", window) if isinstance(window, str) else window


@check("stock: units delivered to stores / sold over every trailing 14 days", kind="range")
def delivered_over_sold(con: duckdb.DuckDBPyConnection) -> CheckResult:
    window = _skip_or(con, "")
    if isinstance(window, CheckResult):
        return window
    start, _ = window
    rows = _rows(
        con,
        f"""SELECT sum(delivered) OVER w / nullif(sum(sold) OVER w, 0) AS ratio, day
            FROM ({STEADY_SQL["flow"]}) f
            WINDOW w AS (ORDER BY day RANGE BETWEEN INTERVAL {WINDOW_DAYS - 1} DAYS PRECEDING
                         AND CURRENT ROW)
            QUALIFY day >= ? + INTERVAL {WINDOW_DAYS - 1} DAYS""",
        [start],
    )
    ratios = [float(r[0]) for r in rows if r[0] is not None]
    if not ratios:
        return CheckResult.range("", None, DELIVERED_OVER_SOLD)
    low, high = min(ratios), max(ratios)
    worst = low if 1 - low >= high - 1 else high
    return CheckResult.range(
        "", worst, DELIVERED_OVER_SOLD, f"{len(ratios)} windows from {low:.3f} to {high:.3f}"
    )


def _zero_shares(con: duckdb.DuckDBPyConnection) -> list[float] | str:
    window = steady_window(con)
    if isinstance(window, str):
        return window
    start, last = window
    first = start - timedelta(days=STEADY_WARM_UP_DAYS)
    weeks = ((last - first).days + 1) // 7  # whole weeks only
    query = (
        STEADY_SQL["zero"]
        .replace("$first_week", str(STEADY_WARM_UP_DAYS // 7))
        .replace("$weeks", str(weeks))
        .replace("$first", f"DATE '{first.isoformat()}'")
    )
    return [float(r[1]) for r in _rows(con, query)]


@check("stock: launched store-products at zero on hand at the end of a week", kind="range")
def zero_on_hand(con: duckdb.DuckDBPyConnection) -> CheckResult:
    shares = _zero_shares(con)
    if isinstance(shares, str):
        return CheckResult.skipped("", "range", shares)
    worst = max(shares, key=lambda s: abs(s - sum(ZERO_ON_HAND) / 2), default=None)
    detail = "weekly: " + ", ".join(f"{s:.1%}" for s in shares)
    return CheckResult.range("", worst, ZERO_ON_HAND, detail)


@check("stock: zero-on-hand share not growing (last two weeks - first two)", kind="range")
def zero_not_growing(con: duckdb.DuckDBPyConnection) -> CheckResult:
    shares = _zero_shares(con)
    if isinstance(shares, str):
        return CheckResult.skipped("", "range", shares)
    if len(shares) < 4:
        return CheckResult.skipped("", "range", f"{len(shares)} weeks after the warm-up; need 4")
    growth = (shares[-1] + shares[-2] - shares[0] - shares[1]) / 2
    return CheckResult.range("", growth, (-1.0, ZERO_GROWTH), "share points")


@check("reorders: store reorders shipped the same or the next day", kind="range")
def reorders_shipped(con: duckdb.DuckDBPyConnection) -> CheckResult:
    window = _skip_or(con, "")
    if isinstance(window, CheckResult):
        return window
    start, last = window
    row = fetch_one(
        con,
        f"SELECT sum(in_two_days), sum(reorders) FROM ({STEADY_SQL['reorders']}) r "
        "WHERE day >= ? AND day < ?",  # the last day's next day is not generated
        [start, last],
    )
    shipped, total = (0, 0) if row is None else (row[0] or 0, row[1] or 0)
    share = float(shipped) / total if total else None
    return CheckResult.range("", share, (SHIPPED_IN_TWO_DAYS, 1.0), f"{total:,} reorders")


@check("trucks: median DC leg fill (units / capacity)", kind="range")
def leg_fill(con: duckdb.DuckDBPyConnection) -> CheckResult:
    window = _skip_or(con, "")
    if isinstance(window, CheckResult):
        return window
    value = fetch_scalar(
        con, f"SELECT median(fill) FROM ({STEADY_SQL['legs']}) l WHERE day >= ?", [window[0]]
    )
    return CheckResult.range("", None if value is None else float(value), (MEDIAN_LEG_FILL, 1.0))


@check("trucks: busiest DC fleet, share of its truck-days on the road", kind="range")
def fleet_busy(con: duckdb.DuckDBPyConnection) -> CheckResult:
    window = _skip_or(con, "")
    if isinstance(window, CheckResult):
        return window
    start, last = window
    days = (last - start).days + 1
    row = fetch_one(
        con,
        f"""SELECT dc, sum(hours) / (any_value(trucks) * 24.0 * ?) AS busy
            FROM ({STEADY_SQL["busy"]}) b WHERE day >= ? GROUP BY dc ORDER BY busy DESC LIMIT 1""",
        [days, start],
    )
    if row is None:
        return CheckResult.range("", None, (0.0, MAX_FLEET_BUSY))
    return CheckResult.range("", float(row[1]), (0.0, MAX_FLEET_BUSY), f"DC {row[0]}")
