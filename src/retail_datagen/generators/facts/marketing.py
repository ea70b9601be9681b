"""Marketing: campaigns for any date, ad impressions and their cost, conversions to store visits
(SPEC §6.7, §6.8).

A marketing day is a pure function of (seed, configuration, day). Its impressions convert into
store visits 1-48 h later, so a store-day gathers the conversions of the few marketing days before
it; each marketing day is computed once per process and cached, and the result never depends on
the order in which days or stores are asked for.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import calendar
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.columns import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    day_start_us,
    lookup,
    trace_ids,
    yyyymmdd,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import next_open_us
from retail_datagen.generators.price_model import EPOCH_ORDINAL
from retail_datagen.ids import compose
from retail_datagen.money import MICROS_PER_DOLLAR, micros_to_decimal
from retail_datagen.rng import stream, substream_seeds
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_MARKETING

__all__ = [
    "Campaign",
    "Conversions",
    "MarketingDay",
    "campaigns_on",
    "clear_cache",
    "conversions_for_store_day",
    "cost_bands_micros",
    "digital_seconds",
    "digital_volume_factor",
    "generate_marketing_day",
    "known_conversions",
]

_LAUNCH_ANCHOR = date(1970, 1, 5).toordinal()  # a Monday: launch campaigns start on Mondays
# Impression days whose conversions can land on a day: the delay (≤ 48 h), one overnight
# closure, and one closed day (December 25) can each push a visit forward by up to a day.
LOOKBACK_DAYS = math.ceil(B.CONVERSION_DELAY_HOURS[1] / 24) + 2


# ---------------------------------------------------------------- digital demand (shared)
@lru_cache(maxsize=64)
def _digital_curve(year: int, strength: float, lifts: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Per day of ``year``: volume relative to the year's mean (so the mean day is 1.0)."""
    first = np.datetime64(date(year, 1, 1), "D")
    days = first + np.arange(date(year, 12, 31).timetuple().tm_yday)
    level = calendar.day_multipliers(days)
    curve = 1.0 + strength * (level / level.mean() - 1.0)
    lift_by_name = dict(lifts)
    for day, name in calendar.holidays(year).items():
        if name in lift_by_name:
            curve[day.timetuple().tm_yday - 1] *= lift_by_name[name]
    normalised: np.ndarray = curve / curve.mean()
    normalised.setflags(write=False)
    return normalised


def digital_volume_factor(
    day: date, strength: float, lifts: tuple[tuple[str, float], ...] = ()
) -> float:
    """Network-wide online/ad volume on ``day`` relative to an average day of its year.

    The store-traffic curve (season, day of week, holidays) blended with 1 by ``strength`` —
    digital demand is milder and never stops on days the stores are closed — times named holiday
    ``lifts``, normalised per year so the configured per-day volume is the yearly average.
    """
    return float(_digital_curve(day.year, strength, lifts)[day.timetuple().tm_yday - 1])


_HOUR_CDF = np.cumsum(B.DIGITAL_HOUR_WEIGHTS) / B.DIGITAL_HOUR_WEIGHTS.sum()


