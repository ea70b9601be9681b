"""Baskets a retail analyst believes (SPEC §6.1): one line per product, tickets, department mix
and seasons.

Hard checks count violating rows; range checks measure in-store sales (positive-quantity receipt
lines, so returns do not count) and skip what a small dataset cannot measure.
"""

from __future__ import annotations

from typing import Any

import duckdb

from retail_datagen.calendar import CATEGORY_SEASONS
from retail_datagen.generators.facts.behaviour import GROCERY_DEPARTMENTS
from retail_datagen.storage.sql import fetch_scalar, literal
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

AVERAGE_TICKET = (25.0, 120.0)  # USD per sale receipt, per store format
MIN_RECEIPTS_PER_FORMAT = 500
GROCERY_SHARE = (0.25, 0.70)  # of in-store sales revenue
TOP_OTHER_CATEGORY_SHARE = (0.0, 0.15)  # the largest category outside grocery-type departments
MIN_SALE_LINES = 5_000  # below this the revenue mix is not measured
IN_SEASON, OFF_SEASON = 1.0, 0.4  # month factors of calendar.CATEGORY_SEASONS
OFF_TO_IN_SEASON = (0.0, 0.6)  # a category's unit share off season / in season
MIN_LINES_PER_SEASON = 20_000  # sale lines in the in-season and in the off-season months
MIN_CATEGORY_UNITS = 50  # units of the category in its season


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(fetch_scalar(con, query) or 0)


def _grocery_list() -> str:
    return ", ".join(literal(d) for d in GROCERY_DEPARTMENTS)


_SALE_LINES = """
    SELECT l."Qty" AS qty, l."ExtPrice" AS revenue, month(l."EventTS") AS m,
           p."Department" AS department, p."Category" AS category
    FROM fact_receipt_lines l JOIN dim_products p ON p."ID" = l."ProductID"
    WHERE l."Qty" > 0
"""


def _sale_line_count(con: duckdb.DuckDBPyConnection) -> int:
    return _count(con, 'SELECT count(*) FROM fact_receipt_lines WHERE "Qty" > 0')


