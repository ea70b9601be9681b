"""Baskets: how many lines a shopper buys, which products and how many units (SPEC §6.1).

Basket size follows the store format, the trip type and the segment, scaled by the configured
``items_per_ticket_mean``; product choice weighs popularity and price (by department, segment and
format) and spreads lines so each department takes the format's share of spend, then follows
seasons, holiday lifts and launch dates. A product drawn twice is one line (``merge_repeats``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from retail_datagen import calendar
from retail_datagen.generators import store_formats as F
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.context import FactContext

__all__ = [
    "basket_line_counts",
    "expected_daily_units",
    "line_quantities",
    "merge_repeats",
    "product_probabilities",
    "sample_products",
]

_TRIP_MEANS = np.array([(lo + hi) / 2 for lo, hi in B.TRIP_ITEMS])
_SEGMENT_SHARES = np.array([0.35, 0.25, 0.20, 0.20])
_SEGMENT_NORM = float((_SEGMENT_SHARES * B.SEGMENT_BASKET_FACTOR).sum())


def basket_line_counts(
    ctx: FactContext,
    rng: np.random.Generator,
    format_code: int,
    segment: np.ndarray,
    lift: np.ndarray,
) -> np.ndarray:
    """Lines per basket (≥ 1); ``lift`` multiplies the basket (marketing-driven visits: 1.25)."""
    n = segment.size
    mix = F.TRIP_MIX[format_code]
    trip = np.searchsorted(np.cumsum(mix), rng.random(n) * mix.sum(), side="right")
    trip = np.minimum(trip, len(B.TRIP_ITEMS) - 1)
    lo = np.array([t[0] for t in B.TRIP_ITEMS])[trip]
    hi = np.array([t[1] for t in B.TRIP_ITEMS])[trip]
    raw = lo + rng.random(n) * (hi - lo + 1)
    scale = ctx.config.volume.items_per_ticket_mean / B.REFERENCE_ITEMS_PER_TICKET
    target = F.ITEMS_MEAN[format_code] * scale / float((mix * _TRIP_MEANS).sum())
    items = raw * target * B.SEGMENT_BASKET_FACTOR[segment] / _SEGMENT_NORM * lift
    lines = items / B.LINE_QTY_MEAN
    whole = np.floor(lines)
    lines = whole + (rng.random(n) < lines - whole)  # stochastic rounding keeps the mean
    counts: np.ndarray = np.maximum(lines, 1).astype(np.int64)
    return counts


def merge_repeats(
    basket: np.ndarray, product: np.ndarray, qty: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One line per product per basket: repeated draws become one line carrying their units.

    ``basket`` is non-decreasing; lines keep the order in which each product first appeared,
    so a basket still reads in the order it was filled.
    """
    if basket.size < 2:
        return basket, product, qty
    key = basket.astype(np.int64) * (int(product.max()) + 1) + product
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    units = np.bincount(inverse, weights=qty, minlength=first.size)
    order = np.argsort(first, kind="stable")
    pick = first[order]
    merged: np.ndarray = np.rint(units[order]).astype(qty.dtype)
    return basket[pick], product[pick], merged


def line_quantities(rng: np.random.Generator, n: int) -> np.ndarray:
    cdf = np.cumsum(B.LINE_QTY_P)
    qty: np.ndarray = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right") + 1
    return qty.astype(np.int64)


def product_probabilities(
    ctx: FactContext, day: date, format_code: int, segment: int, price_tilt: float = 0.0
) -> np.ndarray:
    """Probability of each product being the next line, for one format, segment and day.

    Inside a department, choice follows popularity and price; across departments, lines are
    spread so each department takes its share of the format's spend (``department_shares``);
    then seasons and holiday lifts move demand between categories.
    """
    catalogue = _catalogue(ctx)
    launched = ctx.launched_mask(day)
    price = np.maximum(ctx.prices_on(day), 1).astype(np.float64)  # a markdown lifts demand
    beta = catalogue.beta + (
        B.SEGMENT_PRICE_BETA[segment] + F.FORMAT_PRICE_BETA[format_code] + price_tilt
    )
    w = np.exp(
        B.SEGMENT_POPULARITY_EXPONENT[segment] * catalogue.log_popularity - beta * np.log(price)
    )
    w *= launched
    department = ctx.product_department
    spend = np.bincount(department, weights=w * price, minlength=catalogue.shares.shape[1])
    # a department's lines in proportion to its share of spend over its expected spend
    factor = np.divide(
        catalogue.shares[format_code], spend, out=np.zeros(spend.size), where=spend > 0
    )
    p = w * factor[department] * _category_factor(ctx, day)[ctx.product_category]
    total = p.sum()
    if total <= 0:  # nothing launched yet in the mixed departments: fall back to launched items
        p = launched.astype(np.float64)
        total = p.sum()
    return p / total if total > 0 else np.full(p.size, 1.0 / p.size)


