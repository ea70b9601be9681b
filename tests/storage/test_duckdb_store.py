from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.schema import DIMENSIONS, FACTS, TABLES
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.dimension_store import save_dimensions
from retail_datagen.storage.duckdb_store import (
    connect,
    fact_date_range,
    fact_files,
    has_dimensions,
    has_fact_data,
    list_tables,
    load_dimensions,
    open_store,
    preview,
    refresh_fact_views,
    replace_dimensions,
)
from retail_datagen.storage.layout import DataLayout

FactFactory = Callable[..., pa.Table]


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def _registry_types(table: str) -> dict[str, str]:
    return {c.name: c.kind.duckdb for c in TABLES[table].columns}


def _write_csv(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path)


@pytest.fixture
def store(data_dir: Path, dims: dict[str, pa.Table]) -> Path:
    save_dimensions(data_dir, dims)
    return data_dir


def test_dimension_tables_use_the_registry_ddl_types(store: Path) -> None:
    with open_store(store) as con:
        for table in DIMENSIONS:
            assert _column_types(con, table.name) == _registry_types(table.name)


def test_every_fact_view_exists_typed_and_empty_before_any_data(store: Path) -> None:
    with open_store(store) as con:
        for table in FACTS:
            assert _column_types(con, table.name) == _registry_types(table.name)
            assert con.execute(f'SELECT count(*) FROM "{table.name}"').fetchall() == [(0,)]
    assert not has_fact_data(store)


def test_fact_view_reads_monthly_parquet(store: Path, make_fact: FactFactory) -> None:
    layout = DataLayout.of(store)
    jan = make_fact("fact_store_ops", 3, start=datetime(2024, 1, 30, 8))
    feb = make_fact("fact_store_ops", 2, start=datetime(2024, 2, 1, 8), TraceId=["f1", "f2"])
    write_parquet_atomic(jan, layout.fact_month_file("fact_store_ops", 2024, 1))
    write_parquet_atomic(feb, layout.fact_month_file("fact_store_ops", 2024, 2))
    refresh_fact_views(store)
    assert [t.rows for t in list_tables(store) if t.name == "fact_store_ops"] == [5]
    assert fact_date_range(store, "fact_store_ops") == (
        datetime(2024, 1, 30, 8),
        datetime(2024, 2, 1, 9),
    )
    assert has_fact_data(store)


def test_fact_view_reads_monthly_csv_with_registry_types(
    store: Path, make_fact: FactFactory
) -> None:
    layout = DataLayout.of(store)
    data = make_fact("fact_receipts", 4, OriginalReceiptId=["", None, "R-1", None])
    _write_csv(data, layout.fact_month_file("fact_receipts", 2024, 1, "csv"))
    GenerationStateManager(store).update(output_format="csv", has_fact_data=True)
    refresh_fact_views(store)
    with open_store(store) as con:
        assert _column_types(con, "fact_receipts") == _registry_types("fact_receipts")
    back = preview(store, "fact_receipts", limit=10)
    assert back.num_rows == 4
    assert back.column("OriginalReceiptId").to_pylist() == ["", None, "R-1", None]
    assert back.column("Total").type == pa.decimal128(12, 2)


def test_fact_view_reads_hive_daily_csv(store: Path, make_fact: FactFactory) -> None:
    layout = DataLayout.of(store)
    day1 = make_fact("fact_store_ops", 2, start=datetime(2024, 1, 1, 8))
    day2 = make_fact("fact_store_ops", 3, start=datetime(2024, 1, 2, 8), TraceId=["a", "b", "c"])
    _write_csv(day1, layout.fact_day_file("fact_store_ops", "2024-01-01"))
    _write_csv(day2, layout.fact_day_file("fact_store_ops", "2024-01-02"))
    GenerationStateManager(store).update(output_format="csv", csv_daily=True)
    refresh_fact_views(store)
    source = fact_files(store, "fact_store_ops")
    assert source is not None and source.kind == "csv_daily" and len(source.files) == 2
    with open_store(store) as con:
        assert "dt" not in _column_types(con, "fact_store_ops")
        assert con.execute("SELECT count(*) FROM fact_store_ops").fetchall() == [(5,)]


def test_temporary_and_foreign_files_are_not_read(store: Path, make_fact: FactFactory) -> None:
    layout = DataLayout.of(store)
    final = layout.fact_month_file("fact_store_ops", 2024, 1)
    write_parquet_atomic(make_fact("fact_store_ops", 2), final)
    write_parquet_atomic(make_fact("fact_store_ops", 9), final.with_name(f".{final.name}.tmp-1"))
    write_parquet_atomic(make_fact("fact_store_ops", 9), final.with_name("notes.parquet"))
    refresh_fact_views(store)
    assert [t.rows for t in list_tables(store) if t.name == "fact_store_ops"] == [2]


