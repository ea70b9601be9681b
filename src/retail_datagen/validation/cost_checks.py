"""Marketing cost (SPEC §6.8): CPM bands put one impression at a fraction of a cent.

The bands are the default configuration's (``MarketingCostConfig()``, the SPEC table); a
dataset generated with other bands fails the band check by design.
"""

from __future__ import annotations

import duckdb

from retail_datagen.config.models import MarketingCostConfig
from retail_datagen.storage.sql import fetch_scalar, literal
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import check

__all__: list[str] = []

MEAN_COST_PER_IMPRESSION = (0.0, 0.05)  # USD


@check("marketing: mean cost per impression (USD)", kind="range")
def mean_cost(con: duckdb.DuckDBPyConnection) -> CheckResult:
    value = fetch_scalar(con, 'SELECT avg("Cost") FROM fact_marketing')
    return CheckResult.range("", None if value is None else float(value), MEAN_COST_PER_IMPRESSION)


def _bands_sql() -> str:
    """(Channel, Device, lowest, highest USD) rows of the SPEC bands × device multipliers."""
    cost = MarketingCostConfig()
    rows = [
        f"({literal(channel)}, {literal(device)}, "
        f"{cost.band(channel).cpm_min * mult / 1000:.9f}, "
        f"{cost.band(channel).cpm_max * mult / 1000:.9f})"
        for channel in type(cost).model_fields
        if channel != "device_multipliers"
        for device, mult in cost.device_multipliers.items()
    ]
    return f"SELECT * FROM (VALUES {', '.join(rows)}) b(channel, device, lo, hi)"


@check("marketing: every cost inside its channel x device CPM band")
def cost_bands(con: duckdb.DuckDBPyConnection) -> CheckResult:
    bad = fetch_scalar(
        con,
        f"""
        SELECT count(*) FROM fact_marketing m LEFT JOIN ({_bands_sql()}) b
            ON b.channel = m."Channel" AND b.device = m."Device"
        WHERE b.channel IS NULL OR m."Cost" < b.lo - 0.000001 OR m."Cost" > b.hi + 0.000001
        """,
    )
    return CheckResult.hard("", int(bad or 0), "SPEC §6.8 CPM / 1000 x device multiplier")
