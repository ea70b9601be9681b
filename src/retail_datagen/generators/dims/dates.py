"""dim_date: one row per day, wide enough for history, the stream and some future planning.

The range runs from January 1 of the year before ``historical.start_date`` to December 31 of
the later of two years after the start and the year of the last fact day (``through``). It
depends on the configuration and the generated range only — never on today's date — so the same
configuration and range give the same table on any day. When facts (historical or streamed)
reach past its last day, the history appender extends it to December 31 of their year
(:func:`retail_datagen.engine.history.HistoryAppender.commit`). Holidays come from
:mod:`retail_datagen.calendar`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import calendar, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.schema.tables import DIM_DATE

__all__ = ["YEARS_AFTER", "YEARS_BEFORE", "build_dates", "date_range", "generate_dates"]

YEARS_BEFORE = 1
YEARS_AFTER = 2


def date_range(config: RetailConfig, through: date | None = None) -> tuple[date, date]:
    """First and last day of dim_date for facts up to ``through`` (None: none yet)."""
    start = config.historical.start_date
    last_year = max(start.year + YEARS_AFTER, through.year if through else start.year)
    return date(start.year - YEARS_BEFORE, 1, 1), date(last_year, 12, 31)


def generate_dates(config: RetailConfig, through: date | None = None) -> pa.Table:
    """The calendar table for the configuration and facts up to ``through``."""
    return build_dates(*date_range(config, through))


def build_dates(first: date, last: date) -> pa.Table:
    """dim_date rows for every day from ``first`` to ``last``."""
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    day = pa.array(days, pa.date32())
    year, month, dom = pc.year(day), pc.month(day), pc.day(day)
    dow = pc.day_of_week(day, count_from_zero=False, week_start=1)
    holiday_day, holiday_name = zip(
        *sorted(
            (d, name)
            for y in range(first.year, last.year + 1)
            for d, name in calendar.holidays(y).items()
        ),
        strict=True,
    )
    holiday_index = (np.array(holiday_day, dtype="datetime64[D]") - days[0]).astype(np.int64)
    names = np.full(days.size, None, dtype=object)
    names[holiday_index] = holiday_name
    table = pa.table(
        {
            "DateKey": pc.add(pc.add(pc.multiply(year, 10_000), pc.multiply(month, 100)), dom),
            "Date": day,
            "Year": year,
            "Quarter": pc.quarter(day),
            "Month": month,
            "MonthName": pc.strftime(day, format="%B", locale="C"),
            "Day": dom,
            "DayOfWeek": dow,
            "DayName": pc.strftime(day, format="%A", locale="C"),
            "WeekOfYear": pc.iso_week(day),
            "IsWeekend": pc.greater_equal(dow, 6),
            "HolidayName": pa.array(names, pa.string()),
        }
    )
    return schema.normalise(DIM_DATE, table)