def test_views_follow_a_moved_data_folder(
    store: Path, tmp_path: Path, make_fact: FactFactory
) -> None:
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    refresh_fact_views(store)
    moved = tmp_path / "moved"
    shutil.move(str(store), moved)
    with open_store(moved) as con:
        assert con.execute("SELECT count(*) FROM fact_store_ops").fetchall() == [(3,)]
        sql = con.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = 'fact_store_ops'"
        ).fetchall()[0][0]
    assert str(moved.resolve()) in sql


def test_view_returns_to_empty_when_files_disappear(store: Path, make_fact: FactFactory) -> None:
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    refresh_fact_views(store)
    shutil.rmtree(layout.table_dir("fact_store_ops"))
    assert fact_date_range(store, "fact_store_ops") is None


def test_unknown_table_names_are_rejected_before_any_sql(store: Path) -> None:
    for name in ("dim_stores; DROP TABLE dim_stores", "nope", '"dim_stores"'):
        with pytest.raises(UserError, match="unknown table"):
            preview(store, name)
    assert preview(store, "dim_stores", limit=3).num_rows == 3


def test_preview_limits_and_offsets(store: Path, dims: dict[str, pa.Table]) -> None:
    page = preview(store, "dim_customers", limit=5, offset=5)
    assert page.column("ID").to_pylist() == [6, 7, 8, 9, 10]
    assert page.schema.equals(TABLES["dim_customers"].arrow_schema, check_metadata=False)
    for limit in (0, 1001):
        with pytest.raises(UserError, match="limit"):
            preview(store, "dim_customers", limit=limit)
    with pytest.raises(UserError, match="offset"):
        preview(store, "dim_customers", offset=-1)


def test_list_tables_gives_kind_and_rows(store: Path, dims: dict[str, pa.Table]) -> None:
    info = {t.name: t for t in list_tables(store)}
    assert set(info) == set(TABLES)
    assert info["dim_stores"].kind == "dimension"
    assert info["dim_stores"].rows == dims["dim_stores"].num_rows
    assert info["fact_receipts"].kind == "fact" and info["fact_receipts"].rows == 0


def test_date_range_only_for_facts(store: Path) -> None:
    with pytest.raises(UserError, match="not a fact table"):
        fact_date_range(store, "dim_stores")
    assert fact_date_range(store, "fact_receipts") is None


def test_load_dimensions_returns_registry_schemas(store: Path, dims: dict[str, pa.Table]) -> None:
    loaded = load_dimensions(store)
    assert list(loaded) == [t.name for t in DIMENSIONS]
    for name, table in loaded.items():
        assert table.schema.equals(TABLES[name].arrow_schema, check_metadata=False)
        assert table.equals(dims[name])


def test_load_dimensions_without_dimensions_names_the_fix(data_dir: Path) -> None:
    with pytest.raises(DataStateError, match="generate --dims-only"):
        load_dimensions(data_dir)
    assert not data_dir.exists()
    refresh_fact_views(data_dir)  # a store with views only
    with pytest.raises(DataStateError, match="no dimensions"):
        load_dimensions(data_dir)
    assert not has_dimensions(data_dir)


def test_opening_a_missing_store_writes_nothing(data_dir: Path) -> None:
    with pytest.raises(DataStateError, match="retail-datagen generate"):
        connect(data_dir)
    assert not data_dir.exists()


def test_dimension_replacement_is_all_or_nothing(store: Path, dims: dict[str, pa.Table]) -> None:
    changed = dict(dims)
    changed["dim_geographies"] = dims["dim_geographies"].slice(0, 2)
    snapshots = dims["dim_dc_inventory_snapshots"]
    changed["dim_dc_inventory_snapshots"] = pa.concat_tables([snapshots, snapshots.slice(0, 1)])
    with open_store(store) as con:
        with pytest.raises(duckdb.ConstraintException):
            replace_dimensions(con, changed)
        counts = {
            t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchall()[0][0]
            for t in DIMENSIONS
        }
    assert counts == {name: table.num_rows for name, table in dims.items()}


def test_store_locked_by_another_process_is_a_clear_error(store: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(DataLayout.of(store).duckdb_path)!r})\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(DataStateError, match="in use by another process"):
            connect(store)
    finally:
        holder.kill()
        holder.wait()
