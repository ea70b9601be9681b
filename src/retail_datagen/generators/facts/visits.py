"""Store visits: who comes in when, where they walk, whether their phone is seen, who buys.

One model feeds the sensors and the sales, so foot traffic ≥ BLE devices ≥ receipts holds per
store-hour by construction: every receipt is a visit's checkout, every buyer's phone is seen at
checkout, and every BLE ping lies inside a zone stay that the foot-traffic sensors count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from retail_datagen import calendar
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.store_formats import FORMATS, STORE_FORMATS

__all__ = ["VisitKind", "Visits", "build_visits", "expected_receipts"]


class VisitKind:
    SHOPPING = 0
    MARKETING = 1
    RETURN = 2


@dataclass(frozen=True)
class Visits:
    """Visits of one store-day (index i) and their zone stays (flattened, grouped by visit)."""

    customer: np.ndarray  # customer index, -1 = anonymous
    kind: np.ndarray  # VisitKind
    buys: np.ndarray  # bool: ends with a sale receipt
    detected: np.ndarray  # bool: the phone is seen by BLE beacons
    resolved: np.ndarray  # bool: the BLE device resolves to the known customer
    ref: np.ndarray  # index into the conversions (marketing) or due returns, else -1
    checkout_s: np.ndarray  # seconds after midnight of the receipt (NaN if no checkout)
    stay_visit: np.ndarray
    stay_zone: np.ndarray
    stay_start: np.ndarray  # seconds after midnight
    stay_end: np.ndarray

    @property
    def n(self) -> int:
        return int(self.customer.size)


def expected_receipts(ctx: FactContext, store: int, day: date, weather_factor: float) -> float:
    """Mean sale receipts of a store-day: base volume × store × day × weather multipliers."""
    base = ctx.config.volume.customers_per_day * float(ctx.store_traffic[store])
    return base * float(calendar.day_multipliers([day])[0]) * weather_factor


def _hourly_plan(
    ctx: FactContext, store: int, day: date, receipts: float, window: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Expected visitors and conversion per hour of the day (zero outside opening hours)."""
    weekend = day.weekday() >= 5
    weights = np.asarray(calendar.hour_weights(weekend), dtype=np.float64)
    hours = np.arange(24)
    open_h = (hours * 3600 >= window[0]) & (hours * 3600 < window[1])
    w = np.where(open_h, weights, 0.0)
    mean_w = w[open_h].mean() if open_h.any() else 1.0
    conv = B.BASE_CONVERSION * (1 + B.CONVERSION_PEAK_BONUS / B.BASE_CONVERSION * (w / mean_w - 1))
    conv = np.clip(conv * (B.CONVERSION_WEEKEND_FACTOR if weekend else 1.0), *B.CONVERSION_BOUNDS)
    share = w / w.sum() if w.sum() > 0 else w
    visitors = receipts * share / np.where(conv > 0, conv, 1.0)
    return np.where(open_h, visitors, 0.0), conv


