"""Invariants of the facts (SPEC §9): money, payments, hours, launches, sensors, returns, ranges.

Hard checks count violating rows; range checks report a measured figure and the accepted range.
Every check is one SQL query in DuckDB so it runs over the full dataset in seconds. Checks on
tables with no rows pass (a range check has nothing to measure).
"""

from __future__ import annotations

import math

import duckdb

from retail_datagen.storage.sql import fetch_one, fetch_scalar, haversine_miles_sql
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

CONVERSION = (0.10, 0.30)
BLE_MATCH = (0.25, 0.35)
MIN_KNOWN_SALES_FOR_BLE = 0.45  # below it, too few phones can resolve for the BLE band
MARKETING_MATCH = (0.03, 0.07)
PROMOTED_RECEIPTS = (0.10, 0.20)
STORE_VOLUME_CV = (0.6, math.inf)
TOP_TWO_STORES = (0.70, 1.0)
TRIPS_UNDER_10_MILES = (0.80, 1.0)
RETURN_SHARE = (0.005, 0.03)
FULFILMENT_TARGET = {"SHIP_FROM_DC": 0.60, "SHIP_FROM_STORE": 0.30, "BOPIS": 0.10}
FULFILMENT_TOLERANCE = (0.0, 0.05)  # largest deviation from the target mix
CANCELLED_SHARE = (0.01, 0.035)
RETURN_DAYS = (1, 14)
MIN_ORDERS_FOR_MIX = 200
MIN_STORES_FOR_CV = 10


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(fetch_scalar(con, query) or 0)


def _ratio(con: duckdb.DuckDBPyConnection, query: str) -> float | None:
    value = fetch_scalar(con, query)
    return None if value is None else float(value)


# ---------------------------------------------------------------- money
@check("receipts: at least one line each")
def receipts_have_lines(con: duckdb.DuckDBPyConnection) -> CheckResult:
    return CheckResult.hard(
        "",
        _count(
            con,
            "SELECT count(*) FROM fact_receipts r WHERE NOT EXISTS "
            '(SELECT 1 FROM fact_receipt_lines l WHERE l."ReceiptId" = r."ReceiptId")',
        ),
    )


_HEADER_VS_LINES = """
    SELECT count(*) FROM {head} h JOIN (
        SELECT "{key}" AS k, sum("UnitPrice" * "Qty") AS subtotal, sum("Discount") AS discount,
               sum("Tax") AS tax, sum("Qty") AS items,
               count(*) FILTER (WHERE "ExtPrice" <> "UnitPrice" * "Qty" - "Discount") AS bad_ext
        FROM {lines} GROUP BY 1
    ) l ON l.k = h."{key}"
    WHERE h."Total" <> h."Subtotal" - h."Discount" + h."Tax"
       OR h."Subtotal" <> l.subtotal OR h."Discount" <> l.discount OR h."Tax" <> l.tax
       OR h."ItemCount" <> l.items OR l.bad_ext > 0
"""


@check("receipts: Total = Subtotal - Discount + Tax and sums of lines, to the cent")
def receipt_money(con: duckdb.DuckDBPyConnection) -> CheckResult:
    query = _HEADER_VS_LINES.format(
        head="fact_receipts", lines="fact_receipt_lines", key="ReceiptId"
    )
    return CheckResult.hard("", _count(con, query))


@check("online orders: Total = Subtotal - Discount + Tax and sums of lines, to the cent")
def order_money(con: duckdb.DuckDBPyConnection) -> CheckResult:
    query = _HEADER_VS_LINES.format(
        head="fact_online_orders", lines="fact_online_order_lines", key="OrderId"
    )
    return CheckResult.hard("", _count(con, query))


@check("payments: one APPROVED payment equal to the Total per receipt")
def receipt_payments(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_receipts r LEFT JOIN (
            SELECT "ReceiptId", count(*) AS n, sum("Amount") AS amount FROM fact_payments
            WHERE "Status" = 'APPROVED' AND "ReceiptId" IS NOT NULL GROUP BY 1
        ) p USING ("ReceiptId")
        WHERE p.n IS NULL OR p.n <> 1 OR p.amount <> r."Total"
        """,
    )
    return CheckResult.hard("", bad, "sales and refunds")


@check("payments: one APPROVED payment per open online order, none when cancelled")
def order_payments(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_online_orders o LEFT JOIN (
            SELECT "OrderId", count(*) AS n, sum("Amount") AS amount FROM fact_payments
            WHERE "Status" = 'APPROVED' AND "OrderId" IS NOT NULL GROUP BY 1
        ) p USING ("OrderId")
        WHERE CASE WHEN o."Status" = 'CANCELLED' THEN p.n IS NOT NULL
                   ELSE p.n IS NULL OR p.n <> 1 OR p.amount <> o."Total" END
        """,
    )
    return CheckResult.hard("", bad)


