"""The price checks fail on crafted bad data (tests/engine/test_price_history.py shows that
generated data passes them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.schema import TABLES
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.dimension_store import save_dimensions
from retail_datagen.storage.layout import DataLayout
from retail_datagen.validation import ValidationReport, validate
from retail_datagen.validation.runner import registered_checks

FactFactory = Callable[..., pa.Table]
MODULES = ("retail_datagen.validation.key_checks", "retail_datagen.validation.price_checks")
LINES = "prices: every sale and online line at the shelf price of its time"
CONTIGUOUS = "prices: history contiguous with one current row per product"
ORDER = "prices: Cost < SalePrice <= MSRP for every history price"
CURRENT = "prices: dim_products.SalePrice is the current history price"


def _history(rows: list[tuple[int, datetime, datetime | None, str, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"ProductID": p, "ValidFrom": f, "ValidTo": t, "SalePrice": Decimal(s), "Reason": r}
            for p, f, t, s, r in rows
        ],
        schema=TABLES["dim_product_prices"].arrow_schema,
    )


def _price(dims: dict[str, pa.Table], product: int) -> Decimal:
    value: Decimal = dims["dim_products"].column("SalePrice")[product - 1].as_py()
    return value


def _validate(data_dir: Path, dims: dict[str, pa.Table], **facts: pa.Table) -> ValidationReport:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    for name, table in facts.items():
        write_parquet_atomic(table, layout.fact_month_file(name, 2024, 1))
    if facts:
        GenerationStateManager(data_dir).update(
            has_fact_data=True,
            historical_start_date=datetime(2024, 1, 1),
            last_generated_timestamp=datetime(2024, 1, 31, 23, 59, 59),
        )
    # hand-made facts would fail the fact-behaviour checks: run the key and price checks
    return validate(data_dir, checks=registered_checks(MODULES))


def _marked_down(dims: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """Product 1 at 10.00 from January 10 (a markdown), the others at their INITIAL price."""
    rows: list[tuple[int, datetime, datetime | None, str, str]] = []
    for product in range(1, dims["dim_products"].num_rows + 1):
        price = str(_price(dims, product))
        if product == 1:
            rows += [
                (1, datetime(2024, 1, 1), datetime(2024, 1, 10), price, "INITIAL"),
                (1, datetime(2024, 1, 10), None, "10.00", "MARKDOWN"),
            ]
        else:
            rows.append((product, datetime(2024, 1, 1), None, price, "INITIAL"))
    products = dims["dim_products"]
    sale = products.column("SalePrice").to_pylist()
    sale[0] = Decimal("10.00")
    index = products.schema.get_field_index("SalePrice")
    products = products.set_column(
        index, products.schema.field(index), pa.array(sale, products.schema.field(index).type)
    )
    return {**dims, "dim_products": products, "dim_product_prices": _history(rows)}


def _sale(make_fact: FactFactory, receipt_type: str = "SALE", **lines: Any) -> dict[str, pa.Table]:
    """One receipt per line: a receipt holds one line per product."""
    n = len(lines["EventTS"])
    ids = [f"R{i + 1}" for i in range(n)]
    receipts = make_fact("fact_receipts", n, ReceiptId=ids, ReceiptType=receipt_type)
    return {
        "fact_receipts": receipts,
        "fact_receipt_lines": make_fact("fact_receipt_lines", n, ReceiptId=ids, **lines),
    }


def test_lines_at_the_price_of_their_time_pass(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    data = _marked_down(dims)
    before, after = datetime(2024, 1, 9, 23), datetime(2024, 1, 10, 0, 0, 1)
    facts = _sale(
        make_fact,
        ProductID=[1, 1, 2],
        EventTS=[before, after, after],
        UnitPrice=[_price(dims, 1), Decimal("10.00"), _price(dims, 2)],
        Line=[1, 2, 3],
    )
    report = _validate(data_dir, data, **facts)
    assert report.passed, report.render(only_failures=True)


def test_a_line_at_another_price_than_the_shelf_is_counted(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    data = _marked_down(dims)
    late = datetime(2024, 1, 12, 10)
    facts = _sale(
        make_fact,
        ProductID=[1, 1, 2],
        EventTS=[late, late, late],
        UnitPrice=[_price(dims, 1), Decimal("10.00"), _price(dims, 2)],  # the first is stale
        Line=[1, 2, 3],
    )
    orders = make_fact("fact_online_orders", 1, OrderId="O1")
    online = make_fact(
        "fact_online_order_lines",
        1,
        OrderId="O1",
        ProductID=2,
        EventTS=late,
        UnitPrice=Decimal("1.23"),
    )
    early = make_fact(  # before the history starts: no price to charge
        "fact_online_order_lines",
        1,
        OrderId="O1",
        ProductID=2,
        EventTS=datetime(2023, 12, 31),
        Line=2,
        UnitPrice=_price(dims, 2),
        TraceId="t-early",
    )
    report = _validate(
        data_dir,
        data,
        **facts,
        fact_online_orders=orders,
        fact_online_order_lines=pa.concat_tables([online, early]),
    )
    result = report.result(LINES)
    assert not result.passed and result.violations == 3
    assert "product 2" in result.detail or "product 1" in result.detail


def test_return_lines_keep_the_price_paid(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    facts = _sale(
        make_fact,
        "RETURN",
        ProductID=[1],
        EventTS=[datetime(2024, 1, 12, 10)],
        UnitPrice=[Decimal("0.50")],
        Line=[1],
    )
    assert _validate(data_dir, _marked_down(dims), **facts).result(LINES).passed


def test_gaps_overlaps_and_two_current_rows_are_counted(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    rows: list[tuple[int, datetime, datetime | None, str, str]] = [
        (p, datetime(2024, 1, 1), None, str(_price(dims, p)), "INITIAL")
        for p in range(4, dims["dim_products"].num_rows + 1)
    ]
    p1, p2 = str(_price(dims, 1)), str(_price(dims, 2))
    rows += [
        (1, datetime(2024, 1, 1), datetime(2024, 1, 5), p1, "INITIAL"),  # gap to the 6th
        (1, datetime(2024, 1, 6), None, p1, "RESTORE"),
        (2, datetime(2024, 1, 1), None, p2, "INITIAL"),  # two current rows
        (2, datetime(2024, 1, 3), None, p2, "RESTORE"),
    ]  # product 3 has no history at all
    report = _validate(data_dir, {**dims, "dim_product_prices": _history(rows)})
    result = report.result(CONTIGUOUS)
    assert not result.passed and result.violations == 3
    assert "1 products without a history" in result.detail


def test_a_history_price_at_cost_or_above_msrp_is_counted(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    products = dims["dim_products"]
    cost = products.column("Cost")[0].as_py()
    msrp = products.column("MSRP")[1].as_py()
    rows: list[tuple[int, datetime, datetime | None, str, str]] = [
        (p, datetime(2024, 1, 1), None, str(_price(dims, p)), "INITIAL")
        for p in range(3, products.num_rows + 1)
    ]
    rows += [
        (1, datetime(2024, 1, 1), datetime(2024, 1, 9), str(_price(dims, 1)), "INITIAL"),
        (1, datetime(2024, 1, 9), None, str(cost), "CLEARANCE"),
        (2, datetime(2024, 1, 1), datetime(2024, 1, 9), str(_price(dims, 2)), "INITIAL"),
        (2, datetime(2024, 1, 9), None, str(msrp + Decimal("0.01")), "PRICE_INCREASE"),
    ]
    report = _validate(data_dir, {**dims, "dim_product_prices": _history(rows)})
    assert report.result(ORDER).violations == 2
    assert report.result(CURRENT).violations == 2  # dim_products still shows the old prices


def test_dim_products_sale_price_must_be_the_current_one(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    data = _marked_down(dims)
    assert _validate(data_dir, data).result(CURRENT).passed
    stale = {**data, "dim_products": dims["dim_products"]}  # SalePrice not moved to 10.00
    assert _validate(data_dir, stale).result(CURRENT).violations == 1


def test_prices_that_never_move_fail_the_markdown_share(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    from datetime import timedelta

    n = 1_200  # all after the warm-up, all at the INITIAL price
    times = [datetime(2024, 1, 16, 9) + timedelta(minutes=15 * i) for i in range(n)]
    facts = _sale(
        make_fact,
        ProductID=[2] * n,
        EventTS=times,
        UnitPrice=[_price(dims, 2)] * n,
        Line=list(range(1, n + 1)),
    )
    report = _validate(data_dir, dims, **facts)
    assert report.result(LINES).passed
    share = report.result("prices: share of sale lines at a markdown or clearance price")
    assert not share.passed and share.measured == 0.0