def digital_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight of ``n`` online events (evening peak, quiet nights), unsorted."""
    u_hour, u_within = rng.random((2, n))
    hour = np.minimum(np.searchsorted(_HOUR_CDF, u_hour, side="right"), 23)
    seconds: np.ndarray = (hour + u_within) * 3600.0
    return seconds


def _choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(p) / np.sum(p)
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), p.size - 1)


# ---------------------------------------------------------------- campaigns
@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    kind: int  # index into B.CAMPAIGN_KINDS


@lru_cache(maxsize=256)
def _flash_days(seed: int, year: int, month: int) -> frozenset[date]:
    """Keyed flash-sale days of a month, plus the flash-sale holidays falling in it."""
    first = date(year, month, 1)
    length = ((first + timedelta(days=32)).replace(day=1) - first).days
    picks = stream(seed, "marketing.flash_days", year, month).choice(
        length, size=min(B.FLASH_SALE_DAYS_PER_MONTH, length), replace=False
    )
    days = {first + timedelta(days=int(k)) for k in picks}
    days |= {
        d for d, name in calendar.holidays(year).items()
        if d.month == month and name in B.FLASH_SALE_HOLIDAYS
    }  # fmt: skip
    return frozenset(days)


@lru_cache(maxsize=1024)
def campaigns_on(seed: int, day: date) -> tuple[Campaign, ...]:
    """The campaigns running on ``day``, one per kind (rows follow ``B.CAMPAIGN_KINDS``).

    A seasonal sale per month, a product launch every other Monday, a loyalty campaign per
    quarter and flash sales on a few keyed days — all computed from the date, for any year.
    """
    kinds = {k: i for i, k in enumerate(B.CAMPAIGN_KINDS)}
    launch = date.fromordinal(
        day.toordinal() - (day.toordinal() - _LAUNCH_ANCHOR) % B.PRODUCT_LAUNCH_CADENCE_DAYS
    )
    out = [
        Campaign(f"CMP-{day.year:04d}-{day.month:02d}-SEASONAL_SALE", kinds["SEASONAL_SALE"]),
        Campaign(f"CMP-{yyyymmdd(launch):08d}-PRODUCT_LAUNCH", kinds["PRODUCT_LAUNCH"]),
        Campaign(f"CMP-{day.year:04d}-Q{(day.month - 1) // 3 + 1}-LOYALTY", kinds["LOYALTY"]),
    ]
    if day in _flash_days(seed, day.year, day.month):
        out.append(Campaign(f"CMP-{yyyymmdd(day):08d}-FLASH_SALE", kinds["FLASH_SALE"]))
    return tuple(out)


def _creative_vocabulary(campaigns: tuple[Campaign, ...]) -> pa.Array:
    """``CRV-2024-11-SEASONAL_SALE-03``: creative k of each campaign, campaign-major."""
    return pa.array(
        [
            f"CRV-{c.campaign_id.removeprefix('CMP-')}-{k + 1:02d}"
            for c in campaigns
            for k in range(B.CREATIVES_PER_CAMPAIGN)
        ],
        pa.string(),
    )


# ---------------------------------------------------------------- impressions and conversions
@dataclass(frozen=True)
class Conversions:
    """Store visits caused by ad impressions (parallel arrays, read-only)."""

    store_index: np.ndarray  # int32, index into the context's stores
    visit_us: np.ndarray  # int64, µs since the epoch, local time (as columns.day_start_us)
    customer_index: np.ndarray  # int32, -1 = anonymous
    campaign_id: pa.StringArray
    impression_id: pa.StringArray

    def __len__(self) -> int:
        return int(self.store_index.size)

    def take(self, index: np.ndarray) -> Conversions:
        idx = pa.array(np.asarray(index, dtype=np.int64))
        return Conversions(
            _frozen(self.store_index[index]),
            _frozen(self.visit_us[index]),
            _frozen(self.customer_index[index]),
            self.campaign_id.take(idx),
            self.impression_id.take(idx),
        )


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _concat(parts: list[Conversions]) -> Conversions:
    return Conversions(
        _frozen(np.concatenate([p.store_index for p in parts]).astype(np.int32)),
        _frozen(np.concatenate([p.visit_us for p in parts]).astype(np.int64)),
        _frozen(np.concatenate([p.customer_index for p in parts]).astype(np.int32)),
        pa.concat_arrays([p.campaign_id for p in parts]),
        pa.concat_arrays([p.impression_id for p in parts]),
    )


_NO_CONVERSIONS = Conversions(
    _frozen(np.empty(0, np.int32)),
    _frozen(np.empty(0, np.int64)),
    _frozen(np.empty(0, np.int32)),
    pa.array([], pa.string()),
    pa.array([], pa.string()),
)


@dataclass(frozen=True)
class MarketingDay:
    table: pa.Table  # fact_marketing
    conversions: Conversions  # of this day's impressions, in impression order


def cost_bands_micros(ctx: FactContext) -> tuple[np.ndarray, np.ndarray]:
    """[channel, device] lowest and highest cost of one impression in micro-dollars.

    A CPM band (USD per 1,000 impressions) × the device multiplier: CPM × 1000 micro-dollars.
    """
    cost = ctx.config.marketing_cost
    cpm = np.array([[cost.band(c).cpm_min, cost.band(c).cpm_max] for c in B.CHANNELS])
    band = cpm * (MICROS_PER_DOLLAR / 1000)
    mult = np.array([cost.device_multipliers[d] for d in B.DEVICES])
    lo = np.ceil(band[:, :1] * mult[None, :] - 1e-6).astype(np.int64)
    hi = np.floor(band[:, 1:] * mult[None, :] + 1e-6).astype(np.int64)
    return lo, np.maximum(hi, lo)


def _build_marketing_day(ctx: FactContext, day: date) -> MarketingDay:
    ordinal = day.toordinal()

    def rng(aspect: str) -> np.random.Generator:  # one stream per aspect: columns stay apart
        return stream(ctx.seed, f"marketing.{aspect}", ordinal)

    volume = ctx.config.volume.marketing_impressions_per_day
    n = int(rng("count").poisson(volume * digital_volume_factor(day, B.MARKETING_SEASONALITY)))
    seconds = np.sort(digital_seconds(rng("time"), n))
    imp_us = day_start_us(day) + np.floor(seconds * US_PER_SECOND).astype(np.int64)
    channel = _choose(rng("channel"), B.CHANNEL_P, n)
    device = _choose(rng("device"), B.DEVICE_P, n)
    campaigns = campaigns_on(ctx.seed, day)
    campaign = _choose(rng("campaign"), B.CAMPAIGN_KIND_WEIGHT[[c.kind for c in campaigns]], n)
    creative = campaign * B.CREATIVES_PER_CAMPAIGN + rng("creative").integers(
        0, B.CREATIVES_PER_CAMPAIGN, n
    )
    lo, hi = cost_bands_micros(ctx)
    lo, hi = lo[channel, device], hi[channel, device]
    cost = np.minimum(lo + np.floor(rng("cost").random(n) * (hi - lo + 1)).astype(np.int64), hi)

    known = rng("known").random(n) < B.KNOWN_AD_CUSTOMER_SHARE
    customer = rng("customer").integers(0, ctx.customer_id.size, n)
    device_key = rng("anonymous").integers(0, B.ANON_AD_DEVICES, n)
    anon_digits = (substream_seeds(ctx.seed, "marketing.anon_ad_id", device_key) % 10**12).astype(
        np.int64
    )
    anon_ad = compose(n, ["AX", (anon_digits, 12)])
    ad_id = pc.if_else(pa.array(known), ctx.customer_ad.take(pa.array(customer)), anon_ad)
    impression_id = compose(n, [f"IMP-{yyyymmdd(day):08d}-", (np.arange(n), 7)])
    campaign_id = lookup(tuple(c.campaign_id for c in campaigns), campaign)
    table = pa.table(
        {
            "TraceId": trace_ids("fact_marketing", 0, day, n),
            "EventTS": pa.array(imp_us, pa.timestamp("us")),
            "Channel": lookup(B.CHANNELS, channel),
            "CampaignId": campaign_id,
            "CreativeId": _creative_vocabulary(campaigns).take(pa.array(creative)),
            "CustomerAdId": ad_id,
            "ImpressionId": impression_id,
            "Cost": micros_to_decimal(cost),
            "Device": lookup(B.DEVICES, device),
            "CustomerID": pa.array(ctx.customer_id[customer], mask=~known),
        }
    )

    converts = rng("convert").random(n) < B.CHANNEL_CONVERSION[channel]
    lo_h, hi_h = B.CONVERSION_DELAY_HOURS
    delay_us = ((lo_h + rng("delay").random(n) * (hi_h - lo_h)) * US_PER_HOUR).astype(np.int64)
    traffic_store = _choose(rng("store"), ctx.store_traffic, n)
    store = np.where(known, ctx.customer_home[customer], traffic_store)
    sel = np.flatnonzero(converts)
    visit_us = imp_us[sel] + delay_us[sel]
    if sel.size:  # next_open_us does not take empty arrays
        visit_us = next_open_us(ctx, store[sel], visit_us)
    take = pa.array(sel)
    conversions = Conversions(
        _frozen(store[sel].astype(np.int32)),
        _frozen(visit_us.astype(np.int64)),
        _frozen(np.where(known, customer, -1)[sel].astype(np.int32)),
        campaign_id.take(take),
        impression_id.take(take),
    )
    return MarketingDay(normalise(FACT_MARKETING, table), conversions)


# ---------------------------------------------------------------- per-process cache
_T = TypeVar("_T")


class _DayCache(Generic[_T]):
    """A small LRU of per-(context, day) results; a context's entries die with the context."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[tuple[int, int], tuple[weakref.ref[FactContext], _T]] = (
            OrderedDict()
        )

    def get(self, ctx: FactContext, ordinal: int, build: Callable[[], _T]) -> _T:
        key = (id(ctx), ordinal)
        hit = self._items.get(key)
        if hit is not None and hit[0]() is ctx:  # id() can be reused once a context is gone
            self._items.move_to_end(key)
            return hit[1]
        value = build()
        self._items[key] = (weakref.ref(ctx), value)
        self._items.move_to_end(key)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()