@check("promotions: one row per promoted receipt/order, equal to its lines' discounts")
def promotion_amounts(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH promoted AS (
            SELECT 'R' AS kind, "ReceiptId" AS k, sum("Discount") AS amount
            FROM fact_receipt_lines r
            WHERE "PromoCode" IS NOT NULL AND "Qty" > 0 GROUP BY 2
            UNION ALL
            SELECT 'O', "OrderId", sum("Discount") FROM fact_online_order_lines
            WHERE "PromoCode" IS NOT NULL GROUP BY 2
        ), rows AS (
            SELECT CASE WHEN "ReceiptId" IS NOT NULL THEN 'R' ELSE 'O' END AS kind,
                   coalesce("ReceiptId", "OrderId") AS k, count(*) AS n,
                   sum("DiscountAmount") AS amount
            FROM fact_promotions GROUP BY 1, 2
        )
        SELECT count(*) FROM promoted p FULL JOIN rows r USING (kind, k)
        WHERE r.n IS NULL OR p.amount IS NULL OR r.n <> 1 OR r.amount <> p.amount
        """,
    )
    return CheckResult.hard("", bad)


# ---------------------------------------------------------------- time rules
@check("receipts: none while the store is closed")
def sales_in_opening_hours(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_receipts r JOIN dim_stores s ON s."ID" = r."StoreID"
        WHERE hour(r."EventTS") < s."OpenHour" OR hour(r."EventTS") >= s."CloseHour"
        """,
    )
    return CheckResult.hard("", bad)


@check("receipt lines: no sale before the product's launch")
def sales_after_launch(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_receipt_lines l JOIN dim_products p ON p."ID" = l."ProductID"
        WHERE l."Qty" > 0 AND CAST(l."EventTS" AS DATE) < p."LaunchDate"
        """,
    ) + _count(
        con,
        """
        SELECT count(*) FROM fact_online_order_lines l
        JOIN dim_products p ON p."ID" = l."ProductID"
        WHERE CAST(l."EventTS" AS DATE) < p."LaunchDate"
        """,
    )
    return CheckResult.hard("", bad, "in-store and online")


@check("stores: no activity on December 25")
def closed_on_christmas(con: duckdb.DuckDBPyConnection) -> CheckResult:
    tables = ("fact_receipts", "fact_foot_traffic", "fact_ble_pings", "fact_store_ops")
    parts = " + ".join(
        f"""(SELECT count(*) FROM {t} x JOIN dim_stores s ON s."ID" = x."StoreID"
             WHERE month(x."EventTS") = 12 AND day(x."EventTS") = 25
               AND NOT (s."OpenHour" = 0 AND s."CloseHour" = 24))"""
        for t in tables
    )
    return CheckResult.hard(
        "", _count(con, f"SELECT {parts}"), "24/7 stores may open if configured"
    )


@check("store ops: OPENED and CLOSED on every day a store trades")
def store_ops_pairs(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM (
            SELECT DISTINCT "StoreID", CAST("EventTS" AS DATE) AS d FROM fact_receipts
        ) r LEFT JOIN (
            SELECT "StoreID", CAST("EventTS" AS DATE) AS d,
                   count(*) FILTER (WHERE "Operation" = 'OPENED') AS opened,
                   count(*) FILTER (WHERE "Operation" = 'CLOSED') AS closed
            FROM fact_store_ops GROUP BY 1, 2
        ) o USING ("StoreID", d)
        WHERE o.opened IS DISTINCT FROM 1 OR o.closed IS DISTINCT FROM 1
        """,
    )
    return CheckResult.hard("", bad)


