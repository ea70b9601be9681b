"""Historical runs end to end: worker counts, split ranges, continuation, cancellation."""

from __future__ import annotations

import shutil
import threading
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.volumes import small_config

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.progress import ProgressUpdate
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.storage.duckdb_store import open_store
from retail_datagen.validation.runner import validate


def _config(root: Path, seed: int = 7, **volume: int) -> RetailConfig:
    return small_config(root, seed=seed, start="2024-01-01", **volume)


@pytest.fixture(scope="module")
def dims_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "data"
    MasterDataGenerator(_config(root)).generate_all_master_data()
    return root


@pytest.fixture
def dataset(dims_template: Path, tmp_path: Path) -> RetailConfig:
    """A fresh data folder holding the dimensions only."""
    root = tmp_path / "data"
    shutil.copytree(dims_template, root)
    return _config(root)


def _facts(root: Path) -> dict[str, pa.Table]:
    """Every fact table's rows, category columns decoded (how a file dictionary-encodes a value
    depends on how its rows were appended, not on the data)."""
    out = {}
    for folder in sorted((root / "export").glob("fact_*")):
        files = sorted(folder.glob("*.parquet"))
        if files:
            table = pa.concat_tables(pq.read_table(f) for f in files)
            out[folder.name] = table.cast(
                pa.schema(
                    f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                    for f in table.schema
                )
            )
    return out


def _assert_same_facts(a: Path, b: Path) -> None:
    left, right = _facts(a), _facts(b)
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].equals(right[name]), f"{name} differs"


def _clone(config: RetailConfig, tmp_path: Path, name: str) -> RetailConfig:
    root = tmp_path / name
    shutil.copytree(config.paths.data, root)
    return config.with_data_dir(root)


def test_one_two_and_three_workers_write_identical_rows(
    dataset: RetailConfig, tmp_path: Path
) -> None:
    """Store steps of a region run side by side on the pool; the rows stay those of one worker."""
    two, three = _clone(dataset, tmp_path, "two"), _clone(dataset, tmp_path, "three")
    FactDataGenerator(dataset, workers=1).generate_historical_data("2024-01-30", "2024-02-02")
    FactDataGenerator(two, workers=2).generate_historical_data("2024-01-30", "2024-02-02")
    FactDataGenerator(three, workers=3).generate_historical_data("2024-01-30", "2024-02-02")
    _assert_same_facts(Path(dataset.paths.data), Path(two.paths.data))
    _assert_same_facts(Path(dataset.paths.data), Path(three.paths.data))


def test_split_runs_equal_one_run(dataset: RetailConfig, tmp_path: Path) -> None:
    split = _clone(dataset, tmp_path, "split")
    whole = FactDataGenerator(dataset, workers=1).generate_historical_data(
        "2024-01-29", "2024-02-05"
    )
    FactDataGenerator(split, workers=1).generate_historical_data("2024-01-29", "2024-01-31")
    cut = _in_flight(Path(split.paths.data))  # the split cuts these orders in flight
    assert cut.num_rows > 0 and set(cut["Status"].to_pylist()) <= {"CREATED", "PICKED", "SHIPPED"}
    FactDataGenerator(split, workers=2).generate_historical_data(None, "2024-02-02")
    last = FactDataGenerator(split, workers=1).generate_historical_data(None, "2024-02-05")
    _assert_same_facts(Path(dataset.paths.data), Path(split.paths.data))
    assert last.end == whole.end == datetime(2024, 2, 5, 23, 59, 59, 999999)
    # the next runs recorded their steps: each is final now, in a February part
    folder = Path(split.paths.data) / "export/fact_online_orders"
    february = pa.concat_tables(
        pq.read_table(f) for f in sorted(folder.glob("fact_online_orders_2024-02*.parquet"))
    )
    final = dict(zip(february["OrderId"].to_pylist(), february["Status"].to_pylist(), strict=True))
    assert all(
        final.get(order) in ("DELIVERED", "PICKED_UP") for order in cut["OrderId"].to_pylist()
    )


def _in_flight(root: Path) -> pa.Table:
    return pq.read_table(root / "export/fact_online_orders/fact_online_orders_in_flight.parquet")


def test_split_runs_equal_one_run_with_a_dc_that_serves_no_store(tmp_path: Path) -> None:
    """Seed 11 puts all five stores on one of the two DCs: the other region carries DC stock
    only, and continuing from its saved state used to fail to rebuild an empty store array."""
    whole = _config(tmp_path / "whole", seed=11)
    MasterDataGenerator(whole).generate_all_master_data()
    served = pq.read_table(Path(whole.paths.data) / "export/dim_stores")["DCID"]
    assert len(set(served.to_pylist())) < whole.volume.dcs, "the scenario needs an idle DC"
    split = _clone(whole, tmp_path, "split")
    FactDataGenerator(whole, workers=1).generate_historical_data("2024-01-01", "2024-01-04")
    FactDataGenerator(split, workers=1).generate_historical_data("2024-01-01", "2024-01-02")
    FactDataGenerator(split, workers=1).generate_historical_data(None, "2024-01-04")
    _assert_same_facts(Path(whole.paths.data), Path(split.paths.data))


def test_same_seed_same_rows_and_another_seed_other_rows(
    dataset: RetailConfig, tmp_path: Path
) -> None:
    same = _clone(dataset, tmp_path, "same")
    FactDataGenerator(dataset, workers=1).generate_historical_data("2024-03-01", "2024-03-02")
    FactDataGenerator(same, workers=1).generate_historical_data("2024-03-01", "2024-03-02")
    _assert_same_facts(Path(dataset.paths.data), Path(same.paths.data))

    other_root = tmp_path / "other"
    other = _config(other_root, seed=8)
    MasterDataGenerator(other).generate_all_master_data()
    FactDataGenerator(other, workers=1).generate_historical_data("2024-03-01", "2024-03-02")
    receipts = _facts(other_root)["fact_receipts"]
    assert not receipts.equals(_facts(Path(dataset.paths.data))["fact_receipts"])


