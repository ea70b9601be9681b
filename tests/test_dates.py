"""The one parser of typed dates and times: accepts dates, datetimes and ISO text; a bad value is
one line naming the input."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from retail_datagen.dates import parse_day, parse_time
from retail_datagen.errors import InputError


def test_a_day_comes_from_text_a_date_or_a_datetime() -> None:
    assert parse_day(" 2024-03-04 ", "--start") == date(2024, 3, 4)
    assert parse_day(date(2024, 3, 4), "start") == date(2024, 3, 4)
    assert parse_day(datetime(2024, 3, 4, 17, 5), "start") == date(2024, 3, 4)


def test_a_time_is_local_wall_clock_time() -> None:
    assert parse_time("2024-03-04T05:06", "--active-at") == datetime(2024, 3, 4, 5, 6)
    assert parse_time("2024-03-04T05:06+02:00", "active_at") == datetime(2024, 3, 4, 5, 6)
    assert parse_time(date(2024, 3, 4), "--from") == datetime(2024, 3, 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_day("2024-13-01", "--start"), "--start '2024-13-01': not a date"),
        (lambda: parse_time("soon", "active_at"), "active_at 'soon': not a timestamp"),
        (lambda: parse_time("x", "--from", "the watermark"), "(use the watermark)"),
    ],
)
def test_a_bad_value_names_the_input(call: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        call()  # type: ignore[operator]
    assert message in str(caught.value) and "\n" not in str(caught.value)