_MARKETING_DAYS: _DayCache[MarketingDay] = _DayCache(maxsize=2 * (LOOKBACK_DAYS + 1) + 2)
_LANDINGS: _DayCache[tuple[Conversions, np.ndarray]] = _DayCache(maxsize=8)


def clear_cache() -> None:
    """Forget cached marketing days (tests use it to prove results do not depend on it)."""
    _MARKETING_DAYS.clear()
    _LANDINGS.clear()


def generate_marketing_day(ctx: FactContext, day: date) -> MarketingDay:
    """fact_marketing rows of ``day`` and the store visits its impressions cause."""
    return _MARKETING_DAYS.get(ctx, day.toordinal(), lambda: _build_marketing_day(ctx, day))


def _landing(ctx: FactContext, day: date) -> tuple[Conversions, np.ndarray]:
    """Conversions whose visit falls on ``day`` (all stores), sorted by store, time, impression;
    and each store's first row (length n_stores + 1).

    Impressions before the dataset's first day are never written, so their conversions are
    left out too and every attributed visit points at a stored impression.
    """
    start = ctx.history_start
    parts = [
        generate_marketing_day(ctx, d).conversions
        for d in (day - timedelta(days=k) for k in range(LOOKBACK_DAYS, -1, -1))
        if d >= start
    ]
    found = _concat(parts) if parts else _NO_CONVERSIONS
    on_day = found.visit_us // US_PER_DAY + EPOCH_ORDINAL == day.toordinal()
    found = found.take(np.flatnonzero(on_day))
    keys = pa.table({"s": found.store_index, "t": found.visit_us, "i": found.impression_id})
    order = pc.sort_indices(
        keys, sort_keys=[("s", "ascending"), ("t", "ascending"), ("i", "ascending")]
    ).to_numpy()
    found = _one_known_visit_a_day(found.take(order))
    bounds = np.searchsorted(found.store_index, np.arange(ctx.n_stores + 1), side="left")
    return found, bounds


