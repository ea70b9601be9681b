"""The shelf-price model: a product's price on any day, a pure function of (seed, product, day).

A price on a day must not depend on how the range was generated (one run, pieces, or extended
later), so every change is placed by keyed draws on an absolute calendar rather than simulated
forward. The model, in integer cents:

- **Regular price** starts at the product's INITIAL price (the SalePrice ``dim_products`` was
  generated with) on the dataset's first day. Once a year, on a day of its own, a product's
  regular price rises with probability ``INCREASE_PROBABILITY`` by ``INCREASE_RANGE_BP``
  (PRICE_INCREASE), never above MSRP.
- **Temporary markdowns**: time is cut into ``MARKDOWN_CYCLE_DAYS`` cycles (shifted per product);
  in a cycle a product is marked down with its department's probability, for ``MARKDOWN_DAYS``,
  by its department's depth (MARKDOWN); then the regular price returns (RESTORE).
- **Clearance**: seasonal categories are cleared after their season (``CLEARANCE_RULES``) in
  steps (CLEARANCE), then return to the regular price for the next season (RESTORE).
- Every price is clamped to Cost < price ≤ MSRP. Markdowns and clearance start only strictly
  after the dataset's first day and on or after the product's launch, and no increase falls on
  or before the first day: the first day's price is always the INITIAL price, so the history is
  anchored on a value that never changes while the range grows.

``prices_on`` serves the fact generators (one day, every product); ``evaluate`` serves the
history table (many product-day pairs); both are the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import pyarrow as pa

from retail_datagen import calendar, money, rng

__all__ = [
    "CLEARANCE_DAYS",
    "CLEARANCE_RULES",
    "CLEARANCE_STEPS",
    "EPOCH_ORDINAL",
    "INCREASE_PROBABILITY",
    "INCREASE_RANGE_BP",
    "INITIAL",
    "MARKDOWN_BY_DEPARTMENT",
    "MARKDOWN_CYCLE_DAYS",
    "MARKDOWN_DAYS",
    "PRICE_REASONS",
    "ClearanceRule",
    "MarkdownProfile",
    "PriceChanges",
    "PricePlan",
    "change_days",
    "change_reason",
    "evaluate",
    "initial_prices",
    "price_changes",
    "price_plan",
    "prices_on",
]


@dataclass(frozen=True)
class MarkdownProfile:
    """A department's temporary markdowns: chance per cycle and depth in whole percent."""

    probability: float
    depth_pct: tuple[int, int]  # inclusive, drawn in steps of DEPTH_STEP_PCT


@dataclass(frozen=True)
class ClearanceRule:
    """Clearance of ``categories`` from ``offset`` days after a calendar anchor each year."""

    anchor: str  # a holiday name of calendar.HOLIDAY_RULES or "MM-DD"
    offset: int
    categories: tuple[str, ...]


# ---------------------------------------------------------------- rules as data
MARKDOWN_CYCLE_DAYS = 28  # at most one temporary markdown per product per cycle
MARKDOWN_DAYS = (7, 14)  # inclusive range of a markdown's length
DEPTH_STEP_PCT = 5  # markdowns are 10 %, 15 %, 20 % ... off, as shelf tags say
MARKDOWN_BY_DEPARTMENT: Mapping[str, MarkdownProfile] = MappingProxyType(
    {
        "Grocery": MarkdownProfile(0.35, (10, 30)),
        "Health & Beauty": MarkdownProfile(0.30, (10, 25)),
        "Baby & Kids": MarkdownProfile(0.25, (10, 25)),
        "Pet Supplies": MarkdownProfile(0.25, (10, 20)),
        "Home & Garden": MarkdownProfile(0.22, (15, 30)),
        "Clothing": MarkdownProfile(0.30, (20, 40)),
        "Electronics": MarkdownProfile(0.18, (10, 25)),
        "Office Supplies": MarkdownProfile(0.18, (10, 25)),
        "Automotive": MarkdownProfile(0.15, (10, 20)),
        "Seasonal & Sports": MarkdownProfile(0.20, (15, 30)),
    }
)
DEFAULT_MARKDOWN = MarkdownProfile(0.22, (10, 25))  # departments not listed above

INCREASE_PROBABILITY = 0.60  # chance of a yearly increase (where MSRP leaves room)
INCREASE_RANGE_BP = (100, 500)  # +1-5 %, in basis points

CLEARANCE_RULES: tuple[ClearanceRule, ...] = (
    ClearanceRule("Day After Christmas", 0, ("Holiday Decor",)),
    ClearanceRule("Independence Day", 7, ("Lawn & Garden",)),
    ClearanceRule("Independence Day", 21, ("Pool & Beach",)),
    ClearanceRule("Labor Day", 1, ("Grilling & Outdoor", "Camping & Hiking")),
    ClearanceRule("Labor Day", 8, ("School Supplies",)),
)
CLEARANCE_STEPS: tuple[tuple[int, int], ...] = ((0, 30), (14, 50))  # (day of clearance, % off)
CLEARANCE_DAYS = 28  # then the regular price returns

