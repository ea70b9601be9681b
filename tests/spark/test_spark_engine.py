"""The Spark engine writes what the local engine writes: equal digests, equal files, and a run
continued on the other engine equals one run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.volumes import small_config

from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.spark import generate
from retail_datagen.spark.engine import SPARK_SPOOL_PREFIX
from retail_datagen.storage.digest import table_digests

pytestmark = pytest.mark.spark

FIRST, LAST = "2024-01-30", "2024-02-02"  # a month boundary: two periods, two commits


def _fact_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / "export").rglob("fact_*"))


@pytest.fixture(scope="module")
def dims_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dims")
    MasterDataGenerator(small_config(root, start=FIRST)).generate_all_master_data()
    return root


@pytest.fixture(scope="module")
def local_run(dims_only: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base") / "local"
    shutil.copytree(dims_only, root)
    FactDataGenerator(small_config(root, start=FIRST), workers=1).generate_historical_data(
        FIRST, LAST
    )
    return root


def test_spark_output_equals_local_engine(
    spark: Any, dims_only: Path, local_run: Path, tmp_path: Path
) -> None:
    root = tmp_path / "spark"
    shutil.copytree(dims_only, root)
    result = generate(spark, small_config(start=FIRST), start=FIRST, end=LAST, path=root)

    assert result.total_rows > 0
    assert table_digests(root) == table_digests(local_run)
    assert _fact_files(root) == _fact_files(local_run)  # the same period files
    assert not list(root.glob(f"{SPARK_SPOOL_PREFIX}*"))  # spooled parts are gone


def test_spark_continues_a_local_run(
    spark: Any, dims_only: Path, local_run: Path, tmp_path: Path
) -> None:
    """Carried state crosses engines: local Jan 30-31, then Spark Feb 1-2 (default start)."""
    root = tmp_path / "mixed"
    shutil.copytree(dims_only, root)
    config = small_config(root, start=FIRST)
    FactDataGenerator(config, workers=1).generate_historical_data(FIRST, "2024-01-31")
    generate(spark, config, end=LAST)

    assert table_digests(root) == table_digests(local_run)


def test_spark_refuses_an_unknown_format(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="format = 'orc'"):
        generate(spark, small_config(tmp_path), format="orc")


def test_cli_generate_on_spark(spark: Any, dims_only: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from retail_datagen.cli import app
    from retail_datagen.generators.generation_state import GenerationStateManager

    root = tmp_path / "cli"
    shutil.copytree(dims_only, root)
    config = tmp_path / "config.json"
    config.write_text(small_config(root, start=FIRST).model_dump_json(), encoding="utf-8")
    args = ["generate", "--config", str(config), "--data-dir", str(root), "--engine", "spark"]
    result = CliRunner().invoke(app, [*args, "--start", FIRST, "--end", "2024-01-31", "--yes"])

    assert result.exit_code == 0, result.output
    assert "Facts (Spark)" in result.output
    state = GenerationStateManager(root).load()
    assert state.last_generated_timestamp is not None
    assert state.last_generated_timestamp.date().isoformat() == "2024-01-31"


def test_a_retried_period_merge_rewrites_its_files(local_run: Path, tmp_path: Path) -> None:
    """Spark may run a task again after it wrote its file: the retry replaces it."""
    from datetime import date

    import pyarrow as pa
    import pyarrow.parquet as pq

    from retail_datagen.spark.executor import merge_period

    source = local_run / "export" / "fact_receipts" / "fact_receipts_2024-02.parquet"
    spooled = tmp_path / "part.arrow"
    table = pq.read_table(source)
    with pa.OSFile(str(spooled), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    root = tmp_path / "merged"
    days = [date(2024, 2, 1), date(2024, 2, 2)]
    for _ in range(2):
        name, rows, files = merge_period(
            str(root), "parquet", False, "fact_receipts", days, [(days[0], str(spooled))]
        )
    assert (name, rows) == ("fact_receipts", table.num_rows)
    assert [Path(f).name for f in files] == ["fact_receipts_2024-02.parquet"]
    assert pq.read_table(files[0]).equals(table)