@check("online orders: created < picked < shipped < delivered (BOPIS never shipped)")
def order_timestamps(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_online_orders WHERE CASE
            WHEN "Status" = 'CANCELLED' THEN
                "PickedTS" IS NOT NULL OR "ShippedTS" IS NOT NULL OR "DeliveredTS" IS NOT NULL
            WHEN "FulfillmentMode" = 'BOPIS' THEN "ShippedTS" IS NOT NULL
                OR NOT ("EventTS" < "PickedTS" AND "PickedTS" < "DeliveredTS")
            ELSE NOT ("EventTS" < "PickedTS" AND "PickedTS" < "ShippedTS"
                      AND "ShippedTS" < "DeliveredTS") END
        """,
    )
    return CheckResult.hard("", bad)


# ---------------------------------------------------------------- sensors
@check("sensors: foot traffic >= BLE devices >= receipts per store-hour")
def sensor_nesting(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH ft AS (SELECT "StoreID" AS s, date_trunc('hour', "EventTS") AS h, sum("Count") AS c
                    FROM fact_foot_traffic GROUP BY 1, 2),
             ble AS (SELECT "StoreID" AS s, date_trunc('hour', "EventTS") AS h,
                            count(DISTINCT "CustomerBLEId") AS d
                     FROM fact_ble_pings GROUP BY 1, 2),
             rc AS (SELECT "StoreID" AS s, date_trunc('hour', "EventTS") AS h, count(*) AS r
                    FROM fact_receipts GROUP BY 1, 2)
        SELECT count(*) FROM rc FULL JOIN ble USING (s, h) FULL JOIN ft USING (s, h)
        WHERE coalesce(ft.c, 0) < coalesce(ble.d, 0) OR coalesce(ble.d, 0) < coalesce(rc.r, 0)
        """,
    )
    return CheckResult.hard("", bad, "violating store-hours")


@check("sensors: zone changes follow a device's pings in one store")
def zone_changes_have_pings(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_customer_zone_changes z WHERE z."FromZone" = z."ToZone"
           OR NOT EXISTS (SELECT 1 FROM fact_ble_pings p WHERE p."CustomerBLEId" = z."CustomerBLEId"
                          AND p."StoreID" = z."StoreID" AND p."EventTS" = z."EventTS"
                          AND p."Zone" = z."ToZone")
        """,
    )
    return CheckResult.hard("", bad)


# ---------------------------------------------------------------- returns and attribution
# A return's original sale: its day and store from the id (RCP-SSSS-YYYYMMDD-NNNNNNN), and
# whether it predates the dataset (its returns are synthesised; the sale itself is not stored).
_ORIGINAL = """
    SELECT r.*, o."ReceiptId" AS o_id, o."CustomerID" AS o_customer, o."StoreID" AS o_store,
           CAST(strptime(split_part(r."OriginalReceiptId", '-', 3), '%Y%m%d') AS DATE) AS o_day,
           TRY_CAST(split_part(r."OriginalReceiptId", '-', 2) AS INTEGER) AS id_store,
           CAST(strptime(split_part(r."OriginalReceiptId", '-', 3), '%Y%m%d') AS DATE)
             < (SELECT min(CAST("EventTS" AS DATE)) FROM fact_receipts) AS before_data
    FROM fact_receipts r LEFT JOIN fact_receipts o
        ON o."ReceiptId" = r."OriginalReceiptId" AND o."ReceiptType" = 'SALE'
    WHERE r."ReceiptType" = 'RETURN'
"""


@check(
    "returns: refer to an earlier sale of the same customer and store, 1-14 days before "
    "(or the next open day)"
)
def returns_refer_to_sales(con: duckdb.DuckDBPyConnection) -> CheckResult:
    low, high = RETURN_DAYS
    bad = _count(
        con,
        f"""
        WITH r AS ({_ORIGINAL}), d AS (
            SELECT *, date_diff('day', o_day, CAST("EventTS" AS DATE)) AS days FROM r
        )
        SELECT count(*) FROM d
        WHERE "Total" >= 0 OR days IS NULL OR days < {low}
           OR (o_id IS NULL AND NOT coalesce(before_data AND id_store = "StoreID"
                                              AND "CustomerID" IS NULL, false))
           OR (o_id IS NOT NULL AND (o_customer IS DISTINCT FROM "CustomerID"
                                     OR o_store <> "StoreID"))
           OR (days > {high} AND EXISTS (
                SELECT 1 FROM fact_store_ops s
                WHERE s."StoreID" = d."StoreID" AND s."Operation" = 'OPENED'
                  AND CAST(s."EventTS" AS DATE) >= d.o_day + {high}
                  AND CAST(s."EventTS" AS DATE) < CAST(d."EventTS" AS DATE)))
        """,
    )
    return CheckResult.hard(
        "",
        bad,
        "negative money, same customer and store; a sale before the data: same store, "
        "anonymous; later than 14 days only past closed days",
    )


@check("returns: never more units than were bought")
def returned_units(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        f"""
        WITH back AS (
            SELECT r."OriginalReceiptId" AS k, l."ProductID" AS p, -sum(l."Qty") AS q,
                   coalesce(bool_and(r.o_id IS NULL AND r.before_data), false) AS before_data
            FROM ({_ORIGINAL}) r JOIN fact_receipt_lines l USING ("ReceiptId")
            GROUP BY 1, 2
        ), bought AS (
            SELECT "ReceiptId" AS k, "ProductID" AS p, sum("Qty") AS q
            FROM fact_receipt_lines WHERE "Qty" > 0 GROUP BY 1, 2
        )
        SELECT count(*) FROM back LEFT JOIN bought USING (k, p)
        WHERE (bought.q IS NULL AND NOT back.before_data) OR back.q > bought.q OR back.q <= 0
        """,
    )
    return CheckResult.hard("", bad, "sales before the data are not stored: not checked")


@check("attribution: receipts name an impression of their campaign")
def attribution_chain(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT count(*) FROM fact_receipts r LEFT JOIN fact_marketing m USING ("ImpressionId")
        WHERE r."ImpressionId" IS NOT NULL AND (m."ImpressionId" IS NULL
            OR m."CampaignId" <> r."CampaignId" OR m."EventTS" >= r."EventTS")
        """,
    )
    return CheckResult.hard("", bad, "ad -> visit -> purchase")


