"""``--format delta``: the Parquet layout plus a Delta log per fact table, one append commit a
run, read back (views, delta-rs → Arrow → DuckDB) as the same rows as a Parquet output."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from tests.volumes import small_config

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.progress import ProgressUpdate
from retail_datagen.engine.repair import repair
from retail_datagen.errors import DataStateError
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.schema import FACTS, get_table
from retail_datagen.storage.compact import compact
from retail_datagen.storage.delta import commit_parquet_files, delta_schema
from retail_datagen.storage.digest import arrow_digest, table_digests
from retail_datagen.storage.export import export_data
from retail_datagen.validation.runner import validate


def _config(root: Path) -> RetailConfig:
    return small_config(root, start="2024-01-28")


def _run(config: RetailConfig, fmt: str, end: str, start: str | None = None, **kw: object) -> None:
    FactDataGenerator(config, workers=1, output_format=fmt, **kw).generate_historical_data(  # type: ignore[arg-type]
        start, end
    )


@pytest.fixture(scope="module")
def dims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("delta") / "dims"
    MasterDataGenerator(_config(root)).generate_all_master_data()
    return root


@pytest.fixture(scope="module")
def parquet_digests(dims: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The Parquet output of 2024-01-28 → 2024-02-02, in one run."""
    root = tmp_path_factory.mktemp("parquet") / "data"
    shutil.copytree(dims, root)
    _run(_config(root), "parquet", "2024-02-02", "2024-01-28")
    return table_digests(root)


def _copy(dims: Path, tmp_path: Path) -> RetailConfig:
    shutil.copytree(dims, tmp_path / "data")
    return _config(tmp_path / "data")


def _table(root: Path, name: str) -> DeltaTable:
    return DeltaTable(str(root / "export" / name))


def _arrow_digest(root: Path, name: str) -> str:
    """delta-rs → Arrow → DuckDB, as a notebook reads it (plus the rows in flight)."""
    dataset = _table(root, name).to_pyarrow_dataset()
    con = duckdb.connect()
    con.register("delta_rows", dataset)
    query = "SELECT * FROM delta_rows"
    in_flight = root / "export" / name / f"{name}_in_flight.parquet"
    if in_flight.is_file():
        query += f" UNION ALL SELECT * FROM read_parquet('{in_flight}')"
    return arrow_digest(con.sql(f"SELECT * FROM ({query}) ORDER BY ALL").to_arrow_reader(1 << 16))


def test_a_delta_output_reads_back_as_the_parquet_output_with_one_commit_per_run(
    dims: Path, parquet_digests: dict[str, str], tmp_path: Path
) -> None:
    config = _copy(dims, tmp_path)
    root = Path(config.paths.data)
    _run(config, "delta", "2024-01-30", "2024-01-28")
    _run(config, "delta", "2024-02-02")  # continues across the month boundary

    assert table_digests(root) == parquet_digests
    for decl in FACTS:
        table = _table(root, decl.name)
        writes = [h for h in table.history() if h["operation"] != "CREATE TABLE"]
        assert table.version() == 1, f"{decl.name}: one commit per run"
        assert len(writes) <= 2
        assert table.transaction_version("retail-datagen") == date(2024, 2, 2).toordinal()
    for name in ("fact_receipts", "fact_online_orders", "fact_store_ops"):
        assert _arrow_digest(root, name) == parquet_digests[name], name
    assert validate(root).passed
    # the Delta files are the Parquet files: never rewritten by export or compact
    assert not [p for p in export_data(root, "parquet") if p.parent.name.startswith("fact_")]
    with pytest.raises(DataStateError, match="optimize"):
        compact(root)
    assert table_digests(root) == parquet_digests


def test_an_interrupted_delta_run_leaves_no_commit_and_the_rerun_repairs(
    dims: Path, parquet_digests: dict[str, str], tmp_path: Path
) -> None:
    config = _copy(dims, tmp_path)
    root = Path(config.paths.data)
    _run(config, "delta", "2024-01-29", "2024-01-28")
    before = {d.name: _table(root, d.name).version() for d in FACTS}

    def crash_in_february(update: ProgressUpdate) -> None:
        if update.message == "2024-02-02":
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(config, "delta", "2024-02-02", progress=crash_in_february)
    # January's days are committed in the state (at the month boundary) but not published:
    # no Delta reader sees any part of the interrupted run
    assert {d.name: _table(root, d.name).version() for d in FACTS} == before
    files = _table(root, "fact_receipts").file_uris()
    assert not [f for f in files if "2024-01_30" in f or "2024-02" in f]

    _run(config, "delta", "2024-02-02")  # repairs (publishes January), then adds February
    assert table_digests(root) == parquet_digests
    receipts = sorted(Path(f).name for f in _table(root, "fact_receipts").file_uris())
    assert receipts == [
        "fact_receipts_2024-01_28.parquet",
        "fact_receipts_2024-01_30.parquet",
        "fact_receipts_2024-02.parquet",
    ]


def test_a_delta_history_refuses_another_format_and_repair_keeps_it_delta(
    dims: Path, tmp_path: Path
) -> None:
    config = _copy(dims, tmp_path)
    _run(config, "delta", "2024-01-28", "2024-01-28")
    with pytest.raises(DataStateError, match="the existing facts are delta"):
        _run(config, "parquet", "2024-01-29")
    # a lost state file is rebuilt as a Delta history (the files are under Delta logs)
    root = Path(config.paths.data)
    (root / "generation_state.json").unlink()
    repair(root)
    assert GenerationStateManager(root).load().output_format == "delta"


def test_commit_parquet_files_commits_files_another_engine_wrote(tmp_path: Path) -> None:
    """The seam a Spark engine uses: executors write Parquet, delta-rs commits them at once."""
    schema = get_table("fact_receipts").arrow_schema
    table_dir = tmp_path / "fact_receipts"
    table_dir.mkdir()
    part = pa.table({f.name: pa.array([], type=f.type) for f in schema}, schema=schema).cast(
        delta_schema(schema)
    )
    for name in ("part-0.parquet", "part-1.parquet"):
        pq.write_table(part, table_dir / name)
    assert commit_parquet_files(str(table_dir), ["part-0.parquet"], schema) == 0
    version = commit_parquet_files(
        str(table_dir), ["part-1.parquet"], schema, through=date(2024, 2, 2)
    )
    table = DeltaTable(str(table_dir))
    assert version == table.version() == 1
    assert sorted(Path(f).name for f in table.file_uris()) == ["part-0.parquet", "part-1.parquet"]
    assert table.transaction_version("retail-datagen") == date(2024, 2, 2).toordinal()
    assert table.to_pyarrow_table().schema.names == schema.names
