"""The region day as a recipe of named phases: keyed draws, small functions, unique ids."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator, Mapping
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_datagen.engine.partitions import NETWORK, UnitResult, canonical_units
from retail_datagen.engine.steps import run_serial
from retail_datagen.generators.facts import (
    dc_ledger,
    disruption_impact,
    region_day,
    replenishment,
    shipping,
    stock_counts,
    store_stock,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.rng import stream

PHASES = (
    region_day,
    disruption_impact,
    replenishment,
    shipping,
    stock_counts,
    store_stock,
    dc_ledger,
)
MAX_FUNCTION_LINES = 80


def _days(ctx: FactContext, n: int) -> Iterator[Mapping[str, pa.Table]]:
    # from the first day, so returns pending from before it are carried
    days = [date.fromordinal(ctx.history_start.toordinal() + i) for i in range(n)]
    results: list[UnitResult] = []
    run_serial(ctx, canonical_units(days, ctx.supply.region_stores), {}, results.append)
    return (r.tables for r in results if r.unit.partition != NETWORK)


def _rows(ctx: FactContext, name: str, days: int = 1) -> pa.Table:
    return pa.concat_tables(t[name] for t in _days(ctx, days) if name in t)


def test_no_phase_function_is_longer_than_80_lines() -> None:
    for module in PHASES:
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, f"{module.__name__}.{node.name}: {length}"


def test_an_extra_draw_in_one_stream_changes_no_other_column(
    ctx: FactContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restocking returned units draws from its own stream: drawing more there leaves sales,
    which products are counted or damaged, and the DC untouched."""
    before = {n: _rows(ctx, n) for n in ("fact_store_inventory_txn", "fact_receipt_lines")}
    before_dc = _rows(ctx, "fact_dc_inventory_txn")

    def greedy(seed: int, domain: str, *keys: int) -> np.random.Generator:
        rng = stream(seed, domain, *keys)
        if domain == "stock.restock":
            rng.random(17)  # a new draw in this stream only
        return rng

    monkeypatch.setattr(store_stock, "stream", greedy)
    after = {n: _rows(ctx, n) for n in before}
    assert after["fact_receipt_lines"].equals(before["fact_receipt_lines"])
    assert _rows(ctx, "fact_dc_inventory_txn").equals(before_dc)

    def by(table: pa.Table, column: str, value: str) -> list[tuple[object, ...]]:
        rows = table.filter(pc.equal(table[column], value))
        return sorted(
            zip(*(rows[c].to_pylist() for c in ("StoreID", "ProductID", "Reason")), strict=True)
        )

    ledger_before, ledger_after = (
        before["fact_store_inventory_txn"],
        after["fact_store_inventory_txn"],
    )
    assert by(ledger_after, "Source", "COUNT") == by(ledger_before, "Source", "COUNT")
    sold = pc.equal(ledger_before["Reason"], "SALE")
    assert ledger_after.filter(pc.equal(ledger_after["Reason"], "SALE"))["QtyDelta"].equals(
        ledger_before.filter(sold)["QtyDelta"]
    )
    returned = ledger_before.filter(pc.equal(ledger_before["Reason"], "RETURN"))
    assert returned.num_rows, "the scenario needs restocked returns"


def test_ids_are_unique_and_every_online_order_has_one_fulfilling_node(ctx: FactContext) -> None:
    days = list(_days(ctx, 2))
    for name in ("fact_online_orders", "fact_stockouts", "fact_payments", "fact_reorders"):
        trace = pa.concat_tables(t[name] for t in days if name in t)["TraceId"]
        assert pc.count_distinct(trace).as_py() == len(trace), name
    orders = pa.concat_tables(t["fact_online_orders"] for t in days)
    assert pc.count_distinct(orders["OrderId"]).as_py() == orders.num_rows
    payments = pa.concat_tables(t["fact_payments"] for t in days)["PaymentId"]
    assert pc.count_distinct(payments).as_py() == len(payments)