PRICE_REASONS: tuple[str, ...] = ("INITIAL", "MARKDOWN", "CLEARANCE", "PRICE_INCREASE", "RESTORE")
INITIAL, _MARKDOWN, _CLEARANCE, _INCREASE, _RESTORE = range(len(PRICE_REASONS))  # codes
REGULAR, MARKED_DOWN, CLEARED = 0, 1, 2  # price states

_KEY_SHIFT = 1 << 32  # key = period * 2**32 + product id: one draw per (product, period)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class PricePlan:
    """What a product's price path depends on, as column arrays (index i ↔ product row i)."""

    seed: int
    first: int  # ordinal of the dataset's first day
    product_id: np.ndarray  # int64
    initial: np.ndarray  # cents: the regular price on the first day
    cost: np.ndarray
    msrp: np.ndarray
    launch: np.ndarray  # ordinal
    markdown_p: np.ndarray
    depth_steps: np.ndarray  # number of DEPTH_STEP_PCT steps above depth_low
    depth_low: np.ndarray  # percent
    clearance_rule: np.ndarray  # index into CLEARANCE_RULES, -1 = not seasonal
    phase: np.ndarray  # day offset of the product's markdown cycles

    @property
    def n(self) -> int:
        return int(self.product_id.size)


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def initial_prices(products: pa.Table, prices: pa.Table | None) -> np.ndarray:
    """INITIAL price in cents per product (``products`` sorted by ID): the first row of each
    product's history, else its SalePrice (a history without the product)."""
    initial = money.decimal_to_cents(products.column("SalePrice"))
    if prices is None or prices.num_rows == 0:
        return initial
    ordered = prices.sort_by([("ProductID", "ascending"), ("ValidFrom", "ascending")])
    pid = _column(ordered, "ProductID").astype(np.int64)
    ids, first_row = np.unique(pid, return_index=True)
    cents = money.decimal_to_cents(ordered.column("SalePrice"))[first_row]
    product_id = _column(products, "ID").astype(np.int64)
    at = np.clip(np.searchsorted(ids, product_id), 0, max(ids.size - 1, 0))
    found = ids[at] == product_id
    return np.where(found, cents[at], initial)


