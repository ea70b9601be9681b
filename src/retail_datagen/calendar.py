"""The time model: season, day of week, hour of day, holidays for any year, weather (SPEC §6.6).

Distributions are data: every curve, lift window and probability table is a named constant in
the first part of this module; the functions below only evaluate them. Nothing depends on a
particular calendar year — holidays come from rules (fixed dates, n-th weekdays, the Easter
computus), and windows that cross a year boundary are evaluated from the neighbouring years too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from retail_datagen import rng

__all__ = [
    "CATEGORY_LIFTS",
    "CATEGORY_SEASONS",
    "CLOSED_HOLIDAYS",
    "DOW_MULTIPLIERS",
    "ELECTRONICS_CATEGORIES",
    "HOLIDAY_RULES",
    "HOUR_WEIGHTS_WEEKDAY",
    "HOUR_WEIGHTS_WEEKEND",
    "MONTH_SEASON",
    "OFFICE_CATEGORIES",
    "PROMO_SEASON_BY_MONTH",
    "RETURNS_LIFTS",
    "SEASON_ANCHORS",
    "TRAFFIC_LIFTS",
    "WEATHER_CONDITIONS",
    "WEATHER_MULTIPLIERS",
    "WEATHER_PROBABILITIES",
    "CategoryLift",
    "Lift",
    "anchor_day",
    "category_lift",
    "category_season",
    "day_multipliers",
    "holiday_name",
    "holidays",
    "hour_weights",
    "promo_season_multiplier",
    "returns_multiplier",
    "weather",
]


@dataclass(frozen=True)
class Lift:
    """A multiplier around an anchor day: ``peak`` on the plateau [anchor − hold_before,
    anchor + hold_after], tapering linearly back to 1 over ``ramp_before`` / ``ramp_after`` days.

    ``anchor`` is a holiday name of :data:`HOLIDAY_RULES` or a fixed ``"MM-DD"``.
    """

    anchor: str
    peak: float
    ramp_before: int = 0
    ramp_after: int = 0
    hold_before: int = 0
    hold_after: int = 0


@dataclass(frozen=True)
class CategoryLift:
    """Demand lifts by product Category on the days ``first``..``last`` relative to ``anchor``."""

    anchor: str
    first: int
    last: int
    lifts: tuple[tuple[str, float], ...]


# ================================================================ distributions (data)

# Day of week, Monday first (SPEC §11).
DOW_MULTIPLIERS: tuple[float, ...] = (0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.1)

# Season reference levels (SPEC §11) and the smooth mid-month curve built from them: each
# season's three months average to its anchor (winter = Dec–Feb, spring = Mar–May, ...).
SEASON_ANCHORS: Mapping[str, float] = MappingProxyType(
    {"winter": 1.4, "spring": 1.0, "summer": 0.9, "fall": 1.2}
)
MONTH_SEASON: tuple[float, ...] = (
    1.42, 1.33, 1.12, 1.00, 0.90, 0.86, 0.86, 0.98, 1.08, 1.18, 1.34, 1.45,
)  # fmt: skip

# Relative traffic by hour of day (0..23): weekday lunch and evening peaks with an afternoon
# dip; weekends flatter around an early-afternoon peak; late night low for 24-hour stores.
HOUR_WEIGHTS_WEEKDAY: tuple[float, ...] = (
    0.02, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.35, 0.55, 0.70, 0.85, 1.00,
    1.15, 1.15, 0.85, 0.70, 0.90, 1.25, 1.45, 1.30, 0.95, 0.60, 0.25, 0.08,
)  # fmt: skip
HOUR_WEIGHTS_WEEKEND: tuple[float, ...] = (
    0.02, 0.01, 0.01, 0.01, 0.02, 0.04, 0.10, 0.25, 0.50, 0.75, 0.95, 1.10,
    1.20, 1.25, 1.20, 1.10, 1.00, 0.95, 0.90, 0.80, 0.65, 0.45, 0.22, 0.07,
)  # fmt: skip

# Days every store is closed (SPEC §6.5): traffic multiplier 0.
CLOSED_HOLIDAYS: frozenset[str] = frozenset({"Christmas Day"})

# Store traffic around holidays (SPEC §11). Where windows overlap, the strongest effect wins.
TRAFFIC_LIFTS: tuple[Lift, ...] = (
    Lift("New Year's Day", 0.5),
    Lift("Valentine's Day", 1.4, ramp_before=3),
    Lift("Mother's Day", 1.6, ramp_before=3),
    Lift("Memorial Day", 1.2, ramp_before=3),
    Lift("Father's Day", 1.3, ramp_before=3),
    Lift("Independence Day", 1.2, ramp_before=3),
    Lift("08-15", 1.8, ramp_before=7, ramp_after=7, hold_before=7, hold_after=7),  # school
    Lift("Labor Day", 1.1, ramp_before=2),
    Lift("Halloween", 1.3, ramp_before=5),
    Lift("Thanksgiving", 0.8),
    Lift("Black Friday", 3.5, ramp_after=3),
    Lift("Christmas Eve", 2.0, ramp_before=14),  # the Dec 10-24 run-up
    Lift("Day After Christmas", 2.5, ramp_after=4),
)

# Returns: about 6x normal on Dec 26, back to normal by mid-January.
RETURNS_LIFTS: tuple[Lift, ...] = (Lift("Day After Christmas", 6.0, ramp_after=15),)

# Promotion usage by month (Jan..Dec), a factor on each segment's base usage.
PROMO_SEASON_BY_MONTH: tuple[float, ...] = (1.0,) * 10 + (1.1, 1.15)

ELECTRONICS_CATEGORIES: tuple[str, ...] = (
    "Audio", "TV & Video", "Phones & Tablets", "Computer Accessories",
)  # fmt: skip
OFFICE_CATEGORIES: tuple[str, ...] = (  # the Office Supplies department
    "Desk Accessories", "Office Furniture", "Paper & Notebooks", "Printer Ink & Toner",
    "School Supplies", "Writing Instruments",
)  # fmt: skip
_GRILLING: tuple[tuple[str, float], ...] = (
    ("Meat & Seafood", 1.4),
    ("Grilling & Outdoor", 1.8),
    ("Beverages", 1.3),
)

# Category demand around holidays (SPEC §6.1); overlapping windows keep the larger lift.
CATEGORY_LIFTS: tuple[CategoryLift, ...] = (
    CategoryLift(
        "Thanksgiving", -7, -1, (("Meat & Seafood", 1.8), ("Deli & Bakery", 1.5), ("Pantry", 1.6))
    ),
    CategoryLift(
        "Black Friday", 0, 3, (*((c, 2.5) for c in ELECTRONICS_CATEGORIES), ("Toys", 2.2))
    ),
    CategoryLift("Memorial Day", -2, 0, _GRILLING),
    CategoryLift("Independence Day", -3, 0, _GRILLING),
    CategoryLift("Labor Day", -2, 0, _GRILLING),
    CategoryLift(
        "Christmas Eve",
        -14,
        0,
        (("Toys", 2.0), ("Holiday Decor", 2.5), *((c, 1.6) for c in ELECTRONICS_CATEGORIES)),
    ),
    CategoryLift(
        "08-15", -14, 14, (*((c, 1.8) for c in OFFICE_CATEGORIES), ("Kids' Apparel", 1.6))
    ),
)

# Seasonal categories sell in their season (SPEC §6.1): demand by month (Jan..Dec) relative to
# an ordinary month, interpolated between mid-months; unlisted categories sell evenly all year.
# A factor >= 1 marks a month in season, <= 0.5 a month out of season (validation compares them).
CATEGORY_SEASONS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "Grilling & Outdoor": (0.15, 0.2, 0.5, 1.1, 1.8, 2.1, 2.0, 1.5, 0.8, 0.35, 0.2, 0.15),
        "Pool & Beach": (0.1, 0.1, 0.3, 0.7, 1.5, 2.4, 2.4, 1.6, 0.5, 0.15, 0.1, 0.1),
        "Lawn & Garden": (0.3, 0.4, 1.0, 1.7, 1.9, 1.5, 1.1, 0.9, 0.8, 0.6, 0.35, 0.3),
        "Camping & Hiking": (0.4, 0.4, 0.6, 0.9, 1.3, 1.7, 1.7, 1.4, 1.0, 0.7, 0.5, 0.5),
        "Holiday Decor": (0.35, 0.25, 0.25, 0.3, 0.2, 0.2, 0.2, 0.25, 0.6, 1.4, 2.6, 3.4),
        "Toys": (0.7, 0.7, 0.75, 0.8, 0.8, 0.8, 0.8, 0.85, 0.85, 1.0, 1.7, 2.3),
        "Fitness": (1.8, 1.3, 1.0, 0.9, 0.9, 0.8, 0.8, 0.8, 0.9, 0.9, 0.9, 1.0),
    }
)

# Weather per store-day (SPEC §11): conditions, their traffic effect, and the probability of
# each condition by month (Jan..Dec; columns in WEATHER_CONDITIONS order; no snow Apr-Oct).
WEATHER_CONDITIONS: tuple[str, ...] = ("SUNNY", "CLOUDY", "RAINY", "SNOWY", "STORMY")
WEATHER_MULTIPLIERS: tuple[float, ...] = (1.1, 1.0, 0.7, 0.6, 0.5)
WEATHER_PROBABILITIES: tuple[tuple[float, ...], ...] = (
    (0.30, 0.30, 0.12, 0.23, 0.05),
    (0.32, 0.30, 0.13, 0.20, 0.05),
    (0.38, 0.30, 0.20, 0.07, 0.05),
    (0.42, 0.28, 0.25, 0.00, 0.05),
    (0.48, 0.27, 0.20, 0.00, 0.05),
    (0.55, 0.22, 0.15, 0.00, 0.08),
    (0.58, 0.20, 0.13, 0.00, 0.09),
    (0.55, 0.22, 0.14, 0.00, 0.09),
    (0.52, 0.25, 0.17, 0.00, 0.06),
    (0.45, 0.30, 0.20, 0.00, 0.05),
    (0.35, 0.33, 0.20, 0.07, 0.05),
    (0.30, 0.30, 0.15, 0.20, 0.05),
)

# ================================================================ holiday rules

_MONDAY, _THURSDAY, _SUNDAY = 0, 3, 6


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) ``weekday`` of a month; ``n = -1`` is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Western Easter Sunday (anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _thanksgiving(year: int) -> date:
    return _nth_weekday(year, 11, _THURSDAY, 4)


HOLIDAY_RULES: tuple[tuple[str, Callable[[int], date]], ...] = (
    ("New Year's Day", lambda y: date(y, 1, 1)),
    ("Valentine's Day", lambda y: date(y, 2, 14)),
    ("Easter", _easter),
    ("Mother's Day", lambda y: _nth_weekday(y, 5, _SUNDAY, 2)),
    ("Memorial Day", lambda y: _nth_weekday(y, 5, _MONDAY, -1)),
    ("Father's Day", lambda y: _nth_weekday(y, 6, _SUNDAY, 3)),
    ("Independence Day", lambda y: date(y, 7, 4)),
    ("Labor Day", lambda y: _nth_weekday(y, 9, _MONDAY, 1)),
    ("Halloween", lambda y: date(y, 10, 31)),
    ("Thanksgiving", _thanksgiving),
    ("Black Friday", lambda y: _thanksgiving(y) + timedelta(days=1)),
    ("Cyber Monday", lambda y: _thanksgiving(y) + timedelta(days=4)),
    ("Christmas Eve", lambda y: date(y, 12, 24)),
    ("Christmas Day", lambda y: date(y, 12, 25)),
    ("Day After Christmas", lambda y: date(y, 12, 26)),
    ("New Year's Eve", lambda y: date(y, 12, 31)),
)
_RULES = dict(HOLIDAY_RULES)


@lru_cache(maxsize=256)
def _holidays(year: int) -> Mapping[date, str]:
    return MappingProxyType({rule(year): name for name, rule in HOLIDAY_RULES})


def holidays(year: int) -> dict[date, str]:
    """The named holidays of ``year``, by date."""
    return dict(_holidays(year))


def holiday_name(d: date) -> str | None:
    """The holiday on ``d``, or None."""
    return _holidays(d.year).get(d)


def _anchor(name: str, year: int) -> date:
    """The anchor day of a lift in ``year``: a holiday name or a fixed ``MM-DD``."""
    rule = _RULES.get(name)
    if rule is not None:
        return rule(year)
    month, day = name.split("-")
    return date(year, int(month), int(day))


def anchor_day(name: str, year: int) -> date:
    """The day a holiday name of :data:`HOLIDAY_RULES` (or a fixed ``"MM-DD"``) falls on in
    ``year`` — the anchor of lifts, and of price windows such as clearance after a season."""
    return _anchor(name, year)


def _neighbour_years(year: int) -> range:
    """Years whose windows may reach into ``year`` (a window never spans more than a year)."""
    return range(max(MINYEAR, year - 1), min(MAXYEAR, year + 1) + 1)


# ================================================================ daily multipliers


def _year_days(year: int) -> int:
    return date(year, 12, 31).timetuple().tm_yday


def _lift_values(offset: np.ndarray, lift: Lift) -> np.ndarray:
    """The lift on days ``offset`` days from its anchor (negative = before)."""
    before = offset < 0
    distance = np.where(before, -offset - lift.hold_before, offset - lift.hold_after).clip(0)
    ramp = np.where(before, lift.ramp_before, lift.ramp_after)
    weight = np.clip(1.0 - distance / (ramp + 1.0), 0.0, 1.0)
    return 1.0 + (lift.peak - 1.0) * weight


@lru_cache(maxsize=256)
def _lift_curve(year: int, lifts: tuple[Lift, ...]) -> np.ndarray:
    """Per day of ``year`` (index = day of year − 1): the strongest lift in effect, else 1."""
    first = date(year, 1, 1).toordinal()
    ordinals = np.arange(first, first + _year_days(year))
    curve = np.ones(ordinals.size)
    for lift in lifts:
        for y in _neighbour_years(year):
            values = _lift_values(ordinals - _anchor(lift.anchor, y).toordinal(), lift)
            stronger = np.abs(np.log(values)) > np.abs(np.log(curve))
            curve = np.where(stronger, values, curve)
    curve.setflags(write=False)
    return curve


def _lift_on(d: date, lifts: tuple[Lift, ...]) -> float:
    return float(_lift_curve(d.year, lifts)[d.timetuple().tm_yday - 1])


_MID_MONTHS = np.arange(12) + 0.5
# Mean of season x day of week over a year, so an average ordinary day comes out at 1.0.
_ORDINARY_DAY_MEAN = float(np.mean(MONTH_SEASON) * np.mean(DOW_MULTIPLIERS))


def _month_position(days: np.ndarray) -> np.ndarray:
    """Position of each day in the year in months (0.5 = mid-January), for mid-month curves."""
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64)
    month_length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(
        np.int64
    )
    position: np.ndarray = months.astype(np.int64) % 12 + (day_of_month + 0.5) / month_length
    return position


def _season(days: np.ndarray) -> np.ndarray:
    """Season level per day, linearly interpolated between mid-month points (no month jumps)."""
    season: np.ndarray = np.interp(_month_position(days), _MID_MONTHS, MONTH_SEASON, period=12)
    return season


@lru_cache(maxsize=256)
def _traffic_curve(year: int) -> np.ndarray:
    """Per day of ``year``: the holiday traffic lift, 0 on the days every store is closed."""
    curve = _lift_curve(year, TRAFFIC_LIFTS).copy()
    for day, name in _holidays(year).items():
        if name in CLOSED_HOLIDAYS:
            curve[day.timetuple().tm_yday - 1] = 0.0
    curve.setflags(write=False)
    return curve


def day_multipliers(days: Sequence[date] | np.ndarray) -> np.ndarray:
    """Store traffic multiplier per day: season × day of week × holiday lift, 0 when closed.

    Season × day of week is normalised so that an average ordinary day is about 1.0.
    """
    day_array = np.asarray(days, dtype="datetime64[D]").reshape(-1)
    epoch_days = day_array.astype(np.int64)
    dow = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    out: np.ndarray = _season(day_array) * np.asarray(DOW_MULTIPLIERS)[dow] / _ORDINARY_DAY_MEAN
    years = day_array.astype("datetime64[Y]")
    for year in np.unique(years):
        in_year = years == year
        day_of_year = (day_array[in_year] - year.astype("datetime64[D]")).astype(np.int64)
        out[in_year] *= _traffic_curve(int(year.astype(np.int64)) + 1970)[day_of_year]
    return out


def hour_weights(is_weekend: bool) -> np.ndarray:
    """Relative traffic by hour of day, shape (24,)."""
    return np.array(HOUR_WEIGHTS_WEEKEND if is_weekend else HOUR_WEIGHTS_WEEKDAY)


def returns_multiplier(d: date) -> float:
    """Return volume relative to normal: about 6× on Dec 26, tapering through early January."""
    return _lift_on(d, RETURNS_LIFTS)


def promo_season_multiplier(d: date) -> float:
    """Promotion usage relative to normal (higher in November and December)."""
    return PROMO_SEASON_BY_MONTH[d.month - 1]


@lru_cache(maxsize=64)
def _category_lifts(year: int) -> Mapping[date, Mapping[str, float]]:
    by_day: dict[date, dict[str, float]] = {}
    for window in CATEGORY_LIFTS:
        for y in _neighbour_years(year):
            anchor = _anchor(window.anchor, y)
            for offset in range(window.first, window.last + 1):
                day = anchor + timedelta(days=offset)
                if day.year != year:
                    continue
                lifts = by_day.setdefault(day, {})
                for category, lift in window.lifts:
                    lifts[category] = max(lift, lifts.get(category, 1.0))
    return MappingProxyType({d: MappingProxyType(v) for d, v in by_day.items()})


def category_lift(d: date) -> dict[str, float]:
    """Demand multipliers by product Category on ``d``; empty on ordinary days."""
    return dict(_category_lifts(d.year).get(d, {}))


def category_season(d: date) -> dict[str, float]:
    """Demand multiplier on ``d`` of each category of :data:`CATEGORY_SEASONS`."""
    position = _month_position(np.array([d], dtype="datetime64[D]"))
    return {
        name: float(np.interp(position, _MID_MONTHS, curve, period=12)[0])
        for name, curve in CATEGORY_SEASONS.items()
    }


# ================================================================ weather

_WEATHER_CDF = np.cumsum(np.asarray(WEATHER_PROBABILITIES), axis=1)
_WEATHER_CDF[:, -1] = 1.0  # guard against rounding: every uniform maps to a condition
_WEATHER_MULTIPLIER_ARRAY = np.asarray(WEATHER_MULTIPLIERS)
_DAY_KEY_SHIFT = 1 << 32  # key = day ordinal * 2**32 + store id: one independent draw per pair


def weather(seed: int, store_ids: np.ndarray, day: date) -> tuple[np.ndarray, np.ndarray]:
    """Weather per store on ``day``: condition codes (int8 indexes into
    :data:`WEATHER_CONDITIONS`) and traffic multipliers.

    Each (store, day) is keyed on its own, so the result for a store does not depend on which
    other stores or days are generated in the same call.
    """
    ids = np.asarray(store_ids, dtype=np.int64)
    keys = np.int64(day.toordinal()) * _DAY_KEY_SHIFT + ids
    uniforms = rng.uniform_from_seeds(rng.substream_seeds(seed, "weather", keys))
    codes = np.searchsorted(_WEATHER_CDF[day.month - 1], uniforms, side="right").astype(np.int8)
    return codes, _WEATHER_MULTIPLIER_ARRAY[codes]
