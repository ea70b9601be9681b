"""Returns over the calendar (SPEC §6.1, §9): a warm start, the December 26 peak, open days.

A dataset's first week already has returns at about the normal rate (returns of sales made
before it are synthesised); December 26 brings about 6× a normal December day; a return never
happens on a day its store is closed (no OPENED row in fact_store_ops that day).
"""

from __future__ import annotations

import duckdb

from retail_datagen.storage.sql import fetch_scalar
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

FIRST_WEEK_RATE = (0.5, 2.5)  # returns/day of days 1-7 ÷ returns/day of days 8-21
MIN_DAYS_FOR_WARM_START = 21
DEC26_RATIO = (5.0, 7.0)  # Dec 26 returns ÷ median daily returns of December 1-20
NORMAL_DECEMBER = (1, 20)  # the days of December that define a normal December day

_RETURN_DAYS = """
    SELECT CAST("EventTS" AS DATE) AS d, count(*) AS n FROM fact_receipts
    WHERE "ReceiptType" = 'RETURN' GROUP BY 1
"""


@check("returns: the first week at the normal rate (÷ days 8-21)", kind="range")
def warm_start(con: duckdb.DuckDBPyConnection) -> CheckResult:
    first = fetch_scalar(con, 'SELECT min(CAST("EventTS" AS DATE)) FROM fact_receipts')
    last = fetch_scalar(con, 'SELECT max(CAST("EventTS" AS DATE)) FROM fact_receipts')
    if first is None or last is None or (last - first).days + 1 < MIN_DAYS_FOR_WARM_START:
        return CheckResult.skipped(
            "", "range", f"fewer than {MIN_DAYS_FOR_WARM_START} days of receipts"
        )
    value = fetch_scalar(
        con,
        f"""
        WITH days AS (SELECT d, n, date_diff('day', DATE '{first}', d) AS k FROM ({_RETURN_DAYS}))
        SELECT (SELECT coalesce(sum(n), 0) FROM days WHERE k < 7) / 7.0
             / nullif((SELECT coalesce(sum(n), 0) FROM days WHERE k BETWEEN 7 AND 20) / 14.0, 0)
        """,
    )
    return CheckResult.range("", None if value is None else float(value), FIRST_WEEK_RATE)


@check("returns: December 26 is 5-7x a normal December day (median of Dec 1-20)", kind="range")
def december_26(con: duckdb.DuckDBPyConnection) -> CheckResult:
    lo, hi = NORMAL_DECEMBER
    rows = con.execute(
        f"""
        WITH days AS ({_RETURN_DAYS}), covered AS (
            SELECT year(CAST("EventTS" AS DATE)) AS y FROM fact_receipts
            WHERE month("EventTS") = 12 GROUP BY 1
            HAVING min(day("EventTS")) <= {lo} AND max(day("EventTS")) >= 26
        )
        SELECT c.y,
               (SELECT coalesce(sum(n), 0) FROM days
                 WHERE year(d) = c.y AND month(d) = 12 AND day(d) = 26),
               (SELECT median(n) FROM days
                 WHERE year(d) = c.y AND month(d) = 12 AND day(d) BETWEEN {lo} AND {hi})
        FROM covered c ORDER BY c.y
        """
    ).fetchall()
    rows = [r for r in rows if r[2]]
    if not rows:
        return CheckResult.skipped("", "range", "the data does not cover December 1-26")
    year, dec26, normal = rows[0]
    detail = f"December {year}: {int(dec26)} returns on the 26th, median {float(normal):g}"
    return CheckResult.range("", int(dec26) / float(normal), DEC26_RATIO, detail)


@check("returns: none on a day the store is closed")
def returns_on_open_days(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = fetch_scalar(
        con,
        """
        SELECT count(*) FROM fact_receipts r
        WHERE r."ReceiptType" = 'RETURN' AND NOT EXISTS (
            SELECT 1 FROM fact_store_ops o
            WHERE o."StoreID" = r."StoreID" AND o."Operation" = 'OPENED'
              AND CAST(o."EventTS" AS DATE) = CAST(r."EventTS" AS DATE))
        """,
    )
    return CheckResult.hard("", int(bad or 0), "open = an OPENED row in fact_store_ops that day")