# ---------------------------------------------------------------- realism ranges
@check("receipts: conversion (sales / entrances)", kind="range")
def conversion(con: duckdb.DuckDBPyConnection) -> CheckResult:
    value = _ratio(
        con,
        """
        SELECT (SELECT count(*) FROM fact_receipts WHERE "ReceiptType" = 'SALE')
               / nullif((SELECT sum("Count") FROM fact_foot_traffic WHERE "Zone" = 'ENTRANCE'), 0)
        """,
    )
    return CheckResult.range("", value, CONVERSION)


@check("BLE: devices resolved to a known customer", kind="range")
def ble_match(con: duckdb.DuckDBPyConnection) -> CheckResult:
    # Measured over pings: a device's ping count does not depend on whether it resolves, and
    # a known customer's BLEId recurs across visits while anonymous ids are per visit. Only
    # known customers' phones can resolve: with fewer known buyers than the band asks for
    # (a small customer base), the figure is reported but not judged.
    known = _ratio(
        con,
        """SELECT avg(CASE WHEN "CustomerID" IS NULL THEN 0.0 ELSE 1.0 END)
           FROM fact_receipts WHERE "ReceiptType" = 'SALE'""",
    )
    value = _ratio(
        con,
        'SELECT avg(CASE WHEN "CustomerID" IS NULL THEN 0.0 ELSE 1.0 END) FROM fact_ble_pings',
    )
    if known is not None and value is not None and known < MIN_KNOWN_SALES_FOR_BLE:
        return CheckResult.skipped(
            "", "range", f"only {known:.0%} of sale receipts are known customers' ({value:.1%})"
        )
    return CheckResult.range("", value, BLE_MATCH, "share of pings from resolved devices")


@check("marketing: impressions resolved to a known customer", kind="range")
def marketing_match(con: duckdb.DuckDBPyConnection) -> CheckResult:
    value = _ratio(
        con,
        'SELECT avg(CASE WHEN "CustomerID" IS NULL THEN 0.0 ELSE 1.0 END) FROM fact_marketing',
    )
    return CheckResult.range("", value, MARKETING_MATCH)


@check("promotions: share of sale receipts with a code", kind="range")
def promoted_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    value = _ratio(
        con,
        """
        SELECT (SELECT count(*) FROM fact_promotions WHERE "ReceiptId" IS NOT NULL)
               / nullif((SELECT count(*) FROM fact_receipts WHERE "ReceiptType" = 'SALE'), 0)
        """,
    )
    return CheckResult.range("", value, PROMOTED_RECEIPTS)


