"""The time model: holidays for any year, daily/hourly shapes, weather, returns and lifts."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from retail_datagen import calendar


def _year(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def _named(year: int) -> dict[str, date]:
    return {name: day for day, name in calendar.holidays(year).items()}


@pytest.mark.parametrize(
    ("year", "thanksgiving"),
    [(2023, date(2023, 11, 23)), (2024, date(2024, 11, 28)), (2025, date(2025, 11, 27)),
     (2030, date(2030, 11, 28))],
)  # fmt: skip
def test_thanksgiving_is_fourth_thursday_and_black_friday_follows(
    year: int, thanksgiving: date
) -> None:
    named = _named(year)
    assert named["Thanksgiving"] == thanksgiving
    assert named["Black Friday"] == thanksgiving + timedelta(days=1)
    assert named["Cyber Monday"] == thanksgiving + timedelta(days=4)


@pytest.mark.parametrize(
    "easter",
    [date(2000, 4, 23), date(2019, 4, 21), date(2024, 3, 31), date(2025, 4, 20),
     date(2026, 4, 5), date(2038, 4, 25), date(2285, 3, 22)],
)  # fmt: skip
def test_easter_follows_the_computus(easter: date) -> None:
    assert _named(easter.year)["Easter"] == easter


def test_floating_holidays_of_2024() -> None:
    named = _named(2024)
    assert named["Mother's Day"] == date(2024, 5, 12)
    assert named["Memorial Day"] == date(2024, 5, 27)
    assert named["Father's Day"] == date(2024, 6, 16)
    assert named["Labor Day"] == date(2024, 9, 2)
    assert calendar.holiday_name(date(2024, 12, 26)) == "Day After Christmas"
    assert calendar.holiday_name(date(2024, 3, 5)) is None


@pytest.mark.parametrize("year", range(1990, 2101, 7))
def test_every_year_has_all_named_holidays_on_the_right_weekday(year: int) -> None:
    named = _named(year)
    assert len(named) == len(calendar.HOLIDAY_RULES)
    assert named["Thanksgiving"].weekday() == 3 and 22 <= named["Thanksgiving"].day <= 28
    assert named["Memorial Day"].weekday() == 0 and named["Memorial Day"].day >= 25
    assert named["Labor Day"].weekday() == 0 and named["Labor Day"].day <= 7
    assert named["Mother's Day"].weekday() == 6 and 8 <= named["Mother's Day"].day <= 14
    assert named["Father's Day"].weekday() == 6 and 15 <= named["Father's Day"].day <= 21
    assert named["Easter"].weekday() == 6


@pytest.mark.parametrize("year", [2019, 2023, 2024, 2025, 2026, 2031, 2040])
def test_black_friday_is_the_busiest_day_and_christmas_is_closed(year: int) -> None:
    days = _year(year)
    multipliers = calendar.day_multipliers(days)
    named = _named(year)
    assert days[int(np.argmax(multipliers))] == named["Black Friday"]
    assert multipliers[days.index(named["Christmas Day"])] == 0.0
    assert (multipliers[[d != named["Christmas Day"] for d in days]] > 0).all()


def test_saturday_beats_monday_and_fall_beats_summer() -> None:
    saturday, monday = date(2024, 3, 9), date(2024, 3, 11)
    sat, mon = calendar.day_multipliers([saturday, monday])
    assert sat > mon
    october, july = calendar.day_multipliers([date(2024, 10, 9), date(2024, 7, 10)])  # Wednesdays
    assert october > july


def test_average_ordinary_day_is_about_one() -> None:
    days = _year(2025)
    multipliers = calendar.day_multipliers(days)
    ordinary = [not calendar.category_lift(d) and calendar.holiday_name(d) is None for d in days]
    assert 0.9 < multipliers[ordinary].mean() < 1.1


def test_season_curve_averages_to_the_reference_levels() -> None:
    season = calendar.MONTH_SEASON
    months = {"winter": (11, 0, 1), "spring": (2, 3, 4), "summer": (5, 6, 7), "fall": (8, 9, 10)}
    for name, idx in months.items():
        assert np.mean([season[i] for i in idx]) == pytest.approx(
            calendar.SEASON_ANCHORS[name], abs=0.01
        )


def test_holiday_lifts_taper_around_their_day() -> None:
    days = [date(2024, 12, d) for d in (9, 16, 23, 19, 26)]
    m = dict(zip(days, calendar.day_multipliers(days), strict=True))
    assert m[date(2024, 12, 9)] < m[date(2024, 12, 16)] < m[date(2024, 12, 23)]  # Mondays
    assert m[date(2024, 12, 19)] < m[date(2024, 12, 26)]  # Thursdays
    new_year, ordinary = calendar.day_multipliers([date(2025, 1, 1), date(2025, 1, 8)])
    assert new_year < ordinary  # both Wednesdays


def test_multipliers_accept_datetime64_and_span_years() -> None:
    days = np.arange(np.datetime64("2024-12-20"), np.datetime64("2025-01-10"))
    as_dates = [d.item() for d in days]
    np.testing.assert_array_equal(
        calendar.day_multipliers(days), calendar.day_multipliers(as_dates)
    )


def test_hour_weights_have_lunch_and_evening_peaks() -> None:
    weekday, weekend = calendar.hour_weights(False), calendar.hour_weights(True)
    assert weekday.shape == weekend.shape == (24,)
    assert weekday[12] == pytest.approx(1.15) and weekday[15] < 0.8
    assert 1.2 <= weekday[17:20].max() <= 1.5
    assert int(np.argmax(weekend)) in (12, 13, 14)
    assert weekend.std() < weekday.std() * 1.05  # flatter
    assert weekday[2] < 0.05 and weekend[3] < 0.05


def test_weather_is_keyed_per_store_and_day() -> None:
    day = date(2024, 2, 3)
    codes, mult = calendar.weather(7, np.arange(1, 101), day)
    again, _ = calendar.weather(7, np.arange(1, 101), day)
    np.testing.assert_array_equal(codes, again)
    subset, subset_mult = calendar.weather(7, np.array([50, 3, 99]), day)
    np.testing.assert_array_equal(subset, codes[[49, 2, 98]])
    np.testing.assert_array_equal(subset_mult, mult[[49, 2, 98]])
    other_day, _ = calendar.weather(7, np.arange(1, 101), day + timedelta(days=1))
    assert (other_day != codes).any()
    expected = np.asarray(calendar.WEATHER_MULTIPLIERS)[codes]
    np.testing.assert_array_equal(mult, expected)


def test_no_snow_in_july_but_some_in_january() -> None:
    stores = np.arange(1, 2001)
    july, _ = calendar.weather(1, stores, date(2024, 7, 15))
    january, _ = calendar.weather(1, stores, date(2024, 1, 15))
    snowy = calendar.WEATHER_CONDITIONS.index("SNOWY")
    assert not (july == snowy).any()
    assert (january == snowy).mean() > 0.1


def test_weather_probabilities_are_distributions() -> None:
    table = np.asarray(calendar.WEATHER_PROBABILITIES)
    assert table.shape == (12, len(calendar.WEATHER_CONDITIONS))
    np.testing.assert_allclose(table.sum(axis=1), 1.0)


def test_returns_spike_after_christmas_and_fade_in_january() -> None:
    assert calendar.returns_multiplier(date(2024, 12, 26)) == pytest.approx(6.0)
    assert 1.0 < calendar.returns_multiplier(date(2025, 1, 5)) < 6.0
    assert calendar.returns_multiplier(date(2025, 1, 20)) == 1.0
    assert calendar.returns_multiplier(date(2024, 6, 1)) == 1.0


def test_promotions_run_higher_in_november_and_december() -> None:
    assert calendar.promo_season_multiplier(date(2024, 6, 1)) == 1.0
    assert calendar.promo_season_multiplier(date(2024, 11, 20)) > 1.0
    assert calendar.promo_season_multiplier(date(2024, 12, 20)) > 1.0


def test_category_lifts_follow_the_holidays() -> None:
    assert calendar.category_lift(date(2024, 3, 5)) == {}
    before_thanksgiving = calendar.category_lift(date(2024, 11, 25))
    assert {"Meat & Seafood", "Deli & Bakery", "Pantry"} <= before_thanksgiving.keys()
    black_friday = calendar.category_lift(date(2024, 11, 29))
    assert {"Toys", "Audio", "TV & Video"} <= black_friday.keys()
    assert "Grilling & Outdoor" in calendar.category_lift(date(2024, 7, 4))
    assert "Grilling & Outdoor" in calendar.category_lift(date(2024, 5, 27))
    assert "Holiday Decor" in calendar.category_lift(date(2024, 12, 20))
    school = calendar.category_lift(date(2024, 8, 15))
    assert "Kids' Apparel" in school
    assert set(calendar.OFFICE_CATEGORIES) <= school.keys()
    assert all(v > 1.0 for v in school.values())


def test_calendar_results_are_not_shared_mutable_state() -> None:
    calendar.holidays(2024).clear()
    calendar.category_lift(date(2024, 11, 29)).clear()
    assert calendar.holiday_name(date(2024, 12, 25)) == "Christmas Day"
    assert calendar.category_lift(date(2024, 11, 29))
