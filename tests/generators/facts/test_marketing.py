"""Marketing: campaigns for any date, impressions and cost, known customers, conversions."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts import marketing
from retail_datagen.generators.facts.columns import US_PER_DAY, day_start_us
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.money import decimal_to_cents
from retail_datagen.schema.tables import FACT_MARKETING

Reconfigure = Callable[..., FactContext]
DAY = date(2024, 3, 7)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    marketing.clear_cache()
    yield
    marketing.clear_cache()


def _col(table: pa.Table, name: str) -> np.ndarray:
    values: np.ndarray = table.column(name).to_numpy(zero_copy_only=False)
    return values


def test_marketing_table_matches_registry(ctx: FactContext) -> None:
    table = marketing.generate_marketing_day(ctx, DAY).table
    assert table.schema.equals(FACT_MARKETING.arrow_schema, check_metadata=False)
    assert table.num_rows > 0


def test_same_day_twice_is_identical_and_independent_of_earlier_days(ctx: FactContext) -> None:
    first = marketing.generate_marketing_day(ctx, DAY)
    marketing.clear_cache()
    for k in range(1, 4):  # other days generated first must not matter
        marketing.generate_marketing_day(ctx, DAY - timedelta(days=k))
    again = marketing.generate_marketing_day(ctx, DAY)
    assert first is not again
    assert first.table.equals(again.table)
    assert np.array_equal(first.conversions.visit_us, again.conversions.visit_us)
    assert first.conversions.impression_id.equals(again.conversions.impression_id)


def test_another_seed_gives_other_impressions(ctx: FactContext, reconfigure: Reconfigure) -> None:
    a = marketing.generate_marketing_day(ctx, DAY).table
    b = marketing.generate_marketing_day(reconfigure(ctx, seed=99), DAY).table
    assert not a.equals(b)


@pytest.mark.parametrize("day", [date(1999, 2, 3), date(2024, 11, 29), date(2051, 7, 15)])
def test_campaigns_exist_for_any_date_with_one_per_kind(day: date) -> None:
    campaigns = marketing.campaigns_on(42, day)
    kinds = [B.CAMPAIGN_KINDS[c.kind] for c in campaigns]
    assert kinds[:3] == ["SEASONAL_SALE", "PRODUCT_LAUNCH", "LOYALTY"]
    assert len(set(kinds)) == len(kinds)
    ids = {c.campaign_id for c in campaigns}
    assert f"CMP-{day.year}-{day.month:02d}-SEASONAL_SALE" in ids
    assert f"CMP-{day.year}-Q{(day.month - 1) // 3 + 1}-LOYALTY" in ids
    assert all(re.fullmatch(r"CMP-[0-9Q-]+-[A-Z_]+", c) for c in ids)
    assert marketing.campaigns_on(42, day) == campaigns


def test_flash_sales_run_on_black_friday_and_a_few_days_a_month() -> None:
    assert any(
        c.campaign_id == "CMP-20241129-FLASH_SALE"
        for c in marketing.campaigns_on(1, date(2024, 11, 29))
    )
    for seed in (1, 2, 3):
        march = [date(2024, 3, 1) + timedelta(days=k) for k in range(31)]
        flash = [d for d in march if len(marketing.campaigns_on(seed, d)) == 4]
        assert len(flash) == B.FLASH_SALE_DAYS_PER_MONTH


def test_product_launches_change_every_two_weeks() -> None:
    days = [date(2024, 1, 1) + timedelta(days=k) for k in range(70)]
    launches = [marketing.campaigns_on(1, d)[1].campaign_id for d in days]
    runs = [len(list(g)) for _, g in itertools.groupby(launches)]
    assert all(r == B.PRODUCT_LAUNCH_CADENCE_DAYS for r in runs[1:-1])
    starts = {date(int(c[4:8]), int(c[8:10]), int(c[10:12])) for c in launches}
    assert {d.weekday() for d in starts} == {0}


def test_impressions_are_in_time_order_with_unique_ids(ctx: FactContext) -> None:
    table = marketing.generate_marketing_day(ctx, DAY).table
    ts = table["EventTS"].cast(pa.int64()).to_numpy()
    assert (np.diff(ts) >= 0).all()
    assert ts.min() >= day_start_us(DAY) and ts.max() < day_start_us(DAY) + US_PER_DAY
    ids = _col(table, "ImpressionId")
    assert len(set(ids)) == table.num_rows == len(set(_col(table, "TraceId")))
    assert ids[0] == "IMP-20240307-0000000"
    creative = _col(table, "CreativeId")
    campaign = _col(table, "CampaignId")
    assert all(cr.startswith("CRV-" + ca[4:]) for cr, ca in zip(creative, campaign, strict=True))


def test_costs_lie_inside_the_channel_cpm_band_times_the_device_multiplier(
    ctx: FactContext,
) -> None:
    table = marketing.generate_marketing_day(ctx, DAY).table
    assert table.schema.field("Cost").type == pa.decimal128(12, 6)
    micros = decimal_to_cents(table["Cost"])  # unscaled values: micro-dollars
    channel, device = _col(table, "Channel"), _col(table, "Device")
    cost_cfg = ctx.config.marketing_cost
    for ch in B.CHANNELS:
        for dev in B.DEVICES:
            sel = (channel == ch) & (device == dev)
            if not sel.any():
                continue
            band, mult = cost_cfg.band(ch), cost_cfg.device_multipliers[dev]
            assert micros[sel].min() >= round(band.cpm_min * mult * 1000, 6)
            assert micros[sel].max() <= round(band.cpm_max * mult * 1000, 6)


def test_an_impression_costs_a_fraction_of_a_cent_on_average(ctx: FactContext) -> None:
    """SPEC §6.8: CPM bands put the mean impression well under $0.05 (the old bands: ~$1.5)."""
    micros = decimal_to_cents(marketing.generate_marketing_day(ctx, DAY).table["Cost"])
    assert micros.size > 1000
    assert 1_000 < micros.mean() < 50_000  # between $0.001 and $0.05
    assert (micros > 0).all()


def test_channel_device_and_volume_follow_the_configuration(ctx: FactContext) -> None:
    tables = [
        marketing.generate_marketing_day(ctx, DAY + timedelta(days=k)).table for k in range(7)
    ]
    table = pa.concat_tables(tables)
    n = table.num_rows
    expected = ctx.config.volume.marketing_impressions_per_day * 7
    assert abs(n / expected - 1) < 0.25  # a mild seasonality around the configured volume
    device = _col(table, "Device")
    for name, p in zip(B.DEVICES, B.DEVICE_P, strict=True):
        assert abs((device == name).mean() - p) < 0.02
    channel = _col(table, "Channel")
    for name, p in zip(B.CHANNELS, B.CHANNEL_P, strict=True):
        assert abs((channel == name).mean() - p) < 0.02
    hours = (table["EventTS"].cast(pa.int64()).to_numpy() // 3_600_000_000) % 24
    assert (hours == 20).sum() > 5 * (hours == 4).sum()  # evening peak, quiet night


def test_about_five_percent_resolve_to_known_customers_with_their_ad_id(ctx: FactContext) -> None:
    table = pa.concat_tables(
        [marketing.generate_marketing_day(ctx, DAY + timedelta(days=k)).table for k in range(3)]
    )
    known = table.filter(pc.is_valid(table["CustomerID"]))
    share = known.num_rows / table.num_rows
    assert abs(share - B.KNOWN_AD_CUSTOMER_SHARE) < 0.01
    idx = np.searchsorted(ctx.customer_id, _col(known, "CustomerID"))
    assert _col(known, "CustomerAdId").tolist() == ctx.customer_ad.take(pa.array(idx)).to_pylist()
    anonymous = _col(table.filter(pc.is_null(table["CustomerID"])), "CustomerAdId")
    assert all(re.fullmatch(r"AX\d{12}", a) for a in anonymous)


def _landing_day(conv: marketing.Conversions) -> np.ndarray:
    return conv.visit_us // US_PER_DAY + date(1970, 1, 1).toordinal()


def test_conversions_land_in_opening_hours_at_the_right_store(ctx: FactContext) -> None:
    for k in range(10):
        day = date(2024, 12, 20) + timedelta(days=k)  # across Christmas closures
        mday = marketing.generate_marketing_day(ctx, day)
        conv = mday.conversions
        assert len(conv) > 0
        imp = mday.table.filter(pc.is_in(mday.table["ImpressionId"], conv.impression_id))
        imp_us = imp["EventTS"].cast(pa.int64()).to_numpy()
        assert (conv.visit_us - imp_us >= 3_600_000_000).all()  # at least an hour later
        known = conv.customer_index >= 0
        assert (conv.store_index[known] == ctx.customer_home[conv.customer_index[known]]).all()
        known_ids = _col(imp, "CustomerID")[known]
        assert (known_ids == ctx.customer_id[conv.customer_index[known]]).all()
        for s, t in zip(conv.store_index.tolist(), conv.visit_us.tolist(), strict=True):
            visit_day = date.fromordinal(t // US_PER_DAY + date(1970, 1, 1).toordinal())
            window = open_window(ctx, s, visit_day)
            assert window is not None, "no visit on a closed day"
            second = (t - day_start_us(visit_day)) / 1e6
            assert window[0] <= second < window[1]


def test_conversion_rates_follow_the_channel(ctx: FactContext) -> None:
    days = [DAY + timedelta(days=k) for k in range(14)]
    mdays = [marketing.generate_marketing_day(ctx, d) for d in days]
    table = pa.concat_tables([m.table for m in mdays])
    converted = pa.concat_arrays([m.conversions.impression_id for m in mdays])
    channel = _col(table, "Channel")
    did = pc.is_in(table["ImpressionId"], converted).to_numpy(zero_copy_only=False)
    for name, rate in zip(B.CHANNELS, B.CHANNEL_CONVERSION, strict=True):
        sel = channel == name
        sigma = np.sqrt(rate * (1 - rate) / sel.sum())
        assert abs(did[sel].mean() - rate) < 5 * sigma


def test_store_day_conversions_are_the_union_of_those_landing_that_day(ctx: FactContext) -> None:
    day = date(2024, 12, 26)  # the day after a closure collects pushed visits
    lookback = [day - timedelta(days=k) for k in range(marketing.LOOKBACK_DAYS + 3)]
    everything = [marketing.generate_marketing_day(ctx, d).conversions for d in lookback]
    expected = set()
    for conv in everything:
        on_day = _landing_day(conv) == day.toordinal()
        expected |= {
            (s, t, i)
            for s, t, i in zip(
                conv.store_index[on_day].tolist(),
                conv.visit_us[on_day].tolist(),
                np.asarray(conv.impression_id.to_pylist(), dtype=object)[on_day].tolist(),
                strict=True,
            )
        }
    got = set()
    for store in range(ctx.n_stores):
        part = marketing.conversions_for_store_day(ctx, store, day)
        assert (part.store_index == store).all()
        assert (np.diff(part.visit_us) >= 0).all()
        got |= set(
            zip(
                part.store_index.tolist(),
                part.visit_us.tolist(),
                part.impression_id.to_pylist(),
                strict=True,
            )
        )
    assert expected and got == expected


def test_store_day_conversions_do_not_depend_on_request_order(ctx: FactContext) -> None:
    days = [DAY + timedelta(days=k) for k in range(3)]
    forward = {
        (s, d): marketing.conversions_for_store_day(ctx, s, d)
        for d in days
        for s in range(ctx.n_stores)
    }
    marketing.clear_cache()
    for d in reversed(days):
        for s in reversed(range(ctx.n_stores)):
            back = marketing.conversions_for_store_day(ctx, s, d)
            ahead = forward[(s, d)]
            assert np.array_equal(back.visit_us, ahead.visit_us)
            assert back.impression_id.equals(ahead.impression_id)
            assert back.campaign_id.equals(ahead.campaign_id)
            assert np.array_equal(back.customer_index, ahead.customer_index)


def test_no_conversions_come_from_before_the_history_starts(ctx: FactContext) -> None:
    start = ctx.config.historical.start_date
    conv = marketing.conversions_for_store_day(ctx, 0, start)
    days = {i[4:12] for i in conv.impression_id.to_pylist()}
    assert all(d >= start.strftime("%Y%m%d") for d in days)
    later = start + timedelta(days=2)
    total = sum(
        len(marketing.conversions_for_store_day(ctx, s, later)) for s in range(ctx.n_stores)
    )
    assert total > 0


def test_digital_volume_is_normalised_over_the_year_and_peaks_on_black_friday() -> None:
    year = [date(2025, 1, 1) + timedelta(days=k) for k in range(365)]
    f = np.array([marketing.digital_volume_factor(d, 0.8, B.ONLINE_HOLIDAY_LIFTS) for d in year])
    assert abs(f.mean() - 1) < 1e-9
    black_friday, cyber_monday = date(2025, 11, 28), date(2025, 12, 1)
    assert f[(black_friday - year[0]).days] > 2 and f[(cyber_monday - year[0]).days] > 2
    assert f[(date(2025, 12, 25) - year[0]).days] > 0  # online never stops
