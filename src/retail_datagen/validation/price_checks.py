"""Invariants of the shelf-price history (SPEC §5 dim_product_prices, §6.1 "Prices move", §9).

Every sale line and online line is priced from ``dim_product_prices`` at its EventTS, the history
of each product is one contiguous chain of half-open [ValidFrom, ValidTo) intervals ending in one
current row, every price in it keeps Cost < SalePrice ≤ MSRP, and ``dim_products.SalePrice`` is
the current one. Lines are matched with an ASOF join (the latest row that starts at or before the
line), which stays linear in the number of lines however long the history grows; contiguity is
checked separately, so ASOF matching equals interval matching when both pass.
"""

from __future__ import annotations

import duckdb

from retail_datagen.storage.sql import fetch_one, fetch_scalar
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

REDUCED_LINE_SHARE = (0.02, 0.40)  # share of sale lines sold at a MARKDOWN or CLEARANCE price
MIN_LINES_FOR_SHARE = 1_000  # fewer lines: nothing meaningful to measure
PRICE_WARM_UP_DAYS = 14  # markdowns start after the history's first day: measure after a warm-up

# Sale lines (in-store SALE receipts) and online order lines, with what they were charged.
_PRICED_LINES = """
    SELECT l."ProductID", l."EventTS", l."UnitPrice"
    FROM fact_receipt_lines l JOIN fact_receipts r USING ("ReceiptId")
    WHERE r."ReceiptType" = 'SALE'
    UNION ALL
    SELECT "ProductID", "EventTS", "UnitPrice" FROM fact_online_order_lines
"""
_MATCHED = f"""
    SELECT l.*, p."SalePrice" AS "ShelfPrice", p."Reason", p."ValidTo"
    FROM ({_PRICED_LINES}) l ASOF LEFT JOIN dim_product_prices p
      ON l."ProductID" = p."ProductID" AND l."EventTS" >= p."ValidFrom"
"""
_DISAGREES = (
    '"ShelfPrice" IS NULL OR "ShelfPrice" <> "UnitPrice" '
    'OR ("ValidTo" IS NOT NULL AND "EventTS" >= "ValidTo")'
)


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(fetch_scalar(con, query) or 0)


@check("prices: every sale and online line at the shelf price of its time")
def lines_at_shelf_price(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(con, f"SELECT count(*) FROM ({_MATCHED}) WHERE {_DISAGREES}")
    detail = ""
    if bad:
        row = fetch_one(
            con,
            f'SELECT "ProductID", "EventTS", "UnitPrice", "ShelfPrice" FROM ({_MATCHED}) '
            f'WHERE {_DISAGREES} ORDER BY "EventTS", "ProductID" LIMIT 1',
        )
        if row is not None:
            detail = (
                f"{bad} lines disagree, e.g. product {row[0]} at {row[1]}: "
                f"UnitPrice {row[2]}, shelf price {row[3]}"
            )
    return CheckResult.hard("", bad, detail)


@check("prices: history contiguous with one current row per product")
def history_contiguous(con: duckdb.DuckDBPyConnection) -> CheckResult:
    broken = _count(
        con,
        """
        SELECT count(*) FROM (
            SELECT "ValidFrom", "ValidTo",
                   lead("ValidFrom") OVER (PARTITION BY "ProductID" ORDER BY "ValidFrom") AS nxt
            FROM dim_product_prices)
        WHERE ("ValidTo" IS NOT NULL AND "ValidTo" <= "ValidFrom")
           OR nxt IS DISTINCT FROM "ValidTo"
        """,
    )
    without = _count(
        con,
        "SELECT count(*) FROM dim_products d WHERE NOT EXISTS "
        '(SELECT 1 FROM dim_product_prices p WHERE p."ProductID" = d."ID")',
    )
    bad = broken + without
    detail = ""
    if bad:
        detail = f"{broken} rows with a gap, overlap or misplaced NULL ValidTo; "
        detail += f"{without} products without a history"
    return CheckResult.hard("", bad, detail)


@check("prices: Cost < SalePrice <= MSRP for every history price")
def history_price_order(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        'SELECT count(*) FROM dim_product_prices p JOIN dim_products d ON d."ID" = p."ProductID" '
        'WHERE NOT (d."Cost" < p."SalePrice" AND p."SalePrice" <= d."MSRP")',
    )
    return CheckResult.hard("", bad)


@check("prices: dim_products.SalePrice is the current history price")
def current_price(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        'SELECT count(*) FROM dim_products d JOIN dim_product_prices p ON p."ProductID" = d."ID" '
        'AND p."ValidTo" IS NULL WHERE p."SalePrice" <> d."SalePrice"',
    )
    return CheckResult.hard("", bad)


@check("prices: share of sale lines at a markdown or clearance price", kind="range")
def reduced_line_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    row = fetch_one(
        con,
        f"SELECT count(*), count(*) FILTER (WHERE \"Reason\" IN ('MARKDOWN', 'CLEARANCE')) "
        f'FROM ({_MATCHED}) WHERE "EventTS" >= (SELECT min("ValidFrom") '
        f"+ INTERVAL {PRICE_WARM_UP_DAYS} DAY FROM dim_product_prices)",
    )
    lines, reduced = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    if lines < MIN_LINES_FOR_SHARE:
        return CheckResult.skipped(
            "",
            "range",
            f"{lines} lines after the first {PRICE_WARM_UP_DAYS} days < {MIN_LINES_FOR_SHARE}",
        )
    detail = f"{reduced} of {lines} lines after the first {PRICE_WARM_UP_DAYS} days"
    return CheckResult.range("", reduced / lines, REDUCED_LINE_SHARE, detail)
