"""dim_date covers every day a fact happened on (its range follows the generated range)."""

from __future__ import annotations

import duckdb

from retail_datagen.schema import FACTS
from retail_datagen.storage.sql import fetch_scalar, ident
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []


@check("dim_date: covers every fact date")
def dates_cover_facts(con: duckdb.DuckDBPyConnection) -> CheckResult:
    days = " UNION ".join(
        f"SELECT DISTINCT CAST({ident(t.time_column)} AS DATE) AS d FROM {ident(t.name)}"
        for t in FACTS
        if t.time_column
    )
    bad = fetch_scalar(
        con,
        f"""SELECT count(*) FROM ({days}) f
            WHERE f.d IS NOT NULL AND f.d NOT IN (SELECT "Date" FROM dim_date)""",
    )
    return CheckResult.hard("", int(bad or 0), "days with facts but no dim_date row")