def _one_known_visit_a_day(found: Conversions) -> Conversions:
    """A known customer makes at most one ad-driven visit a day (the earliest; ties by the
    impression order): further conversions of theirs that day come from an anonymous visitor,
    so the customer's trips stay believable (SPEC §6.1)."""
    customer = found.customer_index
    known = np.flatnonzero(customer >= 0)
    if known.size < 2:
        return found
    by_customer = known[np.lexsort((known, customer[known]))]  # rows are in time order
    repeat = by_customer[1:][customer[by_customer[1:]] == customer[by_customer[:-1]]]
    if not repeat.size:
        return found
    kept = customer.copy()
    kept[repeat] = -1
    return dataclasses.replace(found, customer_index=_frozen(kept))


def known_conversions(ctx: FactContext, day: date) -> Conversions:
    """The ad-driven visits of known customers on ``day`` (all stores; one per customer)."""
    found, _ = _LANDINGS.get(ctx, day.toordinal(), lambda: _landing(ctx, day))
    return found.take(np.flatnonzero(found.customer_index >= 0))


def conversions_for_store_day(ctx: FactContext, store_index: int, day: date) -> Conversions:
    """The marketing-driven visits of one store on ``day``, by visit time (ties by impression)."""
    found, bounds = _LANDINGS.get(ctx, day.toordinal(), lambda: _landing(ctx, day))
    return found.take(np.arange(bounds[store_index], bounds[store_index + 1]))
