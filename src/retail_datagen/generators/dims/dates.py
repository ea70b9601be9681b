"""dim_date: one row per day, wide enough for history, the stream and some future planning.

The range runs from January 1 of the year before ``historical.start_date`` to December 31 two
years after the later of today and the start date, so facts generated "until now" (and streamed
after it) always find their day. Holidays come from :mod:`retail_datagen.calendar`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import calendar, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.schema.tables import DIM_DATE

__all__ = ["YEARS_AFTER", "YEARS_BEFORE", "date_range", "generate_dates"]

YEARS_BEFORE = 1
YEARS_AFTER = 2


def date_range(config: RetailConfig, today: date | None = None) -> tuple[date, date]:
    """First and last day of dim_date."""
    start = config.historical.start_date
    last_year = max(today or date.today(), start).year + YEARS_AFTER
    return date(start.year - YEARS_BEFORE, 1, 1), date(last_year, 12, 31)


def generate_dates(config: RetailConfig, today: date | None = None) -> pa.Table:
    """The calendar table; ``today`` is injectable so tests need not depend on the clock."""
    first, last = date_range(config, today)
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
