"""The estimate of a fact run: linear in the volumes and days, the same window rules as the run,
above 20 GB or 30 minutes it asks for a yes, and it is within 2× of a real run's rows and bytes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.estimate import CONFIRM_ABOVE_BYTES, estimate_days, fact_rows_per_day
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.services.generation import estimate_run
from retail_datagen.storage.layout import DataLayout


def _config(data_dir: Path, **volume: Any) -> RetailConfig:
    return RetailConfig.from_mapping({"volume": volume}).with_data_dir(data_dir)


def test_rows_grow_with_stores_customers_and_days(data_dir: Path) -> None:
    base = fact_rows_per_day(_config(data_dir))
    assert fact_rows_per_day(_config(data_dir, stores=84)) > 1.9 * base
    assert fact_rows_per_day(_config(data_dir, customers_per_day=1000)) < 0.6 * base
    one = estimate_days(_config(data_dir), date(2024, 3, 4), date(2024, 3, 4), workers=2)
    ten = estimate_days(_config(data_dir), date(2024, 3, 4), date(2024, 3, 13), workers=2)
    assert ten.days == 10 and ten.rows == pytest.approx(10 * one.rows, rel=1e-6)
    assert ten.bytes == pytest.approx(10 * one.bytes, rel=1e-6)


def test_csv_takes_more_disk_than_parquet_and_fewer_workers_take_longer(data_dir: Path) -> None:
    cfg = _config(data_dir)
    day = date(2024, 3, 4)
    parquet = estimate_days(cfg, day, day, workers=2, output_format="parquet")
    csv = estimate_days(cfg, day, day, workers=2, output_format="csv")
    single = estimate_days(cfg, day, day, workers=1)
    assert csv.bytes > 3 * parquet.bytes
    assert single.seconds > parquet.seconds or (single.workers, parquet.workers) == (1, 1)


def test_the_default_first_run_is_large_and_needs_a_yes(data_dir: Path) -> None:
    """The issue's surprise: a bare generate covers 2024-01-01 to yesterday (~100 GB)."""
    size = estimate_run(_config(data_dir), None, None, None, workers=2)
    assert size.start == date(2024, 1, 1) and size.end == date.today() - timedelta(days=1)
    assert size.bytes > CONFIRM_ABOVE_BYTES and size.needs_confirmation
    assert "days (2024-01-01 → " in size.describe() and "GB of Parquet" in size.describe()
    week = estimate_run(_config(data_dir), None, None, 7, workers=2)
    assert week.days == 7 and not week.needs_confirmation


def test_the_estimate_continues_after_existing_facts_and_reads_only(data_dir: Path) -> None:
    cfg = _config(data_dir)
    GenerationStateManager(data_dir).update(
        has_fact_data=True,
        last_generated_timestamp=datetime(2024, 2, 10, 23, 59, 59),
        output_format="csv",
    )
    before = sorted(p.name for p in data_dir.iterdir())
    size = estimate_run(cfg, None, None, 3)
    assert (size.start, size.end, size.output_format) == (
        date(2024, 2, 11),
        date(2024, 2, 13),
        "csv",
    )
    fresh = estimate_run(cfg, None, None, 3, fresh=True)  # --force removes the facts first
    assert fresh.start == date(2024, 1, 1) and fresh.output_format == "parquet"
    assert sorted(p.name for p in data_dir.iterdir()) == before


def test_an_up_to_date_folder_estimates_nothing(data_dir: Path) -> None:
    yesterday = date.today() - timedelta(days=1)
    GenerationStateManager(data_dir).update(
        has_fact_data=True,
        last_generated_timestamp=datetime.combine(yesterday, datetime.max.time()),
    )
    size = estimate_run(_config(data_dir), None, None, None)
    assert size.days == 0 and size.rows == 0 and not size.needs_confirmation
    assert "up to date" in size.describe()


def test_estimate_is_within_2x_of_a_real_run(data_dir: Path, small_config_dict: Any) -> None:
    """Rows and bytes are deterministic: compare them with a real 3-day run of a small chain
    (the wall time is not asserted: it depends on the load of the machine)."""
    cfg = RetailConfig.from_mapping(
        {**small_config_dict, "volume": {**small_config_dict["volume"], "customers_per_day": 400}}
    ).with_data_dir(data_dir)
    size = estimate_run(cfg, date(2024, 3, 4), None, 3, workers=1)
    MasterDataGenerator(cfg).generate_all_master_data()
    result = FactDataGenerator(cfg, workers=1).generate_historical_data("2024-03-04", "2024-03-06")
    written = sum(
        f.stat().st_size
        for f in DataLayout.of(data_dir).export_dir.rglob("*.parquet")
        if f.relative_to(DataLayout.of(data_dir).export_dir).parts[0].startswith("fact_")
    )
    assert size.days == 3
    assert result.total_rows / 2 <= size.rows <= result.total_rows * 2, (
        size.rows,
        result.total_rows,
    )
    assert written / 2 <= size.bytes <= written * 2, (size.bytes, written)