def _ble_detection(
    rng: np.random.Generator, customer: np.ndarray, has_checkout: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which visits' phones the beacons see, and which of those resolve to a known customer.

    Every checkout is seen; a known customer's phone resolves on their first visit of the
    store-day (so two visits of one customer never show as one device in an hour with two
    receipts). Browsers are anonymous and seen with the probability that keeps resolved devices
    near ``BLE_RESOLVED_SHARE`` of all devices, within ``BLE_DETECT_NON_BUYER``.
    """
    n = customer.size
    u_detect, u_resolve = rng.random((2, n))
    first_visit = np.zeros(n, bool)
    known = np.flatnonzero(customer >= 0)
    first_visit[known[np.unique(customer[known], return_index=True)[1]]] = True
    resolvable = first_visit & has_checkout & (u_resolve < B.BLE_KNOWN_RESOLVE)
    seen_anyway = int(has_checkout.sum())
    others = int((~has_checkout).sum())
    wanted = resolvable.sum() / B.BLE_RESOLVED_SHARE - seen_anyway
    p_browser = float(np.clip(wanted / others, *B.BLE_DETECT_NON_BUYER)) if others else 0.0
    detected = has_checkout | (u_detect < p_browser)
    return detected, resolvable


def _uniform(rng: np.random.Generator, bounds: tuple[int, int], n: int) -> np.ndarray:
    return bounds[0] + rng.random(n) * (bounds[1] - bounds[0])


def build_visits(
    ctx: FactContext,
    store: int,
    day: date,
    rng: np.random.Generator,
    window: tuple[int, int],
    receipts: float,
    known: tuple[np.ndarray, np.ndarray],
    marketing_s: np.ndarray,
    marketing_customer: np.ndarray,
    return_s: np.ndarray,
    return_customer: np.ndarray,
) -> Visits:
    """All visits of a store-day: known customers' planned trips, anonymous shoppers and
    browsers, marketing-driven visitors and returners.

    ``known`` is (customer index, arrival second) of the day plan's trips to this store: they
    buy. Anonymous visitors (customer -1) fill each hour up to its expected receipts and bring
    the browsers. ``marketing_s``/``return_s`` are the scheduled arrival seconds after midnight
    of visitors brought by an ad and of customers bringing a purchase back.
    """
    open_s, close_s = window
    visitors, conv = _hourly_plan(ctx, store, day, receipts, window)
    known_customer, known_s = known
    known_hour = np.bincount((known_s // 3600).astype(np.int64), minlength=24)[:24]
    buyers = visitors * conv
    anon_buyers = np.maximum(buyers - known_hour, 0.0)
    anon_visitors = anon_buyers + (visitors - buyers)
    buy_p = np.divide(anon_buyers, anon_visitors, out=np.zeros(24), where=anon_visitors > 0)
    per_hour = rng.poisson(anon_visitors)
    hour = np.repeat(np.arange(24), per_hour)
    n_anon = hour.size
    hour_end = np.minimum((hour + 1) * 3600, close_s - 120)
    anon_arrive = hour * 3600 + rng.random(n_anon) * np.maximum(hour_end - hour * 3600, 1)
    anon_buys = rng.random(n_anon) < buy_p[hour]
    n_shop = n_anon + known_customer.size
    arrive = np.concatenate([known_s, anon_arrive])
    buys = np.concatenate([np.ones(known_customer.size, bool), anon_buys])
    customer = np.concatenate([known_customer, np.full(n_anon, -1)])

    n_mkt, n_ret = marketing_s.size, return_s.size
    mkt_customer = np.asarray(marketing_customer, dtype=np.int64)
    mkt_buys = rng.random(n_mkt) < B.MARKETING_BUY_PROBABILITY

    kind = np.concatenate(
        [
            np.full(n_shop, VisitKind.SHOPPING, np.int8),
            np.full(n_mkt, VisitKind.MARKETING, np.int8),
            np.full(n_ret, VisitKind.RETURN, np.int8),
        ]
    )
    customer = np.concatenate([customer, mkt_customer, return_customer]).astype(np.int64)
    buys = np.concatenate([buys, mkt_buys, np.zeros(n_ret, bool)])
    ref = np.concatenate([np.full(n_shop, -1), np.arange(n_mkt), np.arange(n_ret)])
    n = kind.size
    has_checkout = buys | (kind == VisitKind.RETURN)

    # zones: entrance, k interior zones (distinct), checkout for buyers and returners
    zones = FORMATS[STORE_FORMATS[int(ctx.store_format[store])]].zones
    interior = np.array([B.ZONES.index(z) for z in zones], dtype=np.int8)
    lo, hi = B.INTERIOR_ZONES_PER_VISIT
    k = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    k = np.where(buys, k, np.maximum(k + 1, 1))  # browsers walk at least one aisle
    k = np.where(kind == VisitKind.RETURN, 0, np.minimum(k, interior.size))
    order = np.argsort(rng.random((n, interior.size)), axis=1)
    stays_per_visit = 1 + k + has_checkout
    total = int(stays_per_visit.sum())
    first = np.cumsum(stays_per_visit) - stays_per_visit
    stay_visit = np.repeat(np.arange(n), stays_per_visit)
    pos = np.arange(total) - first[stay_visit]
    is_checkout = has_checkout[stay_visit] & (pos == stays_per_visit[stay_visit] - 1)
    interior_pos = np.clip(pos - 1, 0, interior.size - 1)
    zone = interior[order[stay_visit, interior_pos]]
    zone = np.where(pos == 0, B.ENTRANCE, zone)
    zone = np.where(is_checkout, B.CHECKOUT, zone).astype(np.int8)

    dwell = np.where(
        pos == 0,
        _uniform(rng, B.DWELL_ENTRANCE, total),
        np.where(
            is_checkout,
            _uniform(rng, B.DWELL_CHECKOUT, total),
            _uniform(rng, B.DWELL_INTERIOR, total),
        ),
    )
    duration = np.add.reduceat(dwell, first) if total else np.zeros(n)

    # anchor each visit: shoppers by arrival; marketing and return visits by their given time
    start = np.empty(n)
    start[:n_shop] = arrive
    # people reached by an ad trickle in over the first minutes rather than all at once
    start[n_shop : n_shop + n_mkt] = marketing_s + rng.random(n_mkt) * B.MARKETING_ARRIVAL_SPREAD_S
    start[n_shop + n_mkt :] = return_s
    latest_end = close_s - 1.0
    # keep every visit inside opening hours: shift earlier, then compress if still too long
    start = np.clip(np.minimum(start, latest_end - duration), open_s, None)
    squeeze = np.where(start + duration > latest_end, (latest_end - start) / duration, 1.0)
    dwell = dwell * squeeze[stay_visit]
    cum = np.cumsum(dwell)
    before = cum - dwell
    base = before[first][stay_visit]  # time walked before the visit's first stay (exact 0 there)
    stay_start = start[stay_visit] + (before - base)
    stay_end = start[stay_visit] + (cum - base)
    checkout_s = np.full(n, np.nan)
    checkout_s[stay_visit[is_checkout]] = stay_end[is_checkout]

    detected, resolved = _ble_detection(rng, customer, has_checkout)
    return Visits(
        customer=customer,
        kind=kind,
        buys=buys,
        detected=detected,
        resolved=resolved,
        ref=ref.astype(np.int64),
        checkout_s=checkout_s,
        stay_visit=stay_visit,
        stay_zone=zone,
        stay_start=stay_start,
        stay_end=stay_end,
    )
