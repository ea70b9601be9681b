"""Basket checks: generated store-days (January and July) pass; crafted baskets fail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.generators.facts.conftest import SMALL_VOLUME

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.facts.context import build_context
from retail_datagen.generators.facts.online_orders import generate_online_orders_day
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.store_day import simulate_store_day
from retail_datagen.generators.master_generator import build_dimensions
from retail_datagen.validation import basket_checks as bc
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import registered_checks

Tables = dict[str, pa.Table]
DAYS = (date(2024, 1, 10), date(2024, 1, 11), date(2024, 7, 10), date(2024, 7, 11))
FACTS = ("fact_receipts", "fact_receipt_lines", "fact_promotions")


@pytest.fixture(scope="module")
def generated() -> Tables:
    """Dimensions of a small chain and the facts of its first stores on January and July days."""
    config = RetailConfig.from_mapping({"volume": SMALL_VOLUME})
    dims = build_dimensions(config)
    ctx = build_context(config, dims)
    parts: dict[str, list[pa.Table]] = {name: [] for name in (*FACTS, "fact_online_order_lines")}
    for day in DAYS:
        for store in range(3):
            tables = simulate_store_day(ctx, store, day, empty_pending()).tables
            for name in FACTS:
                parts[name].append(tables[name])
        online = generate_online_orders_day(ctx, day)
        parts["fact_online_order_lines"].append(online["fact_online_order_lines"])
        parts["fact_promotions"].append(online["fact_promotions"])
    facts = {name: pa.concat_tables(p) for name, p in parts.items()}
    return {"dim_products": dims["dim_products"], "dim_stores": dims["dim_stores"], **facts}


def _run(fn: Callable[[duckdb.DuckDBPyConnection], CheckResult], tables: Tables) -> CheckResult:
    with duckdb.connect() as con:
        for name, table in tables.items():
            con.register(name, table)
        return fn(con)


def _replace(table: pa.Table, column: str, values: Any) -> pa.Table:
    index = table.schema.get_field_index(column)
    return table.set_column(index, table.schema.field(index), pa.array(values, table[column].type))


def _products_of(tables: Tables, departments: set[str]) -> list[int]:
    products = tables["dim_products"]
    mask = pc.is_in(products["Department"], pa.array(sorted(departments)))
    ids: list[int] = products.filter(mask)["ID"].to_pylist()
    return ids


CHECKS = [
    bc.promotion_product_count,
    bc.average_ticket_by_format,
    bc.grocery_share,
    bc.top_other_category_share,
    bc.seasonal_categories,
]


@pytest.mark.parametrize("fn", CHECKS, ids=lambda f: f.__name__)
def test_generated_baskets_pass(
    generated: Tables, fn: Callable[[duckdb.DuckDBPyConnection], CheckResult]
) -> None:
    result = _run(fn, generated)
    assert result.passed, (result.measured, result.detail)
    assert "skipped" not in result.detail, result.detail


def _key(name: str) -> Callable[[duckdb.DuckDBPyConnection], CheckResult]:
    return next(c.fn for c in registered_checks() if c.name == name)


def test_a_repeated_product_line_is_counted(generated: Tables) -> None:
    """One line per product is a unique key of the schema, checked like every key."""
    lines = generated["fact_receipt_lines"]
    repeated = pa.concat_tables([lines, lines.slice(0, 3)])
    by_receipt = _key("unique fact_receipt_lines(ReceiptId, ProductID)")
    assert _run(by_receipt, generated).violations == 0
    assert _run(by_receipt, {**generated, "fact_receipt_lines": repeated}).violations == 3
    orders = generated["fact_online_order_lines"]
    repeated = pa.concat_tables([orders, orders.slice(0, 2)])
    by_order = _key("unique fact_online_order_lines(OrderId, ProductID)")
    assert _run(by_order, generated).violations == 0
    assert _run(by_order, {**generated, "fact_online_order_lines": repeated}).violations == 2


def test_product_count_that_counts_lines_is_counted(generated: Tables) -> None:
    promos = generated["fact_promotions"]
    wrong = _replace(promos, "ProductCount", [n + 1 for n in promos["ProductCount"].to_pylist()])
    result = _run(bc.promotion_product_count, {**generated, "fact_promotions": wrong})
    assert result.violations == promos.num_rows


def test_tickets_out_of_range_fail(generated: Tables) -> None:
    receipts = generated["fact_receipts"]
    totals = [t * 10 for t in receipts["Total"].to_pylist()]
    result = _run(
        bc.average_ticket_by_format,
        {**generated, "fact_receipts": _replace(receipts, "Total", totals)},
    )
    assert not result.passed and result.measured is not None and result.measured > 120


def test_a_chain_selling_no_groceries_fails(generated: Tables) -> None:
    lines = generated["fact_receipt_lines"]
    tv = _products_of(generated, {"Electronics"})
    ids = [tv[i % len(tv)] for i in range(lines.num_rows)]
    bad = {**generated, "fact_receipt_lines": _replace(lines, "ProductID", ids)}
    assert not _run(bc.grocery_share, bad).passed
    assert not _run(bc.top_other_category_share, bad).passed


def test_grilling_sold_in_january_as_in_july_fails(generated: Tables) -> None:
    products = generated["dim_products"]
    grill = products.filter(pc.equal(products["Category"], "Grilling & Outdoor"))["ID"][0].as_py()
    lines = generated["fact_receipt_lines"]
    january = pc.equal(pc.month(lines["EventTS"]), 1).to_pylist()
    ids = [
        grill if jan and i % 20 == 0 else p
        for i, (jan, p) in enumerate(zip(january, lines["ProductID"].to_pylist(), strict=True))
    ]
    result = _run(
        bc.seasonal_categories,
        {**generated, "fact_receipt_lines": _replace(lines, "ProductID", ids)},
    )
    assert not result.passed and "Grilling & Outdoor" in result.detail


def test_season_check_is_skipped_without_a_contrast(generated: Tables) -> None:
    lines = generated["fact_receipt_lines"]
    january = lines.filter(pc.equal(pc.month(lines["EventTS"]), 1))
    result = _run(bc.seasonal_categories, {**generated, "fact_receipt_lines": january})
    assert result.passed and "skipped" in result.detail
