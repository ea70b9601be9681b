"""The horizon (SPEC §6.4): nothing is recorded after the end of the generated range.

The range end comes from the view :data:`~retail_datagen.validation.runner.RANGE_VIEW` that
``validate`` creates from the generation state; every timestamp column the schema
declares for a fact table is compared with it, so a new table or column is covered without
touching this module. Online orders not final by then are in flight: their status names the
last step recorded and only the steps up to it carry a time.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from retail_datagen.schema import FACTS
from retail_datagen.schema.registry import Kind
from retail_datagen.storage.duckdb_store import table_exists
from retail_datagen.storage.sql import fetch_one, fetch_scalar, ident
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import RANGE_VIEW, check

__all__: list[str] = []

IN_FLIGHT_AGE_DAYS = (0.0, 5.0)  # the slowest order (3-day DC delivery, BOPIS over a holiday)
_SHOWN = 3  # offending columns named in a failure


def _range_end(con: duckdb.DuckDBPyConnection) -> datetime | None:
    if not table_exists(con, RANGE_VIEW):
        return None
    value = fetch_scalar(con, f'SELECT max("RangeEnd") FROM {ident(RANGE_VIEW)}')
    return value if isinstance(value, datetime) else None


@check("horizon: no timestamp after the end of the generated range")
def nothing_after_the_range(con: duckdb.DuckDBPyConnection) -> CheckResult:
    end = _range_end(con)
    if end is None:
        return CheckResult.skipped("", "hard", "no generated range recorded")
    late: list[tuple[int, str]] = []
    for table in FACTS:
        columns = [c.name for c in table.columns if c.kind == Kind.TIMESTAMP]
        if not columns or not table_exists(con, table.name):
            continue
        counts = ", ".join(f"count(*) FILTER (WHERE {ident(c)} > $1)" for c in columns)
        row = fetch_one(con, f"SELECT {counts} FROM {ident(table.name)}", [end]) or ()
        late += [(int(n), f"{table.name}.{c}") for n, c in zip(row, columns, strict=True) if n]
    late.sort(reverse=True)
    detail = ", ".join(f"{name}: {n:,} rows" for n, name in late[:_SHOWN])
    return CheckResult.hard("", sum(n for n, _ in late), detail + f" after {end}" if late else "")


@check("horizon: in-flight online orders record exactly the steps their status names")
def in_flight_status(con: duckdb.DuckDBPyConnection) -> CheckResult:
    if not table_exists(con, "fact_online_orders"):
        return CheckResult.skipped("", "hard", "no online orders")
    bad = fetch_scalar(
        con,
        """
        SELECT count(*) FROM fact_online_orders WHERE NOT coalesce(CASE "Status"
            WHEN 'CREATED' THEN "PickedTS" IS NULL AND "ShippedTS" IS NULL
                AND "DeliveredTS" IS NULL
            WHEN 'PICKED' THEN "EventTS" < "PickedTS" AND "ShippedTS" IS NULL
                AND "DeliveredTS" IS NULL
            WHEN 'SHIPPED' THEN "FulfillmentMode" <> 'BOPIS' AND "EventTS" < "PickedTS"
                AND "PickedTS" < "ShippedTS" AND "DeliveredTS" IS NULL
            WHEN 'DELIVERED' THEN "FulfillmentMode" <> 'BOPIS' AND "DeliveredTS" IS NOT NULL
                AND "ShippedTS" IS NOT NULL AND "PickedTS" IS NOT NULL
            WHEN 'PICKED_UP' THEN "FulfillmentMode" = 'BOPIS' AND "DeliveredTS" IS NOT NULL
                AND "ShippedTS" IS NULL AND "PickedTS" IS NOT NULL
            WHEN 'CANCELLED' THEN "PickedTS" IS NULL AND "ShippedTS" IS NULL
                AND "DeliveredTS" IS NULL
            ELSE false END, false)
        """,
    )
    return CheckResult.hard("", int(bad or 0))


@check("horizon: age of the oldest in-flight online order at the range end (days)", kind="range")
def in_flight_age(con: duckdb.DuckDBPyConnection) -> CheckResult:
    """An order still in flight long after its slowest possible delivery was lost by a run."""
    end = _range_end(con)
    if end is None or not table_exists(con, "fact_online_orders"):
        return CheckResult.skipped("", "range", "no generated range or no online orders")
    oldest = fetch_scalar(
        con,
        """SELECT min("EventTS") FROM fact_online_orders
           WHERE "Status" IN ('CREATED', 'PICKED', 'SHIPPED')""",
    )
    if not isinstance(oldest, datetime):
        return CheckResult.range("", None, IN_FLIGHT_AGE_DAYS, "no order in flight")
    age = (end - oldest).total_seconds() / 86_400
    return CheckResult.range("", age, IN_FLIGHT_AGE_DAYS)
