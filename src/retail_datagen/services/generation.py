"""The plan of a fact run, for ``retail-datagen generate`` and ``POST /api/generate/facts``:
its window (``start``/``end``/``days``), the output format it continues in, and its estimate.

``names`` are how the caller calls the three window inputs (``--start`` or ``start``), so an
error names what the user typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.estimate import GenerationEstimate, estimate_days
from retail_datagen.engine.fact_generator import plan_days
from retail_datagen.engine.history import History
from retail_datagen.errors import UserError
from retail_datagen.storage.state import GenerationStateManager

__all__ = [
    "CLI_NAMES",
    "FactPlan",
    "continued_format",
    "estimate_run",
    "plan_facts",
    "plan_window",
]

CLI_NAMES = ("--start", "--end", "--days")


def plan_window(
    config: RetailConfig,
    start: date | None,
    end: date | None,
    days: int | None,
    names: tuple[str, str, str] = CLI_NAMES,
) -> tuple[date | None, date | None]:
    """Turn start/end/days into a run's (start, inclusive end); None: the run's default.

    ``days`` counts from ``start``, or back from ``end``, or from the continuation point; the
    result never reaches into today.
    """
    start_name, end_name, days_name = names
    latest = date.today() - timedelta(days=1)
    for option, value in ((start_name, start), (end_name, end)):
        if value is not None and value > latest:
            raise UserError(
                f"{option} {value.isoformat()} is not in the past; the latest complete day is "
                f"{latest.isoformat()}"
            )
    if start is not None and end is not None and start > end:
        raise UserError(f"{start_name} {start} is after {end_name} {end}")
    if days is None:
        return start, end
    if start is not None and end is not None:
        raise UserError(f"use at most two of {start_name}, {end_name} and {days_name}")
    if end is not None:
        return end - timedelta(days=days - 1), end
    if start is None:
        history = History.open(config.paths.data)
        last = history.last_day
        first = last + timedelta(days=1) if last else config.historical.start_date
        return None, min(first + timedelta(days=days - 1), latest)
    return start, min(start + timedelta(days=days - 1), latest)


def continued_format(
    config: RetailConfig, fmt: str | None, csv_daily: bool, *, fresh: bool = False
) -> tuple[str, bool]:
    """The format of the next run: the one asked for, else the stored facts' own (Parquet when
    there are none, or when the run removes them first: ``fresh``)."""
    if fresh:
        return fmt or "parquet", csv_daily
    state = GenerationStateManager(Path(config.paths.data)).load()
    # without a format the daily flag is the stored one; with one, it is what was asked
    return state.continued_output(fmt, csv_daily if fmt else None)


@dataclass(frozen=True)
class FactPlan:
    start: date | None  # None: continue after the last generated day
    end: date | None  # None: yesterday ("until now")
    output_format: str
    csv_daily: bool


def plan_facts(
    config: RetailConfig,
    start: date | None,
    end: date | None,
    days: int | None,
    fmt: str | None,
    csv_daily: bool,
    names: tuple[str, str, str] = CLI_NAMES,
) -> FactPlan:
    """The whole plan, checked now: a bad window or a start that does not continue the stored
    facts is refused before any work starts."""
    first, last = plan_window(config, start, end, days, names=names)
    state = GenerationStateManager(Path(config.paths.data)).load()
    last_generated = state.last_generated_timestamp if state.has_fact_data else None
    plan_days(config, last_generated, first, last, date.today())  # raises for a bad start
    kind, daily = continued_format(config, fmt, csv_daily)
    return FactPlan(first, last, kind, daily)


def estimate_run(
    config: RetailConfig,
    start: date | None,
    end: date | None,
    days: int | None,
    *,
    workers: int | None = None,
    output_format: str | None = None,
    names: tuple[str, str, str] = CLI_NAMES,
    fresh: bool = False,
) -> GenerationEstimate:
    """The estimate of the run these inputs would start (reads only): the same window rules as
    the run, continuing after the facts already in the data folder (unless ``fresh``: the run
    removes them first)."""
    state = GenerationStateManager(Path(config.paths.data)).load()
    last_generated = state.last_generated_timestamp if state.has_fact_data and not fresh else None
    fmt, _ = continued_format(config, output_format, False, fresh=fresh)
    first, last = plan_window(config, start, end, days, names=names)
    begin, finish = plan_days(config, last_generated, first, last, date.today())
    if begin > finish:
        finish = begin - timedelta(days=1)
    return estimate_days(config, begin, finish, workers=workers, output_format=fmt)