@check("stores: daily sales vary strongly across stores (CV)", kind="range")
def store_volume_cv(con: duckdb.DuckDBPyConnection) -> CheckResult:
    row = fetch_one(
        con,
        """
        SELECT count(*), stddev_pop(daily) / nullif(avg(daily), 0) FROM (
            SELECT "StoreID", sum("Total") / count(DISTINCT CAST("EventTS" AS DATE)) AS daily
            FROM fact_receipts WHERE "ReceiptType" = 'SALE' GROUP BY 1)
        """,
    )
    if row is None or int(row[0]) < MIN_STORES_FOR_CV:
        return CheckResult.skipped("", "range", f"fewer than {MIN_STORES_FOR_CV} trading stores")
    return CheckResult.range("", float(row[1]), STORE_VOLUME_CV, "coefficient of variation")


@check("customers: share of visits at their top two stores", kind="range")
def top_two_stores(con: duckdb.DuckDBPyConnection) -> CheckResult:
    value = _ratio(
        con,
        """
        SELECT sum(n) FILTER (WHERE rank <= 2) / nullif(sum(n), 0) FROM (
            SELECT "CustomerID", n,
                   row_number() OVER (PARTITION BY "CustomerID" ORDER BY n DESC, "StoreID") AS rank
            FROM (SELECT "CustomerID", "StoreID", count(*) AS n FROM fact_receipts
                  WHERE "ReceiptType" = 'SALE' AND "CustomerID" IS NOT NULL GROUP BY 1, 2))
        """,
    )
    return CheckResult.range("", value, TOP_TWO_STORES)


@check("customers: share of trips under 10 miles from home", kind="range")
def short_trips(con: duckdb.DuckDBPyConnection) -> CheckResult:
    miles = haversine_miles_sql('c."Latitude"', 'c."Longitude"', 's."Latitude"', 's."Longitude"')
    value = _ratio(
        con,
        f"""
        SELECT avg(CASE WHEN {miles} < 10 THEN 1.0 ELSE 0.0 END)
        FROM fact_receipts r JOIN dim_customers c ON c."ID" = r."CustomerID"
        JOIN dim_stores s ON s."ID" = r."StoreID" WHERE r."ReceiptType" = 'SALE'
        """,
    )
    return CheckResult.range("", value, TRIPS_UNDER_10_MILES)


@check("returns: share of sales returned", kind="range")
def return_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    # Only sales old enough for their whole return window to lie inside the data count.
    row = fetch_one(
        con,
        f"""
        WITH settled AS (
            SELECT "ReceiptId" FROM fact_receipts WHERE "ReceiptType" = 'SALE'
              AND CAST("EventTS" AS DATE) <= (SELECT max(CAST("EventTS" AS DATE))
                                              FROM fact_receipts) - {RETURN_DAYS[1]}
        )
        SELECT (SELECT count(*) FROM settled),
               (SELECT count(*) FROM fact_receipts r JOIN settled s
                  ON s."ReceiptId" = r."OriginalReceiptId")
        """,
    )
    sales = int(row[0]) if row else 0
    if sales == 0:
        return CheckResult.skipped(
            "", "range", f"no sales older than the {RETURN_DAYS[1]}-day return window"
        )
    return CheckResult.range("", int(row[1]) / sales if row else None, RETURN_SHARE)


@check("online orders: fulfilment mix 60/30/10 (largest deviation)", kind="range")
def fulfilment_mix(con: duckdb.DuckDBPyConnection) -> CheckResult:
    rows = con.sql(
        'SELECT "FulfillmentMode", count(*) FROM fact_online_orders GROUP BY 1'
    ).fetchall()
    total = sum(int(n) for _, n in rows)
    if total < MIN_ORDERS_FOR_MIX:
        return CheckResult.skipped("", "range", f"fewer than {MIN_ORDERS_FOR_MIX} orders")
    shares = {str(mode): int(n) / total for mode, n in rows}
    deviation = max(abs(shares.get(m, 0.0) - t) for m, t in FULFILMENT_TARGET.items())
    detail = ", ".join(f"{m} {shares.get(m, 0.0):.1%}" for m in FULFILMENT_TARGET)
    return CheckResult.range("", deviation, FULFILMENT_TOLERANCE, detail)


