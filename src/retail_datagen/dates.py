"""The one parser of dates and times typed by a user (CLI options, API fields, library calls).

Every caller names the input it parses, so a bad value is one line that says which input is wrong
and what it should look like. Times are local wall-clock times: an offset is dropped, not applied.
"""

from __future__ import annotations

from datetime import date, datetime

from retail_datagen.errors import InputError

__all__ = ["parse_day", "parse_time"]


def parse_day(value: date | datetime | str, name: str) -> date:
    """A calendar day from a date, a datetime (its day) or ``YYYY-MM-DD`` text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{name} {value!r}: not a date (use YYYY-MM-DD)") from None


def parse_time(
    value: datetime | date | str, name: str, example: str = "YYYY-MM-DD[THH:MM]"
) -> datetime:
    """A naive local time from a datetime, a date (its midnight) or ISO-8601 text."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=None)
    except ValueError:
        raise InputError(f"{name} {value!r}: not a timestamp (use {example})") from None
