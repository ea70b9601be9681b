"""The simulation one day at a time, in this process — what the streamer runs forward.

A day's rows are exactly those a historical run writes for that day (same units, same order),
so events streamed for a period carry the same ids and money as the batch rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.partitions import RegionCarry, UnitResult, canonical_units
from retail_datagen.engine.steps import run_serial
from retail_datagen.generators.dims.product_prices import price_change_table
from retail_datagen.generators.facts.context import FactContext, build_context

__all__ = ["Simulation"]


class Simulation:
    def __init__(
        self,
        config: RetailConfig,
        dims: Mapping[str, pa.Table],
        history_start: date,
        disruptions: Sequence[Any] = (),
    ) -> None:
        self.ctx: FactContext = build_context(config, dims, history_start, disruptions)

    def run_day(
        self, day: date, carry: Mapping[int, RegionCarry]
    ) -> tuple[dict[str, pa.Table], dict[int, RegionCarry]]:
        """Every fact row of ``day`` by table, and the state carried out of the day."""
        parts: dict[str, list[pa.Table]] = {}
        state = dict(carry)

        def collect(result: UnitResult) -> None:
            for name, table in result.tables.items():
                parts.setdefault(name, []).append(table)
            state.update(result.carry)

        run_serial(self.ctx, canonical_units([day], self.ctx.supply.region_stores), carry, collect)
        return {name: pa.concat_tables(tables) for name, tables in parts.items()}, state

    def price_changes(self, day: date) -> pa.Table:
        """The shelf-price changes that take effect at midnight of ``day`` (not a stored fact:
        the persisted history is dim_product_prices, updated when the day is committed)."""
        return price_change_table(self.ctx.prices, day)