@check("online orders: share cancelled", kind="range")
def cancelled_share(con: duckdb.DuckDBPyConnection) -> CheckResult:
    total = _count(con, "SELECT count(*) FROM fact_online_orders")
    if total < MIN_ORDERS_FOR_MIX:
        return CheckResult.skipped("", "range", f"fewer than {MIN_ORDERS_FOR_MIX} orders")
    value = _ratio(
        con,
        """SELECT avg(CASE WHEN "Status" = 'CANCELLED' THEN 1.0 ELSE 0.0 END)
           FROM fact_online_orders""",
    )
    return CheckResult.range("", value, CANCELLED_SHARE)


# ---------------------------------------------------------------- inventory and logistics
_LEDGERS = (
    ("fact_store_inventory_txn", "StoreID", "dim_store_inventory_snapshots"),
    ("fact_dc_inventory_txn", "DCID", "dim_dc_inventory_snapshots"),
)
_TRUCK_ORDER = "['SCHEDULED','LOADING','IN_TRANSIT','DELAYED','ARRIVED','UNLOADING','COMPLETED']"


@check("inventory: balances never negative")
def balances_not_negative(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = sum(_count(con, f'SELECT count(*) FROM {t} WHERE "Balance" < 0') for t, _, _ in _LEDGERS)
    return CheckResult.hard("", bad, "store and DC ledgers")


@check("inventory: Balance is the running sum from the starting snapshot")
def running_sum(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = 0
    for table, node, snapshot in _LEDGERS:
        bad += _count(
            con,
            f"""
            SELECT count(*) FROM (
                SELECT "Balance", "QtyDelta", "{node}" AS n, "ProductID" AS p,
                       lag("Balance") OVER (PARTITION BY "{node}", "ProductID"
                                            ORDER BY "EventTS", "TraceId") AS previous
                FROM {table}
            ) l LEFT JOIN {snapshot} s ON s."{node}" = l.n AND s."ProductID" = l.p
            WHERE l."Balance" <> coalesce(l.previous, s."CurrentQuantity") + l."QtyDelta"
            """,
        )
    return CheckResult.hard("", bad, "in (EventTS, TraceId) order")


@check("inventory: every sale moves the stock it sold")
def sales_in_ledger(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH sold AS (
            SELECT l."ReceiptId" AS k, l."ProductID" AS p, sum(l."Qty") AS q
            FROM fact_receipt_lines l WHERE l."Qty" > 0 GROUP BY 1, 2
        ), moved AS (
            SELECT "SourceId" AS k, "ProductID" AS p, -sum("QtyDelta") AS q
            FROM fact_store_inventory_txn WHERE "Reason" = 'SALE' AND "Source" = 'STORE'
            GROUP BY 1, 2
        )
        SELECT count(*) FROM sold FULL JOIN moved USING (k, p)
        WHERE sold.q IS DISTINCT FROM moved.q
        """,
    )
    return CheckResult.hard("", bad, "receipt lines vs SALE rows")


@check("shipments: DC OUTBOUND equals store INBOUND, once each")
def outbound_equals_inbound(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH out AS (
            SELECT "SourceId" AS s, "ProductID" AS p, count(*) AS n, -sum("QtyDelta") AS q
            FROM fact_dc_inventory_txn WHERE "Reason" = 'OUTBOUND_SHIPMENT' GROUP BY 1, 2
        ), inn AS (
            SELECT "SourceId" AS s, "ProductID" AS p, count(*) AS n, sum("QtyDelta") AS q
            FROM fact_store_inventory_txn WHERE "Reason" = 'INBOUND_SHIPMENT' GROUP BY 1, 2
        )
        SELECT count(*) FROM out FULL JOIN inn USING (s, p)
        WHERE out.q IS DISTINCT FROM inn.q OR out.n <> 1 OR inn.n <> 1
        """,
    )
    return CheckResult.hard("", bad, "per shipment and product")


@check("trucks: statuses in order, each once per shipment")
def truck_status_order(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        f"""
        SELECT count(*) FROM (
            SELECT "ShipmentId",
                   list("Status"::VARCHAR ORDER BY "EventTS", list_position({_TRUCK_ORDER},
                        "Status"::VARCHAR)) AS seen
            FROM fact_truck_moves GROUP BY 1
        ) WHERE list_filter(seen, lambda x: x <> 'DELAYED') <>
                ['SCHEDULED','LOADING','IN_TRANSIT','ARRIVED','UNLOADING','COMPLETED']
             OR len(list_filter(seen, lambda x: x = 'DELAYED')) > 1
        """,
    )
    return CheckResult.hard("", bad, "shipments out of order")


@check("trucks: ledger rows at loading and unloading, ETA after ETD")
def shipment_timing(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH t AS (
            SELECT "ShipmentId" AS s,
                   max("EventTS") FILTER (WHERE "Status" = 'LOADING') AS loading,
                   max("EventTS") FILTER (WHERE "Status" = 'UNLOADING') AS unloading,
                   bool_or("ETA" < "ETD") AS backwards
            FROM fact_truck_moves GROUP BY 1
        )
        SELECT (SELECT count(*) FROM fact_dc_inventory_txn d LEFT JOIN t ON t.s = d."SourceId"
                WHERE d."Reason" = 'OUTBOUND_SHIPMENT' AND d."EventTS" IS DISTINCT FROM t.loading)
             + (SELECT count(*) FROM fact_store_inventory_txn i LEFT JOIN t ON t.s = i."SourceId"
                WHERE i."Reason" = 'INBOUND_SHIPMENT' AND i."EventTS" IS DISTINCT FROM t.unloading)
             + (SELECT count(*) FROM fact_dc_inventory_txn d LEFT JOIN t ON t.s = d."SourceId"
                WHERE d."Reason" = 'INBOUND_SHIPMENT' AND d."EventTS" IS DISTINCT FROM t.unloading)
             + (SELECT count(*) FROM t WHERE backwards)
        """,
    )
    return CheckResult.hard("", bad)


@check("trucks: never double-booked")
def trucks_not_double_booked(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH legs AS (
            SELECT "TruckId" AS truck, "ShipmentId" AS s,
                   min("EventTS") AS begins, max("EventTS") AS ends
            FROM fact_truck_moves GROUP BY 1, 2
        )
        SELECT count(*) FROM (
            SELECT begins, lag(ends) OVER (PARTITION BY truck ORDER BY begins, s) AS previous
            FROM legs
        ) WHERE previous IS NOT NULL AND begins < previous
        """,
    )
    return CheckResult.hard("", bad, "overlapping legs of one truck")


@check("stockouts: exactly one of StoreID/DCID, at most one per node-product-day")
def stockout_nodes(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        SELECT (SELECT count(*) FROM fact_stockouts
                WHERE ("StoreID" IS NULL) = ("DCID" IS NULL))
             + (SELECT coalesce(sum(n - 1), 0) FROM (
                  SELECT count(*) AS n FROM fact_stockouts
                  GROUP BY "StoreID", "DCID", "ProductID", CAST("EventTS" AS DATE)
                  HAVING count(*) > 1))
        """,
    )
    return CheckResult.hard("", bad)


@check("reorders: linked shipments carry the product after the reorder")
def reorder_linkage(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = _count(
        con,
        """
        WITH t AS (
            SELECT "ShipmentId" AS s, any_value("DCID") AS dc, any_value("StoreID") AS store,
                   max("EventTS") FILTER (WHERE "Status" = 'IN_TRANSIT') AS departed
            FROM fact_truck_moves GROUP BY 1
        ), carried AS (
            SELECT "SourceId" AS s, "ProductID" AS p FROM fact_store_inventory_txn
            WHERE "Reason" = 'INBOUND_SHIPMENT'
            UNION ALL
            SELECT "SourceId", "ProductID" FROM fact_dc_inventory_txn
            WHERE "Reason" = 'INBOUND_SHIPMENT'
        )
        SELECT count(*) FROM fact_reorders r LEFT JOIN t ON t.s = r."ShipmentId"
        WHERE r."ShipmentId" IS NOT NULL AND (
            t.s IS NULL OR t.dc <> r."DCID" OR t.store IS DISTINCT FROM r."StoreID"
            OR t.departed < r."EventTS"
            OR NOT EXISTS (SELECT 1 FROM carried c WHERE c.s = r."ShipmentId"
                           AND c.p = r."ProductID"))
        """,
    )
    return CheckResult.hard("", bad, "reorder -> shipment -> delivery")