@dataclass(frozen=True)
class _Catalogue:
    """What line choice reads on every call that depends on the context only."""

    log_popularity: np.ndarray
    beta: np.ndarray  # per product: its department's price exponent
    shares: np.ndarray  # (formats, departments): share of spend


def _catalogue(ctx: FactContext) -> _Catalogue:
    catalogue = ctx.memo.get(_CATALOGUE_MEMO)
    if not isinstance(catalogue, _Catalogue):
        names = ctx.department_names
        beta = np.array([B.DEPARTMENT_PRICE_BETA.get(d, B.PRICE_BETA) for d in names])
        catalogue = ctx.memo[_CATALOGUE_MEMO] = _Catalogue(
            log_popularity=np.log(ctx.product_popularity),
            beta=beta[ctx.product_department],
            shares=F.department_spend_shares(names),
        )
    return catalogue


def _category_factor(ctx: FactContext, day: date) -> np.ndarray:
    """Per category: its season on ``day`` times any holiday lift."""
    memo = _day_memo(ctx, day)
    factor = memo.get("category")
    if factor is None:
        factor = memo["category"] = np.ones(len(ctx.category_names))
        index = {name: i for i, name in enumerate(ctx.category_names)}
        for lifts in (calendar.category_season(day), calendar.category_lift(day)):
            for name, value in lifts.items():
                if name in index:
                    factor[index[name]] *= value
    result: np.ndarray = factor
    return result


def _day_memo(ctx: FactContext, day: date) -> dict[object, np.ndarray]:
    """Per-day derived arrays of the last few days (the stores of a day share them). They are
    pure functions of (context, day, key), so the memo never changes a result."""
    days: dict[int, dict[object, np.ndarray]] = ctx.memo.setdefault(_DAY_MEMO, {})
    ordinal = day.toordinal()
    if ordinal not in days and len(days) >= _MEMO_DAYS:
        days.pop(min(days))
    return days.setdefault(ordinal, {})


_CATALOGUE_MEMO, _DAY_MEMO, _MEMO_DAYS = "basket_catalogue", "basket_days", 3


def sample_products(
    ctx: FactContext,
    day: date,
    rng: np.random.Generator,
    format_code: int,
    segment: np.ndarray,
    tilted: np.ndarray | None = None,
) -> np.ndarray:
    """One product index per draw; ``tilted`` draws lean to pricier items (marketing visits)."""
    out = np.empty(segment.size, dtype=np.int64)
    u = rng.random(segment.size)
    groups = segment.astype(np.int64) * 2 + (0 if tilted is None else tilted.astype(np.int64))
    memo = _day_memo(ctx, day)
    for g in np.unique(groups).tolist():
        sel = groups == g
        seg, tilt = divmod(g, 2)
        key = (format_code, seg, tilt)
        cdf = memo.get(key)
        if cdf is None:
            p = product_probabilities(ctx, day, format_code, seg, B.MARKETING_PRICE_TILT * tilt)
            cdf = memo[key] = np.cumsum(p)
        out[sel] = np.minimum(np.searchsorted(cdf, u[sel] * cdf[-1], side="right"), cdf.size - 1)
    return out


def expected_daily_units(ctx: FactContext, stores: np.ndarray, day: date) -> np.ndarray:
    """Units of each product a store sells on an ordinary day (stores × products).

    The replenishment policy starts from this estimate and then follows actual sales.
    """
    scale = ctx.config.volume.items_per_ticket_mean / B.REFERENCE_ITEMS_PER_TICKET
    mix: dict[int, np.ndarray] = {}
    out = np.zeros((stores.size, ctx.product_id.size))
    for k, store in enumerate(stores.tolist()):
        fmt = int(ctx.store_format[store])
        if fmt not in mix:
            mix[fmt] = sum(
                share * product_probabilities(ctx, day, fmt, segment)
                for segment, share in enumerate(_SEGMENT_SHARES.tolist())
            )
        receipts = ctx.config.volume.customers_per_day * float(ctx.store_traffic[store])
        out[k] = receipts * F.ITEMS_MEAN[fmt] * scale * mix[fmt]
    return out
