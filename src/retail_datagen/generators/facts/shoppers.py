"""Known shoppers' day plan: who of the customer base shops today, where and when (SPEC §6.1).

One network-wide plan per day, a pure function of (seed, configuration, dimensions, day), so
every store-day reads the same plan whatever worker or run computes it. Each known customer
makes trips at a frequency of their own, at most ``MAX_TRIPS_PER_DAY`` a day and all at one
store (the home store, sometimes the second store), one per slot of the day; an ad-driven visit
moves the day's trips to the ad's store. A store-day takes its known trips from the plan and
fills its other receipts with anonymous shoppers. Because a customer's stores are close to home
and a day's trips share one store, no two visits are further apart than can be driven between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from retail_datagen import calendar
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.columns import day_start_us
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.generators.facts.marketing import known_conversions
from retail_datagen.rng import stream

__all__ = ["DayPlan", "build_day_plan", "day_plan", "return_seconds"]

_MEMO_LIMIT = 16


@dataclass(frozen=True)
class DayPlan:
    """Known trips of a day (sorted by store, then arrival) and every known sale visit of the
    day (trips and ad-driven visits) sorted by customer, for placing returns around them."""

    store: np.ndarray
    customer: np.ndarray
    arrive_s: np.ndarray
    bounds: np.ndarray  # first trip of each store (n_stores + 1)
    visit_customer: np.ndarray
    visit_store: np.ndarray
    visit_start_s: np.ndarray

    def trips_at(self, store: int) -> tuple[np.ndarray, np.ndarray]:
        """Customer index and arrival second of the planned trips to ``store``."""
        sl = slice(int(self.bounds[store]), int(self.bounds[store + 1]))
        return self.customer[sl], self.arrive_s[sl]


def _store_factors(ctx: FactContext, day: date) -> np.ndarray:
    """Per store: how many times its day-factor-1 known demand comes today, capped so known
    trips stay below ``KNOWN_RECEIPTS_CAP`` of the store-day's expected receipts."""
    multiplier = float(calendar.day_multipliers([day])[0])
    _, weather = calendar.weather(ctx.seed, ctx.store_id, day)
    expected = ctx.config.volume.customers_per_day * ctx.store_traffic * multiplier * weather
    wanted = multiplier**B.TRIP_DAY_ELASTICITY * weather
    demand = np.maximum(ctx.store_known_demand, 1e-9)
    factor = np.minimum(wanted, B.KNOWN_RECEIPTS_CAP * expected / demand)
    is_open = np.array([open_window(ctx, s, day) is not None for s in range(ctx.n_stores)])
    out: np.ndarray = np.where(is_open, factor, 0.0)
    return out


