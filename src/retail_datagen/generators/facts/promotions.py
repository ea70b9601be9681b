"""Promotions: the 13 codes with their calendar, minimum baskets and scope (SPEC §6.2).

Shared by in-store receipts and online orders: given lines grouped into baskets it picks at most
one code per basket and returns each line's discount in cents, so money identities hold exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen import calendar
from retail_datagen.generators.facts.columns import lookup, timestamps, trace_ids
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.money import cents_to_decimal, percent_of
from retail_datagen.rng import substream_seeds, uniform_from_seeds
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_PROMOTIONS

__all__ = [
    "PROMO_CODES",
    "PROMO_NAMES",
    "PromoCode",
    "PromoResult",
    "apply_promotions",
    "promotion_rows",
    "promotions_table",
]


@dataclass(frozen=True)
class PromoCode:
    code: str
    kind: str  # PERCENT or BOGO
    percent: int  # off the promoted lines; BOGO: off every second unit
    min_basket_cents: int = 0
    months: frozenset[int] | None = None  # None: all year
    scope: str = "ALL"  # ALL, CLEARANCE, MULTI_UNIT, NON_GROCERY or departments joined by "|"
    weight: float = 1.0  # relative pick weight among eligible codes


_ALL_YEAR = None
PROMO_CODES: tuple[PromoCode, ...] = (
    PromoCode("SAVE10", "PERCENT", 10, weight=3.0),
    PromoCode("SAVE15", "PERCENT", 15, 2_500, weight=2.0),
    PromoCode("SAVE20", "PERCENT", 20, 5_000, weight=1.5),
    PromoCode("SAVE25", "PERCENT", 25, 7_500),
    PromoCode("BOGO50", "BOGO", 50, scope="MULTI_UNIT", weight=1.5),
    PromoCode("CLEARANCE30", "PERCENT", 30, months=frozenset({1, 2, 7, 8}), scope="CLEARANCE"),
    PromoCode(
        "CLEARANCE50", "PERCENT", 50, months=frozenset({1, 2, 7, 8}), scope="CLEARANCE", weight=0.6
    ),
    PromoCode(
        "BFRIDAY30",
        "PERCENT",
        30,
        months=frozenset({11}),
        scope="Electronics|Baby & Kids|Seasonal & Sports",
        weight=3.0,
    ),
    PromoCode(
        "BFRIDAY40",
        "PERCENT",
        40,
        10_000,
        months=frozenset({11}),
        scope="Electronics|Baby & Kids|Seasonal & Sports",
        weight=2.0,
    ),
    PromoCode(
        "SUMMER25",
        "PERCENT",
        25,
        months=frozenset({6, 7, 8}),
        scope="Seasonal & Sports|Home & Garden|Clothing",
        weight=2.0,
    ),
    PromoCode(
        "BACKTOSCHOOL",
        "PERCENT",
        15,
        months=frozenset({8, 9}),
        scope="Office Supplies|Clothing|Electronics",
        weight=2.0,
    ),
    PromoCode("HOLIDAY20", "PERCENT", 20, months=frozenset({12}), scope="NON_GROCERY", weight=3.0),
    PromoCode(
        "NEWYEAR15",
        "PERCENT",
        15,
        months=frozenset({1, 2}),
        scope="Health & Beauty|Seasonal & Sports",
        weight=2.0,
    ),
)
PROMO_NAMES = tuple(p.code for p in PROMO_CODES)
DISCOUNT_TYPES = ("PERCENT", "BOGO")

# share of baskets that use a code, by segment (SPEC §6.2: about 30/8/10/15 %, scaled so that
# 10-20 % of all receipts carry a code even in November and December; rows follow SEGMENTS)
SEGMENT_PROMO_RATE = np.array([0.27, 0.072, 0.09, 0.135])
CLEARANCE_SHARE = 0.12  # products on clearance (a stable, keyed choice)


@dataclass(frozen=True)
class PromoResult:
    basket_code: np.ndarray  # per basket: index into PROMO_CODES, -1 for none
    line_code: np.ndarray  # per line: index into PROMO_CODES, -1 when the line is not promoted
    line_discount: np.ndarray  # per line, cents


def _in_scope(
    ctx: FactContext, promo: PromoCode, product: np.ndarray, qty: np.ndarray
) -> np.ndarray:
    if promo.scope == "ALL":
        return np.ones(product.size, dtype=bool)
    if promo.scope == "MULTI_UNIT":
        return qty >= 2
    if promo.scope == "CLEARANCE":
        u = uniform_from_seeds(substream_seeds(ctx.seed, "clearance", ctx.product_id[product]))
        return u < CLEARANCE_SHARE
    names = ctx.department_names
    if promo.scope == "NON_GROCERY":
        wanted = [i for i, n in enumerate(names) if n != "Grocery"]
    else:
        scope = set(promo.scope.split("|"))
        wanted = [i for i, n in enumerate(names) if n in scope]
    return np.isin(ctx.product_department[product], wanted)


def apply_promotions(
    ctx: FactContext,
    day: date,
    rng: np.random.Generator,
    line_basket: np.ndarray,
    line_product: np.ndarray,
    line_qty: np.ndarray,
    line_unit_cents: np.ndarray,
    basket_segment: np.ndarray,
) -> PromoResult:
    """Choose at most one eligible code per basket and price its lines' discounts."""
    n_baskets = basket_segment.size
    n_lines = line_basket.size
    subtotal = np.bincount(line_basket, weights=line_unit_cents * line_qty, minlength=n_baskets)
    active = [i for i, p in enumerate(PROMO_CODES) if p.months is None or day.month in p.months]
    scope = np.zeros((len(active), n_lines), dtype=bool)
    weight = np.zeros((n_baskets, len(active)))
    for j, i in enumerate(active):
        promo = PROMO_CODES[i]
        scope[j] = _in_scope(ctx, promo, line_product, line_qty)
        has_scope = np.bincount(line_basket, weights=scope[j], minlength=n_baskets) > 0
        weight[:, j] = np.where(has_scope & (subtotal >= promo.min_basket_cents), promo.weight, 0)

    rate = SEGMENT_PROMO_RATE[basket_segment] * calendar.promo_season_multiplier(day)
    uses = rng.random(n_baskets) < rate
    totals = weight.sum(axis=1)
    uses &= totals > 0
    cum = np.cumsum(weight, axis=1) / np.where(totals > 0, totals, 1)[:, None]
    pick = (rng.random(n_baskets)[:, None] >= cum).sum(axis=1)
    pick = np.minimum(pick, len(active) - 1)
    active_arr = np.array(active, dtype=np.int64)
    basket_code = np.where(uses, active_arr[pick], -1)

    line_pick = pick[line_basket]
    promoted = uses[line_basket] & scope[line_pick, np.arange(n_lines)]
    line_code = np.where(promoted, basket_code[line_basket], -1)
    percent = np.array([p.percent for p in PROMO_CODES])[np.maximum(line_code, 0)]
    is_bogo = np.array([p.kind == "BOGO" for p in PROMO_CODES])[np.maximum(line_code, 0)]
    gross = line_unit_cents * line_qty
    discount = np.where(
        is_bogo, percent_of(line_unit_cents * (line_qty // 2), percent), percent_of(gross, percent)
    )
    return PromoResult(basket_code, line_code, np.where(promoted, discount, 0).astype(np.int64))


def promotion_rows(
    result: PromoResult, line_basket: np.ndarray, line_product: np.ndarray
) -> dict[str, np.ndarray]:
    """Per promoted basket: its code, discount type, discount total and how many distinct
    products the code applied to."""
    n = result.basket_code.size
    amount = np.bincount(line_basket, weights=result.line_discount, minlength=n).astype(np.int64)
    promoted = np.flatnonzero(result.line_code >= 0)
    stride = int(line_product.max(initial=0)) + 1
    pairs = np.unique(line_basket[promoted].astype(np.int64) * stride + line_product[promoted])
    count = np.bincount(pairs // stride, minlength=n).astype(np.int32)
    baskets = np.flatnonzero(result.basket_code >= 0)
    code = result.basket_code[baskets]
    kind = np.array([DISCOUNT_TYPES.index(p.kind) for p in PROMO_CODES])[code]
    return {
        "basket": baskets,
        "code": code,
        "kind": kind,
        "amount": amount[baskets],
        "count": count[baskets],
    }


def promotions_table(
    ctx: FactContext,
    day: date,
    result: PromoResult,
    line_basket: np.ndarray,
    line_product: np.ndarray,
    *,
    partition: int,
    receipt_ids: pa.Array | None,
    order_ids: pa.Array | None,
    store_id: np.ndarray,
    customer: np.ndarray,
    seconds: np.ndarray,
) -> pa.Table:
    """fact_promotions rows (one per promoted receipt or order); ``store_id`` < 0 means NULL."""
    rows = promotion_rows(result, line_basket, line_product)
    baskets = rows["basket"]
    n = baskets.size
    take = pa.array(baskets)
    stores = store_id[baskets]
    return normalise(
        FACT_PROMOTIONS,
        pa.table(
            {
                "TraceId": trace_ids("fact_promotions", partition, day, n),
                "EventTS": timestamps(day, seconds[baskets]),
                "ReceiptId": receipt_ids.take(take)
                if receipt_ids is not None
                else pa.nulls(n, pa.string()),
                "OrderId": order_ids.take(take)
                if order_ids is not None
                else pa.nulls(n, pa.string()),
                "StoreID": pa.array(stores.astype(np.int32), mask=stores < 0),
                "CustomerID": ctx.customer_ids(customer[baskets]),
                "PromoCode": lookup(PROMO_NAMES, rows["code"]),
                "DiscountType": lookup(DISCOUNT_TYPES, rows["kind"]),
                "DiscountAmount": cents_to_decimal(rows["amount"]),
                "ProductCount": pa.array(rows["count"].astype(np.int32)),
            }
        ),
    )
