"""The plan of a fact run, shared by ``generate`` and ``POST /api/generate/facts``: the window,
and the format a run continues in."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.services.generation import continued_format, plan_facts, plan_window


@pytest.fixture
def config(data_dir: Path) -> RetailConfig:
    start = {"historical": {"start_date": date(2024, 1, 1)}}
    return RetailConfig.model_validate(start).with_data_dir(data_dir)


def _store_facts_through(data_dir: Path, day: date, fmt: str, daily: bool) -> None:
    GenerationStateManager(data_dir).update(
        has_fact_data=True,
        last_generated_timestamp=datetime.combine(day, datetime.max.time()),
        output_format=fmt,
        csv_daily=daily,
    )


def test_a_first_run_writes_parquet_unless_asked(config: RetailConfig) -> None:
    assert continued_format(config, None, False) == ("parquet", False)
    assert continued_format(config, "csv", True) == ("csv", True)


def test_a_later_run_continues_in_the_stored_format(config: RetailConfig, data_dir: Path) -> None:
    _store_facts_through(data_dir, date(2024, 2, 10), "csv", True)
    assert continued_format(config, None, False) == ("csv", True)
    assert continued_format(config, "parquet", False) == ("parquet", False)  # History refuses it
    assert continued_format(config, None, False, fresh=True) == ("parquet", False)


def test_days_count_from_the_continuation_point(config: RetailConfig, data_dir: Path) -> None:
    assert plan_window(config, None, None, 3) == (None, date(2024, 1, 3))
    _store_facts_through(data_dir, date(2024, 2, 10), "parquet", False)
    assert plan_window(config, None, None, 2) == (None, date(2024, 2, 12))
    assert plan_window(config, None, date(2024, 2, 20), 2) == (date(2024, 2, 19), date(2024, 2, 20))


def test_window_errors_use_the_callers_names(config: RetailConfig) -> None:
    yesterday = date.today() - timedelta(days=1)
    with pytest.raises(UserError, match="use at most two of start, end and days"):
        plan_window(config, date(2024, 1, 1), yesterday, 3, names=("start", "end", "days"))
    with pytest.raises(UserError, match="--start 2024-02-01 is after --end 2024-01-01"):
        plan_window(config, date(2024, 2, 1), date(2024, 1, 1), None)


def test_a_plan_that_would_overlap_stored_facts_is_refused_up_front(
    config: RetailConfig, data_dir: Path
) -> None:
    _store_facts_through(data_dir, date(2024, 2, 10), "csv", False)
    plan = plan_facts(config, None, date(2024, 2, 12), None, None, False)
    assert (plan.start, plan.end, plan.output_format, plan.csv_daily) == (
        None,
        date(2024, 2, 12),
        "csv",
        False,
    )
    with pytest.raises(DataStateError, match="must start on 2024-02-11"):
        plan_facts(config, date(2024, 2, 1), None, None, None, False)