def _slot_seconds(rng: np.random.Generator, slot: np.ndarray, weekend: bool) -> np.ndarray:
    """Arrival second inside each trip's slot, following the hour-of-day traffic curve."""
    weights = np.asarray(calendar.hour_weights(weekend), dtype=np.float64)
    out = np.empty(slot.size)
    u_bin, u_in = rng.random((2, slot.size))
    for k, (lo, hi) in enumerate(B.TRIP_SLOTS):
        edges = np.arange(lo, hi + 1, 900, dtype=np.float64)
        w = weights[(edges[:-1] // 3600).astype(np.int64)]
        cdf = np.cumsum(w) / w.sum()
        mine = slot == k
        b = np.minimum(np.searchsorted(cdf, u_bin[mine], side="right"), cdf.size - 1)
        out[mine] = edges[b] + u_in[mine] * 900
    return out


def build_day_plan(ctx: FactContext, day: date) -> DayPlan:
    """The day's known trips and visits (pure; :func:`day_plan` memoises it)."""

    def rng(aspect: str) -> np.random.Generator:
        return stream(ctx.seed, f"shoppers.{aspect}", day.toordinal())

    factor = _store_factors(ctx, day)
    home, second, share = ctx.customer_home, ctx.customer_second, ctx.customer_second_share
    at_home, at_second = (1 - share) * factor[home], share * factor[second]
    rate = ctx.customer_trips_week / 7.0 * (at_home + at_second)
    trips = np.minimum(rng("count").poisson(rate), B.MAX_TRIPS_PER_DAY)
    goes_second = rng("store").random(rate.size) * (at_home + at_second) < at_second
    store = np.where(goes_second, second, home)

    # an ad-driven visit takes the day to the ad's store and counts as one of the day's trips
    ads = known_conversions(ctx, day)
    ad_customer = ads.customer_index.astype(np.int64)
    store[ad_customer] = ads.store_index
    trips[ad_customer] = np.minimum(trips[ad_customer], B.MAX_TRIPS_PER_DAY - 1)

    who = np.flatnonzero(trips)
    n = trips[who]
    customer = np.repeat(who, n)
    first = np.r_[True, customer[1:] != customer[:-1]] if customer.size else customer
    # one trip: a slot by its share of the day's traffic; two trips: one in each slot
    weekend = day.weekday() >= 5
    weights = np.asarray(calendar.hour_weights(weekend), dtype=np.float64)
    slot_w = [weights[lo // 3600 : hi // 3600].sum() for lo, hi in B.TRIP_SLOTS]
    single = rng("slot").random(customer.size) >= slot_w[0] / sum(slot_w)
    slot = np.where(np.repeat(n, n) == 2, ~first, single).astype(np.int64)
    arrive = _slot_seconds(rng("time"), slot, weekend)
    trip_store = store[customer]
    order = np.lexsort((arrive, trip_store))
    trip_store, customer, arrive = trip_store[order], customer[order], arrive[order]

    ad_s = (ads.visit_us - day_start_us(day)) / 1e6
    v_customer = np.concatenate([customer, ad_customer])
    v_store = np.concatenate([trip_store, ads.store_index.astype(np.int64)])
    v_start = np.concatenate([arrive, ad_s])
    by_customer = np.argsort(v_customer, kind="stable")
    return DayPlan(
        store=trip_store,
        customer=customer,
        arrive_s=arrive,
        bounds=np.searchsorted(trip_store, np.arange(ctx.n_stores + 1)),
        visit_customer=v_customer[by_customer],
        visit_store=v_store[by_customer],
        visit_start_s=v_start[by_customer],
    )


def day_plan(ctx: FactContext, day: date) -> DayPlan:
    """The day's known trips, memoised on the context (every store-day of a day reads it)."""
    key = ("shoppers.day_plan", day.toordinal())
    plan = ctx.memo.get(key)
    if plan is None:
        if len(ctx.memo) > _MEMO_LIMIT:
            ctx.memo.clear()
        plan = ctx.memo[key] = build_day_plan(ctx, day)
    assert isinstance(plan, DayPlan)
    return plan


def _gap_to_visits_elsewhere(
    plan: DayPlan, store: int, customer: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """(customers, grid): seconds between a return visit [t, t + 10 min] arriving at each grid
    time and the customer's nearest sale visit [s, s + VISIT_MAX_S] at another store today."""
    gap = np.full((customer.size, grid.size), np.inf)
    if not plan.visit_customer.size:
        return gap
    lo = np.searchsorted(plan.visit_customer, customer, side="left")
    hi = np.searchsorted(plan.visit_customer, customer, side="right")
    for j in range(int((hi - lo).max(initial=0))):  # at most a few visits a customer-day
        k = np.minimum(lo + j, plan.visit_customer.size - 1)
        elsewhere = (lo + j < hi) & (plan.visit_store[k] != store)
        start = plan.visit_start_s[k][:, None]
        apart = np.maximum(grid[None, :] - (start + B.VISIT_MAX_S), start - (grid[None, :] + 600))
        gap = np.where(elsewhere[:, None], np.minimum(gap, apart), gap)
    return gap


def return_seconds(
    ctx: FactContext,
    plan: DayPlan,
    store: int,
    day: date,
    customer: np.ndarray,
    keyed: np.ndarray,
    u: np.ndarray,
    window: tuple[int, int],
) -> np.ndarray:
    """Arrival second of each return visit. Anonymous returners come at their ``keyed`` time.

    A known customer's return comes in one of two slots of the day — their home store's and
    their second store's, which swap from day to day — at least ``RETURN_CLEARANCE_S`` away
    from the customer's sale visits at other stores, so neither two returns at two stores nor a
    return and a trip elsewhere imply impossible travel. ``u`` (keyed, one per return) picks
    among the safe times.
    """
    out = np.asarray(keyed, dtype=np.float64).copy()
    rows = np.flatnonzero(customer >= 0)
    open_s, close_s = max(window[0], B.RETURN_DAY_S[0]), min(window[1], B.RETURN_DAY_S[1])
    grid = np.arange(open_s + 600, close_s - 2400, B.RETURN_SLOT_STEP_S, dtype=np.float64)
    if not rows.size or not grid.size:
        return out
    c = customer[rows]
    early = (ctx.customer_home[c] == store) == ((day.toordinal() + c) % 2 == 0)
    in_slot = np.where(
        early[:, None], grid[None, :] < B.RETURN_EARLY_BEFORE_S, grid >= B.RETURN_LATE_AFTER_S
    )
    gap = _gap_to_visits_elsewhere(plan, store, c, grid)
    safe = in_slot & (gap >= B.RETURN_CLEARANCE_S)
    n_safe = safe.sum(axis=1)
    pick = np.minimum((u[rows] * n_safe).astype(np.int64), np.maximum(n_safe - 1, 0))
    # the pick-th safe time; with none safe (the slots leave room for two trips), the widest gap
    rank = np.cumsum(safe, axis=1) - 1
    chosen = np.argmax((rank == pick[:, None]) & safe, axis=1)
    chosen = np.where(n_safe > 0, chosen, np.argmax(np.where(in_slot, gap, -np.inf), axis=1))
    out[rows] = grid[chosen]
    return out