def price_plan(
    seed: int, products: pa.Table, first: date, initial: np.ndarray | None = None
) -> PricePlan:
    """The plan of ``products`` (sorted by ID) for a dataset starting on ``first``."""
    products = products.sort_by("ID")
    product_id = _column(products, "ID").astype(np.int64)
    names, department = np.unique(_column(products, "Department"), return_inverse=True)
    profiles = [MARKDOWN_BY_DEPARTMENT.get(str(d), DEFAULT_MARKDOWN) for d in names]
    rule_of = {c: i for i, r in enumerate(CLEARANCE_RULES) for c in r.categories}
    categories, category = np.unique(_column(products, "Category"), return_inverse=True)
    rule = np.array([rule_of.get(str(c), -1) for c in categories], dtype=np.int64)
    launch = products.column("LaunchDate").cast(pa.int32()).to_numpy() + EPOCH_ORDINAL
    phase = rng.substream_seeds(seed, "prices.markdown_phase", product_id)
    low = np.array([p.depth_pct[0] for p in profiles], dtype=np.int64)
    high = np.array([p.depth_pct[1] for p in profiles], dtype=np.int64)
    sale = money.decimal_to_cents(products.column("SalePrice"))
    return PricePlan(
        seed=seed,
        first=first.toordinal(),
        product_id=product_id,
        initial=sale if initial is None else initial,
        cost=money.decimal_to_cents(products.column("Cost")),
        msrp=money.decimal_to_cents(products.column("MSRP")),
        launch=launch.astype(np.int64),
        markdown_p=np.array([p.probability for p in profiles], dtype=np.float64)[department],
        depth_steps=((high - low) // DEPTH_STEP_PCT)[department],
        depth_low=low[department],
        clearance_rule=rule[category],
        phase=(phase % np.uint64(MARKDOWN_CYCLE_DAYS)).astype(np.int64),
    )


# ---------------------------------------------------------------- the price on a day
def _uniform(plan: PricePlan, domain: str, period: np.ndarray, idx: np.ndarray) -> np.ndarray:
    keys = np.asarray(period, dtype=np.int64) * _KEY_SHIFT + plan.product_id[idx]
    return rng.uniform_from_seeds(rng.substream_seeds(plan.seed, domain, keys))


def _pick(u: np.ndarray, low: np.ndarray | int, count: np.ndarray | int) -> np.ndarray:
    """An integer in low .. low + count - 1 from uniforms."""
    return np.asarray(low + np.floor(u * count).astype(np.int64), dtype=np.int64)


def _years(days: np.ndarray) -> np.ndarray:
    as_dates = (np.asarray(days, dtype=np.int64) - EPOCH_ORDINAL).astype("datetime64[D]")
    return np.asarray(as_dates.astype("datetime64[Y]").astype(np.int64) + 1970, dtype=np.int64)


def _increases(plan: PricePlan, idx: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray]:
    """(day, basis points) of each product's increase in ``year``; day -1 when there is none."""
    period = np.full(idx.size, year, dtype=np.int64)
    happens = _uniform(plan, "prices.increase", period, idx) < INCREASE_PROBABILITY
    length = date(year, 12, 31).toordinal() - date(year, 1, 1).toordinal() + 1
    jan1 = date(year, 1, 1).toordinal()
    day = _pick(_uniform(plan, "prices.increase_day", period, idx), jan1, length)
    low, high = INCREASE_RANGE_BP
    bp = _pick(_uniform(plan, "prices.increase_bp", period, idx), low, high - low + 1)
    when: np.ndarray = np.where(happens & (day > plan.first), day, -1)
    return when, bp


def _regular(plan: PricePlan, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    price: np.ndarray = plan.initial[idx].copy()
    if idx.size == 0:
        return price
    first_year = date.fromordinal(plan.first).year
    for year in range(first_year, int(_years(day.max()[None])[0]) + 1):
        when, bp = _increases(plan, idx, year)
        raised = np.minimum(money.round_div(price * (10_000 + bp), 10_000), plan.msrp[idx])
        price = np.where((when > 0) & (when <= day), raised, price)
    return price


def _markdown_windows(
    plan: PricePlan, idx: np.ndarray, cycle: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first day, end day exclusive, percent off) of each (product, cycle) markdown; the
    percent is 0 when the product is not marked down in that cycle."""
    active = _uniform(plan, "prices.markdown", cycle, idx) < plan.markdown_p[idx]
    low, high = MARKDOWN_DAYS
    length = _pick(_uniform(plan, "prices.markdown_days", cycle, idx), low, high - low + 1)
    offset = _pick(
        _uniform(plan, "prices.markdown_start", cycle, idx), 0, MARKDOWN_CYCLE_DAYS - length + 1
    )
    start = cycle * MARKDOWN_CYCLE_DAYS - plan.phase[idx] + offset
    steps = _pick(_uniform(plan, "prices.markdown_depth", cycle, idx), 0, plan.depth_steps[idx] + 1)
    pct = plan.depth_low[idx] + steps * DEPTH_STEP_PCT
    ok = active & (start > plan.first) & (start >= plan.launch[idx])
    return start, start + length, np.where(ok, pct, 0)


def _cycle(plan: PricePlan, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.asarray((day + plan.phase[idx]) // MARKDOWN_CYCLE_DAYS, dtype=np.int64)


def _clearance_starts(plan: PricePlan, idx: np.ndarray, years: np.ndarray) -> np.ndarray:
    """First clearance day of each product's rule in ``years``; -1 when it has none (or it
    does not count: on or before the first day, or before launch)."""
    rule = plan.clearance_rule[idx]
    start = np.full(idx.size, -1, dtype=np.int64)
    for r, spec in enumerate(CLEARANCE_RULES):
        for year in np.unique(years[rule == r]).tolist():
            at = (rule == r) & (years == year)
            start[at] = calendar.anchor_day(spec.anchor, int(year)).toordinal() + spec.offset
    counts = (start > plan.first) & (start >= plan.launch[idx])
    return np.where(counts, start, -1)


_STEP_DAYS = np.array([d for d, _ in CLEARANCE_STEPS], dtype=np.int64)
_STEP_PCT = np.array([p for _, p in CLEARANCE_STEPS], dtype=np.int64)


def _clearance_pct(plan: PricePlan, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    pct = np.zeros(idx.size, dtype=np.int64)
    seasonal = plan.clearance_rule[idx] >= 0
    if not seasonal.any():
        return pct
    year = _years(day)
    for back in (1, 0):  # a clearance that started last year may still run (December → January)
        start = _clearance_starts(plan, idx, year - back)
        into = day - start
        inside = seasonal & (start > 0) & (into >= 0) & (into < CLEARANCE_DAYS)
        step = np.searchsorted(_STEP_DAYS, np.clip(into, 0, None), side="right") - 1
        pct = np.where(inside, _STEP_PCT[step], pct)
    return pct


def evaluate(
    plan: PricePlan, idx: np.ndarray, day: np.ndarray | np.int64
) -> tuple[np.ndarray, np.ndarray]:
    """(price in cents, state) of each (product index, day ordinal) pair."""
    idx = np.asarray(idx, dtype=np.int64)
    day = np.broadcast_to(np.asarray(day, dtype=np.int64), idx.shape)
    regular = _regular(plan, idx, day)
    start, end, md_pct = _markdown_windows(plan, idx, _cycle(plan, idx, day))
    md_pct = np.where((start <= day) & (day < end), md_pct, 0)
    cl_pct = _clearance_pct(plan, idx, day)
    pct = np.where(cl_pct > 0, cl_pct, md_pct)
    floor = plan.cost[idx] + 1
    reduced = np.maximum(money.round_div(regular * (100 - pct), 100), floor)
    price = np.clip(np.minimum(reduced, regular), floor, plan.msrp[idx])
    state = np.where(price == regular, REGULAR, np.where(cl_pct > 0, CLEARED, MARKED_DOWN))
    return price, state


def prices_on(plan: PricePlan, day: date) -> np.ndarray:
    """Shelf price in cents of every product (plan order) on ``day``."""
    price, _ = evaluate(plan, np.arange(plan.n), np.int64(day.toordinal()))
    return price


def change_reason(changed_state: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Reason code of a change into ``changed_state`` from state ``before``."""
    to_regular = np.where(before == REGULAR, _INCREASE, _RESTORE)
    return np.where(
        changed_state == CLEARED,
        _CLEARANCE,
        np.where(changed_state == MARKED_DOWN, _MARKDOWN, to_regular),
    )


@dataclass(frozen=True)
class PriceChanges:
    """The prices that change on one day (what a ``price_changed`` event carries)."""

    index: np.ndarray  # product index (plan order)
    old: np.ndarray  # cents
    new: np.ndarray
    reason: np.ndarray  # codes into PRICE_REASONS


def price_changes(plan: PricePlan, day: date) -> PriceChanges:
    """Products whose price on ``day`` differs from the day before (none on the first day)."""
    idx = np.arange(plan.n)
    if day.toordinal() <= plan.first:
        empty = np.empty(0, dtype=np.int64)
        return PriceChanges(empty, empty, empty, empty)
    new, state = evaluate(plan, idx, np.int64(day.toordinal()))
    old, before = evaluate(plan, idx, np.int64(day.toordinal() - 1))
    hit = np.flatnonzero(new != old)
    return PriceChanges(hit, old[hit], new[hit], change_reason(state[hit], before[hit]))


# ---------------------------------------------------------------- where prices may change
def change_days(plan: PricePlan, last: int) -> tuple[np.ndarray, np.ndarray]:
    """(product index, day) of every day a price may change in (first, last], plus the first
    day of every product: the price is constant between consecutive candidates."""
    n, first = plan.n, plan.first
    every = np.arange(n, dtype=np.int64)
    parts_idx: list[np.ndarray] = [every]
    parts_day: list[np.ndarray] = [np.full(n, first, dtype=np.int64)]
    # markdown windows of every cycle that overlaps the range
    c0 = _cycle(plan, every, np.full(n, first, dtype=np.int64))
    c1 = _cycle(plan, every, np.full(n, last, dtype=np.int64))
    k = np.arange(int((c1 - c0).max(initial=0)) + 1)
    grid_idx = np.repeat(every, k.size)
    grid_cycle = (c0[:, None] + k[None, :]).ravel()
    start, end, pct = _markdown_windows(plan, grid_idx, grid_cycle)
    on = pct > 0
    parts_idx += [grid_idx[on], grid_idx[on]]
    parts_day += [start[on], end[on]]
    # yearly increases, and clearance steps of seasonal products
    years = range(date.fromordinal(first).year - 1, date.fromordinal(last).year + 1)
    seasonal = np.flatnonzero(plan.clearance_rule >= 0)
    for year in years:
        when, _ = _increases(plan, every, year)
        parts_idx.append(every[when > 0])
        parts_day.append(when[when > 0])
        begin = _clearance_starts(plan, seasonal, np.full(seasonal.size, year, dtype=np.int64))
        for offset in (*_STEP_DAYS.tolist(), CLEARANCE_DAYS):
            parts_idx.append(seasonal[begin > 0])
            parts_day.append(begin[begin > 0] + offset)
    idx = np.concatenate(parts_idx)
    day = np.concatenate(parts_day)
    keep = (day >= first) & (day <= last)
    key = np.unique(idx[keep] * _KEY_SHIFT + day[keep])
    return key // _KEY_SHIFT, key % _KEY_SHIFT
