"""dim_product_prices: each product's shelf-price history, and the day's changes for the stream.

The history lists, per product, the INITIAL price on the dataset's first day and then a row for
every day its price changes (see :mod:`price_model` for why and when prices change). Rows change
at local midnight: ValidFrom is inclusive, ValidTo exclusive (the next row's ValidFrom), NULL on
the current row, whose price ``dim_products.SalePrice`` shows.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import money, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.price_model import (
    EPOCH_ORDINAL,
    INITIAL,
    PRICE_REASONS,
    PricePlan,
    change_days,
    change_reason,
    evaluate,
    price_changes,
    price_plan,
    prices_on,
)
from retail_datagen.schema.tables import DIM_PRODUCT_PRICES, PRICE_CHANGES

__all__ = [
    "generate_product_prices",
    "price_change_table",
    "price_history",
    "with_current_prices",
]

_US_PER_DAY = 86_400 * 1_000_000


def price_change_table(plan: PricePlan, day: date) -> pa.Table:
    """The day's changes as ``price_changes`` rows (the payload of ``price_changed`` events),
    due at local midnight; TraceId ``PRC-<yyyymmdd>-<ProductID>``."""
    changes = price_changes(plan, day)
    ids = pa.array(plan.product_id[changes.index], pa.int32())
    midnight = _timestamps(np.full(len(ids), day.toordinal(), dtype=np.int64))
    trace = pc.binary_join_element_wise(
        f"PRC-{day:%Y%m%d}-", pc.utf8_lpad(pc.cast(ids, pa.string()), 6, "0"), ""
    )
    table = pa.table(
        {
            "TraceId": trace,
            "EventTS": midnight,
            "ProductID": ids,
            "OldSalePrice": money.cents_to_decimal(changes.old),
            "NewSalePrice": money.cents_to_decimal(changes.new),
            "Reason": pa.array(PRICE_REASONS, pa.string()).take(pa.array(changes.reason)),
            "ValidFrom": midnight,
        }
    )
    return schema.normalise(PRICE_CHANGES, table)


def _timestamps(ordinals: np.ndarray) -> pa.Array:
    return pa.array((ordinals - EPOCH_ORDINAL) * _US_PER_DAY, pa.timestamp("us"))


def price_history(plan: PricePlan, last: date) -> pa.Table:
    """dim_product_prices from the plan's first day through ``last`` (at least one row, the
    INITIAL one, per product; exactly one current row with ValidTo NULL)."""
    last_day = max(last.toordinal(), plan.first)
    idx, day = change_days(plan, last_day)
    price, state = evaluate(plan, idx, day)
    new_product = np.ones(idx.size, dtype=bool)
    new_product[1:] = idx[1:] != idx[:-1]
    changed = new_product.copy()
    changed[1:] |= price[1:] != price[:-1]
    before = np.roll(state, 1)
    reason = np.where(new_product, INITIAL, change_reason(state, before))
    rows = np.flatnonzero(changed)
    idx, day, price, reason = idx[rows], day[rows], price[rows], reason[rows]
    is_last = np.ones(rows.size, dtype=bool)
    is_last[:-1] = idx[:-1] != idx[1:]
    valid_to = np.where(is_last, 0, np.roll(day, -1))
    table = pa.table(
        {
            "ProductID": pa.array(plan.product_id[idx], pa.int32()),
            "ValidFrom": _timestamps(day),
            "ValidTo": pa.array(
                (valid_to - EPOCH_ORDINAL) * _US_PER_DAY, pa.timestamp("us"), mask=is_last
            ),
            "SalePrice": money.cents_to_decimal(price),
            "Reason": pa.array(PRICE_REASONS, pa.string()).take(pa.array(reason)),
        }
    )
    return schema.normalise(DIM_PRODUCT_PRICES, table)


def with_current_prices(products: pa.Table, plan: PricePlan, last: date) -> pa.Table:
    """``products`` with SalePrice set to each product's price on ``last`` (the current row)."""
    ordered = products.sort_by("ID")
    current = money.cents_to_decimal(prices_on(plan, last))
    column = ordered.schema.get_field_index("SalePrice")
    return ordered.set_column(column, ordered.schema.field(column), current)


def generate_product_prices(config: RetailConfig, products: pa.Table) -> pa.Table:
    """The history before any fact exists: one INITIAL row per product from
    ``historical.start_date``; fact runs extend it through the end of their range."""
    start = config.historical.start_date
    return price_history(price_plan(config.seed, products, start), start)