def test_cancelling_keeps_the_committed_months_and_continues_exactly(
    dataset: RetailConfig, tmp_path: Path
) -> None:
    reference = _clone(dataset, tmp_path, "reference")
    FactDataGenerator(reference, workers=1).generate_historical_data("2024-01-30", "2024-02-02")

    stop = threading.Event()

    def cancel_in_february(update: ProgressUpdate) -> None:
        if update.message.startswith("2024-02"):
            stop.set()

    result = FactDataGenerator(
        dataset, workers=1, progress=cancel_in_february, cancel_event=stop
    ).generate_historical_data("2024-01-30", "2024-02-02")
    assert result.cancelled
    state = GenerationStateManager(dataset.paths.data).load()
    assert state.last_generated_timestamp == datetime(2024, 1, 31, 23, 59, 59, 999999)
    root = Path(dataset.paths.data)
    assert not list((root / "export").rglob("*2024-02*")), "a half month was left behind"
    assert not list((root / "export").rglob("*.tmp-*")), "a temporary file was left behind"

    FactDataGenerator(dataset, workers=1).generate_historical_data(None, "2024-02-02")
    _assert_same_facts(root, Path(reference.paths.data))


def test_a_crash_after_renaming_files_is_repaired_by_the_next_run(
    dataset: RetailConfig, tmp_path: Path
) -> None:
    reference = _clone(dataset, tmp_path, "reference")
    FactDataGenerator(reference, workers=1).generate_historical_data("2024-01-30", "2024-02-03")
    FactDataGenerator(dataset, workers=1).generate_historical_data("2024-01-30", "2024-02-01")
    root = Path(dataset.paths.data)
    # simulate a run that renamed its files but died before writing the state file
    state_text = (root / "generation_state.json").read_text()
    FactDataGenerator(dataset, workers=1).generate_historical_data(None, "2024-02-02")
    (root / "generation_state.json").write_text(state_text)
    (root / "export" / "fact_receipts" / ".fact_receipts_2024-02.parquet.tmp-1").write_bytes(b"x")

    FactDataGenerator(dataset, workers=1).generate_historical_data(None, "2024-02-03")
    _assert_same_facts(root, Path(reference.paths.data))


def test_every_fact_table_is_queryable_in_duckdb(dataset: RetailConfig) -> None:
    result = FactDataGenerator(dataset, workers=1).generate_historical_data(
        "2024-04-01", "2024-04-02"
    )
    in_flight = _in_flight(Path(dataset.paths.data)).num_rows
    with open_store(dataset.paths.data) as con:
        for table, rows in result.rows.items():
            if table == "fact_online_orders":  # the view adds the orders in flight
                rows += in_flight
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] == rows
            assert rows > 0, table


def test_csv_output_with_daily_partitions(dataset: RetailConfig) -> None:
    result = FactDataGenerator(
        dataset, workers=1, output_format="csv", csv_daily=True
    ).generate_historical_data("2024-04-01", "2024-04-02")
    root = Path(dataset.paths.data)
    assert (root / "export/fact_receipts/dt=2024-04-02/fact_receipts.csv").exists()
    with open_store(root) as con:
        rows = con.execute('SELECT count(*) FROM "fact_receipts"').fetchall()[0][0]
    assert rows == result.rows["fact_receipts"]


def test_a_run_continues_after_the_last_generated_day_or_refuses(dataset: RetailConfig) -> None:
    generator = FactDataGenerator(dataset, workers=1)
    generator.generate_historical_data("2024-04-01", "2024-04-02")
    with pytest.raises(DataStateError, match="must start on 2024-04-03"):
        generator.generate_historical_data("2024-04-02", "2024-04-04")
    with pytest.raises(UserError, match="not in the past"):
        generator.generate_historical_data(None, date.today())
    done = generator.generate_historical_data(None, "2024-04-02")
    assert done.rows == {} and "up to date" in done.message
    with pytest.raises(DataStateError, match="existing facts are parquet"):
        FactDataGenerator(dataset, workers=1, output_format="csv").generate_historical_data(
            None, "2024-04-03"
        )


@pytest.mark.slow
def test_validator_passes_across_black_friday_and_christmas(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path / "data", stores=12, customers_per_day=50, total_customers=3000)
    MasterDataGenerator(config).generate_all_master_data()
    FactDataGenerator(config, workers=2).generate_historical_data("2024-11-25", "2025-01-02")
    report = validate(config.paths.data)
    assert report.passed, report.render(only_failures=True)
    assert report.result("stores: daily sales vary strongly across stores (CV)").measured
    for name in (
        "customers: sale trips a week per shopping customer",
        "receipts: share of sale receipts without a known customer",
        "BLE: devices resolved to a known customer",
    ):
        assert report.result(name).measured is not None, name


def test_generated_shoppers_pass_the_shopper_checks(dataset: RetailConfig) -> None:
    FactDataGenerator(dataset, workers=1).generate_historical_data("2024-03-04", "2024-03-17")
    report = validate(dataset.paths.data)
    shopper = [r for r in report.results if r.name.startswith("customers: ")]
    assert len(shopper) >= 5 and all(r.passed for r in shopper), report.render()
    weekly = report.result("customers: sale trips a week per shopping customer").measured
    assert weekly is not None and 1.0 <= weekly <= 2.5
    assert report.result("receipts: share of sale receipts without a known customer").passed