# ---------------------------------------------------------------- products per receipt
# One line per product per receipt/order is a unique key of the schema (key_checks).
@check("promotions: ProductCount = distinct promoted products of the receipt/order")
def promotion_product_count(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH promoted AS (
            SELECT "ReceiptId" AS k, count(DISTINCT "ProductID") AS n FROM fact_receipt_lines
            WHERE "PromoCode" IS NOT NULL AND "Qty" > 0 GROUP BY 1
            UNION ALL
            SELECT "OrderId", count(DISTINCT "ProductID") FROM fact_online_order_lines
            WHERE "PromoCode" IS NOT NULL GROUP BY 1
        )
        SELECT count(*) FROM fact_promotions f LEFT JOIN promoted p
            ON p.k = coalesce(f."ReceiptId", f."OrderId")
        WHERE f."ProductCount" IS DISTINCT FROM p.n
        """,
    )
    return CheckResult.hard("", bad)


# ---------------------------------------------------------------- tickets and mix
@check("receipts: average sale ticket per store format", kind="range")
def average_ticket_by_format(con: duckdb.DuckDBPyConnection) -> CheckResult:
    rows = con.execute(
        f"""
        SELECT s."StoreFormat", avg(r."Total")::DOUBLE, count(*)
        FROM fact_receipts r JOIN dim_stores s ON s."ID" = r."StoreID"
        WHERE r."ReceiptType" = 'SALE' GROUP BY 1 HAVING count(*) >= {MIN_RECEIPTS_PER_FORMAT}
        ORDER BY 2
        """
    ).fetchall()
    if not rows:
        return CheckResult.skipped(
            "", "range", f"no store format with {MIN_RECEIPTS_PER_FORMAT} sale receipts"
        )
    low, high = AVERAGE_TICKET
    # the format nearest a bound (or furthest beyond one)
    worst: tuple[Any, ...] = max(rows, key=lambda r: max(low - r[1], r[1] - high))
    detail = ", ".join(f"{name} ${value:.2f}" for name, value, _ in rows)
    return CheckResult.range("", float(worst[1]), AVERAGE_TICKET, f"USD; {detail}")


@check("sales: grocery-type departments' share of revenue", kind="range")
def grocery_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    if _sale_line_count(con) < MIN_SALE_LINES:
        return CheckResult.skipped("", "range", f"fewer than {MIN_SALE_LINES} sale lines")
    value = fetch_scalar(
        con,
        f"""
        SELECT (coalesce(sum(revenue) FILTER (WHERE department IN ({_grocery_list()})), 0)
                / nullif(sum(revenue), 0))::DOUBLE FROM ({_SALE_LINES})
        """,
    )
    departments = ", ".join(GROCERY_DEPARTMENTS)
    return CheckResult.range(
        "", None if value is None else float(value), GROCERY_SHARE, departments
    )


@check("sales: largest non-grocery category's share of revenue", kind="range")
def top_other_category_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    if _sale_line_count(con) < MIN_SALE_LINES:
        return CheckResult.skipped("", "range", f"fewer than {MIN_SALE_LINES} sale lines")
    rows = con.execute(
        f"""
        SELECT category, (sum(revenue) / sum(sum(revenue)) OVER ())::DOUBLE AS share,
               bool_or(department IN ({_grocery_list()})) AS grocery
        FROM ({_SALE_LINES}) GROUP BY 1 ORDER BY 2 DESC
        """
    ).fetchall()
    others = [(name, share) for name, share, grocery in rows if not grocery]
    if not others:
        return CheckResult.range("", None, TOP_OTHER_CATEGORY_SHARE)
    name, share = others[0]
    return CheckResult.range("", float(share), TOP_OTHER_CATEGORY_SHARE, str(name))


# ---------------------------------------------------------------- seasons
def _season_rows() -> str:
    return ", ".join(
        f"({literal(name)}, {month + 1}, {factor})"
        for name, curve in CATEGORY_SEASONS.items()
        for month, factor in enumerate(curve)
    )


@check("sales: seasonal categories sell in their season (off / in-season unit share)", kind="range")
def seasonal_categories(con: duckdb.DuckDBPyConnection) -> CheckResult:
    rows = con.execute(
        f"""
        WITH lines AS ({_SALE_LINES}),
        season(category, m, factor) AS (VALUES {_season_rows()}),
        monthly AS (
            SELECT m, count(*) AS lines, sum(qty) AS units FROM lines GROUP BY 1
        ),
        cat AS (SELECT category, m, sum(qty) AS units FROM lines GROUP BY 1, 2),
        parts AS (
            SELECT s.category, s.factor >= {IN_SEASON} AS in_season,
                   sum(mo.lines) AS lines, sum(mo.units) AS units,
                   coalesce(sum(c.units), 0) AS category_units
            FROM season s JOIN monthly mo USING (m) LEFT JOIN cat c USING (category, m)
            WHERE s.factor >= {IN_SEASON} OR s.factor <= {OFF_SEASON}
            GROUP BY 1, 2
        )
        SELECT i.category,
               ((o.category_units / o.units) / (i.category_units / i.units))::DOUBLE AS ratio
        FROM parts i JOIN parts o ON o.category = i.category AND NOT o.in_season
        WHERE i.in_season AND i.lines >= {MIN_LINES_PER_SEASON}
          AND o.lines >= {MIN_LINES_PER_SEASON} AND i.category_units >= {MIN_CATEGORY_UNITS}
        ORDER BY 2 DESC
        """
    ).fetchall()
    if not rows:
        return CheckResult.skipped(
            "", "range", "the months covered hold no in-season / off-season contrast"
        )
    name, ratio = rows[0]
    return CheckResult.range("", float(ratio), OFF_TO_IN_SEASON, f"{name}; {len(rows)} measured")
