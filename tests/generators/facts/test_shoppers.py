"""Known shoppers: own frequency, ≤ 2 trips a day at one store, anonymous fill (SPEC §6.1)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.generators.facts.conftest import small_context

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.marketing import known_conversions
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.shoppers import build_day_plan, day_plan, return_seconds
from retail_datagen.generators.facts.store_day import simulate_store_day

DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 10, 31))


@functools.lru_cache(maxsize=4)
def _network(stores: int, customers: int) -> FactContext:
    return small_context(stores=stores, total_customers=customers)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    network=st.sampled_from([(3, 200), (8, 3000), (20, 30_000)]),
    day=DAYS,
    seed=st.integers(0, 10_000),
    per_day=st.integers(5, 5_000),
)
def test_a_known_customer_makes_at_most_two_trips_a_day_at_one_store(
    reconfigure: Callable[..., FactContext],
    network: tuple[int, int],
    day: date,
    seed: int,
    per_day: int,
) -> None:
    other = reconfigure(_network(*network), seed=seed, customers_per_day=per_day)
    plan = build_day_plan(other, day)
    ads = known_conversions(other, day).customer_index
    customers = np.concatenate([plan.customer, ads])
    assert np.bincount(customers).max(initial=0) <= B.MAX_TRIPS_PER_DAY
    # every known sale visit of a customer on a day is at one store
    stores = np.unique(np.stack([plan.visit_customer, plan.visit_store]), axis=1)
    assert np.unique(stores[0]).size == stores.shape[1]
    # planned trips arrive inside the day's slots
    lo, hi = B.TRIP_SLOTS[0][0], B.TRIP_SLOTS[1][1]
    assert ((plan.arrive_s >= lo) & (plan.arrive_s < hi)).all()


def test_known_trips_stay_below_the_cap_of_expected_receipts(
    ctx: FactContext, reconfigure: Callable[..., FactContext]
) -> None:
    tiny = reconfigure(ctx, customers_per_day=20)  # 3000 customers, few receipts
    plan = build_day_plan(tiny, date(2024, 3, 5))
    per_store = np.bincount(plan.store, minlength=tiny.n_stores)
    expected = 20 * tiny.store_traffic  # an ordinary Tuesday, about 1x
    assert (per_store <= B.KNOWN_RECEIPTS_CAP * expected * 1.6 + 5).all()


def test_frequency_is_the_customers_own_and_mean_about_1_6(ctx: FactContext) -> None:
    weekly = ctx.customer_trips_week
    assert weekly.min() >= B.TRIP_FREQUENCY_BOUNDS[0] and weekly.max() <= B.TRIP_FREQUENCY_BOUNDS[1]
    assert 1.4 <= weekly.mean() <= 1.8
    by_segment = [weekly[ctx.customer_segment == s].mean() for s in range(len(B.SEGMENTS))]
    assert by_segment[1] > by_segment[2]  # convenience shoppers come more often than quality


def test_the_plan_is_memoised_and_equals_a_freshbuild_day_plan(ctx: FactContext) -> None:
    day = date(2024, 5, 3)
    plan = day_plan(ctx, day)
    assert day_plan(ctx, day) is plan
    fresh = build_day_plan(ctx, day)
    assert np.array_equal(plan.customer, fresh.customer)
    assert np.array_equal(plan.arrive_s, fresh.arrive_s)


def test_store_days_mix_known_and_anonymous_buyers(ctx: FactContext) -> None:
    first = date(2024, 3, 4)
    pending = empty_pending()
    anonymous = total = 0
    for i in range(7):
        result = simulate_store_day(ctx, 0, first + timedelta(days=i), pending)
        pending = result.pending_returns
        receipts = result.tables["fact_receipts"]
        sales = receipts.filter(pc.equal(receipts.column("ReceiptType"), "SALE"))
        anonymous += sales.column("CustomerID").null_count
        total += sales.num_rows
        payments = result.tables["fact_payments"]
        assert payments.column("CustomerID").null_count >= sales.column("CustomerID").null_count
    assert 0 < anonymous < total


def test_a_return_avoids_the_customers_visits_at_another_store(ctx: FactContext) -> None:
    day = date(2024, 3, 6)
    plan = day_plan(ctx, day)
    # a customer with a trip today; bring a return to a store that is not the trip's
    customer = int(plan.visit_customer[0])
    trip_store = int(plan.visit_store[0])
    store = (trip_store + 1) % ctx.n_stores
    starts = plan.visit_start_s[plan.visit_customer == customer]
    keyed = starts[:1].copy()  # the worst case: the same moment as the trip
    window = (8 * 3600, 22 * 3600)
    u = np.array([0.5])
    out = return_seconds(ctx, plan, store, day, np.array([customer]), keyed, u, window)
    after = out[0] >= starts + B.VISIT_MAX_S + B.RETURN_CLEARANCE_S
    before = out[0] + 600 + B.RETURN_CLEARANCE_S <= starts
    assert (after | before).all()
    # an anonymous return keeps its keyed time
    same = return_seconds(ctx, plan, store, day, np.array([-1]), keyed, u, window)
    assert same[0] == keyed[0]


def test_two_returns_of_one_customer_at_two_stores_take_different_slots(ctx: FactContext) -> None:
    day = date(2024, 3, 6)
    plan = day_plan(ctx, day)
    idle = np.setdiff1d(np.arange(ctx.customer_id.size), plan.visit_customer)[:50]
    window = (8 * 3600, 22 * 3600)
    keyed, u = np.full(idle.size, 12 * 3600.0), np.linspace(0, 0.99, idle.size)
    # one customer, home store vs second store on the same day: an hour or more apart
    c = idle[:1]
    assert ctx.customer_home[c[0]] != ctx.customer_second[c[0]]
    a = return_seconds(ctx, plan, int(ctx.customer_home[c[0]]), day, c, keyed[:1], u[:1], window)
    b = return_seconds(ctx, plan, int(ctx.customer_second[c[0]]), day, c, keyed[:1], u[:1], window)
    assert abs(a[0] - b[0]) >= 600 + B.RETURN_CLEARANCE_S
