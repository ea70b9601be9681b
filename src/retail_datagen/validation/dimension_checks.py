"""Invariants of the dimensions (SPEC §5): pricing, identifiers, store profiles, placement."""

from __future__ import annotations

import math

import duckdb

from retail_datagen.generators.dims.profiles import MIN_TRAFFIC_CV
from retail_datagen.storage.sql import fetch_one, fetch_scalar, haversine_miles_sql
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

COST_SHARE = (0.50, 0.85)  # Cost as a share of the INITIAL SalePrice
CENT = 0.01  # tolerated rounding of the cost share bounds
PHONE_UNIQUE_MAX_CUSTOMERS = 80_000  # 555-01xx numbers run out beyond this
MIN_STORES_FOR_SPREAD = 10
MIN_VOLUME_CLASSES = 3
MAX_DEPARTMENT_SHARE = 0.60
NEAREST_TOLERANCE = 1e-9  # relative: equal distances (ties) are both "nearest"


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(fetch_scalar(con, query) or 0)


@check("products: Cost < SalePrice <= MSRP")
def price_order(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        'SELECT count(*) FROM dim_products WHERE NOT ("Cost" < "SalePrice" AND '
        '"SalePrice" <= "MSRP")',
    )
    return CheckResult.hard("", bad)


@check("products: Cost is 50-85 % of the INITIAL SalePrice")
def cost_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    """Against the price products were generated with (the first history row): markdowns and
    clearance later bring the shelf price close to cost on purpose."""
    low, high = COST_SHARE
    bad = _count(
        con,
        f"""
        WITH initial AS (
            SELECT "ProductID", arg_min("SalePrice", "ValidFrom") AS "Price"
            FROM dim_product_prices GROUP BY "ProductID")
        SELECT count(*) FROM dim_products d LEFT JOIN initial i ON i."ProductID" = d."ID"
        WHERE d."Cost" < {low} * coalesce(i."Price", d."SalePrice") - {CENT}
           OR d."Cost" > {high} * coalesce(i."Price", d."SalePrice") + {CENT}
        """,
    )
    return CheckResult(
        "", "hard", bad == 0, violations=bad, accepted=COST_SHARE, detail="1-cent rounding allowed"
    )


@check("customers: Phone unique")
def phone_unique(con: duckdb.DuckDBPyConnection) -> CheckResult:
    customers = _count(con, "SELECT count(*) FROM dim_customers")
    if customers > PHONE_UNIQUE_MAX_CUSTOMERS:
        return CheckResult.skipped(
            "", "hard", f"{customers} customers > {PHONE_UNIQUE_MAX_CUSTOMERS} fictitious numbers"
        )
    duplicates = _count(
        con,
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM dim_customers "
        'GROUP BY "Phone" HAVING count(*) > 1)',
    )
    return CheckResult.hard("", duplicates)


@check("stores: TrafficMultiplier spread (CV)", kind="range")
def traffic_spread(con: duckdb.DuckDBPyConnection) -> CheckResult:
    row = fetch_one(
        con,
        'SELECT count(*), stddev_pop("TrafficMultiplier") / nullif(avg("TrafficMultiplier"), 0) '
        "FROM dim_stores",
    )
    stores, cv = (int(row[0]), row[1]) if row else (0, None)
    if stores < MIN_STORES_FOR_SPREAD:
        return CheckResult.skipped("", "range", f"{stores} stores < {MIN_STORES_FOR_SPREAD}")
    measured = float(cv) if cv is not None else 0.0
    return CheckResult.range("", measured, (MIN_TRAFFIC_CV, math.inf), "coefficient of variation")


@check("stores: at least 3 VolumeClasses", kind="range")
def volume_classes(con: duckdb.DuckDBPyConnection) -> CheckResult:
    row = fetch_one(con, 'SELECT count(*), count(DISTINCT "VolumeClass") FROM dim_stores')
    stores, classes = (int(row[0]), int(row[1])) if row else (0, 0)
    if stores < MIN_STORES_FOR_SPREAD:
        return CheckResult.skipped("", "range", f"{stores} stores < {MIN_STORES_FOR_SPREAD}")
    return CheckResult.range("", float(classes), (float(MIN_VOLUME_CLASSES), math.inf))


@check("products: no department above 60 % of SKUs", kind="range")
def department_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    row = fetch_one(
        con,
        'SELECT "Department", count(*) / sum(count(*)) OVER () AS share FROM dim_products '
        'GROUP BY "Department" ORDER BY share DESC, "Department" LIMIT 1',
    )
    if row is None:
        return CheckResult.skipped("", "range", "no products")
    return CheckResult.range(
        "", float(row[1]), (0.0, MAX_DEPARTMENT_SHARE), f"largest department: {row[0]}"
    )


@check("stores: only in states that have a DC")
def stores_in_dc_states(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM dim_stores s JOIN dim_geographies g ON g."ID" = s."GeographyID"
        WHERE g."State" NOT IN (
            SELECT dg."State" FROM dim_distribution_centers d
            JOIN dim_geographies dg ON dg."ID" = d."GeographyID")
        """,
    )
    return CheckResult.hard("", bad)


_MILES = haversine_miles_sql('s."Latitude"', 's."Longitude"', 'c."Latitude"', 'c."Longitude"')


@check("stores: served by the nearest DC")
def nearest_dc(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        f"""
        WITH d AS (
            SELECT s."ID" AS store, s."DCID" AS assigned, c."ID" AS dc,
                {_MILES} AS miles
            FROM dim_stores s CROSS JOIN dim_distribution_centers c
        )
        SELECT count(*) FROM (
            SELECT store, min(miles) AS best, max(miles) FILTER (WHERE dc = assigned) AS got
            FROM d GROUP BY store
        ) WHERE got IS NULL OR got > best * (1 + {NEAREST_TOLERANCE}) + 1e-9
        """,
    )
    return CheckResult.hard("", bad, "great-circle distance")
