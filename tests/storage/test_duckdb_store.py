from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
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
)
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.store_writer import StoreBusyError, open_writer, replace_dimensions

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
    with open_store(moved) as con:  # our readers read the files where they are now
        assert con.execute("SELECT count(*) FROM fact_store_ops").fetchall() == [(3,)]
    assert refresh_fact_views(moved)  # the next writer points the persisted views there
    with duckdb.connect(str(DataLayout.of(moved).duckdb_path), read_only=True) as con:
        sql = con.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = 'fact_store_ops'"
        ).fetchall()[0][0]
        assert con.execute("SELECT count(*) FROM fact_store_ops").fetchall() == [(3,)]
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
    with open_writer(store) as con:
        with pytest.raises(duckdb.ConstraintException):
            replace_dimensions(con, changed)
        counts = {
            t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchall()[0][0]
            for t in DIMENSIONS
        }
    assert counts == {name: table.num_rows for name, table in dims.items()}


def _hold_store(store: Path, *, read_only: bool = False) -> subprocess.Popen[str]:
    """Another process that keeps retail.duckdb open (as a notebook would) until killed."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(DataLayout.of(store).duckdb_path)!r}, "
            f"read_only={read_only})\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


def test_reads_work_while_another_process_holds_the_store_read_write(
    store: Path, make_fact: FactFactory
) -> None:
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    holder = _hold_store(store)
    try:
        rows = {t.name: t.rows for t in list_tables(store)}
        assert rows["fact_store_ops"] == 3 and rows["dim_stores"] == 10
        assert preview(store, "dim_stores", limit=2).num_rows == 2
        assert has_dimensions(store) and len(load_dimensions(store)) == len(DIMENSIONS)
    finally:
        holder.kill()
        holder.wait()


def test_opening_for_read_never_modifies_the_store(store: Path, make_fact: FactFactory) -> None:
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    refresh_fact_views(store)
    before = layout.duckdb_path.read_bytes()
    mtime = layout.duckdb_path.stat().st_mtime_ns
    listing = sorted(p.name for p in store.iterdir())
    list_tables(store)
    preview(store, "fact_store_ops")
    fact_date_range(store, "fact_store_ops")
    load_dimensions(store)
    assert layout.duckdb_path.read_bytes() == before
    assert layout.duckdb_path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in store.iterdir()) == listing  # no .wal, no spill folder


def test_persisted_views_change_only_when_their_files_change(
    store: Path, make_fact: FactFactory
) -> None:
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    assert refresh_fact_views(store)
    before = layout.duckdb_path.read_bytes()
    assert refresh_fact_views(store)  # nothing changed on disk: nothing is written
    assert layout.duckdb_path.read_bytes() == before
    write_parquet_atomic(
        make_fact("fact_store_ops", 2, start=datetime(2024, 2, 1, 8), TraceId=["x", "y"]),
        layout.fact_month_file("fact_store_ops", 2024, 2),
    )
    assert refresh_fact_views(store)
    with duckdb.connect(str(layout.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fact_store_ops").fetchall() == [(5,)]


def test_a_busy_store_does_not_fail_the_view_refresh(
    store: Path, make_fact: FactFactory, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr("retail_datagen.storage.duckdb_access.LOCK_WAIT_SECONDS", 0.3)
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    holder = _hold_store(store, read_only=True)  # the README's notebook snippet
    try:
        with caplog.at_level("WARNING", logger="retail_datagen"):
            assert refresh_fact_views(store) is False
        warning = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert len(warning) == 1 and "refreshed on the next run" in warning[0]
        assert [t.rows for t in list_tables(store) if t.name == "fact_store_ops"] == [3]
        with (
            pytest.raises(StoreBusyError, match="in use by another process"),
            open_writer(store, wait=0.3),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert refresh_fact_views(store)


def test_missing_or_damaged_dimension_exports_are_read_from_the_store_and_repaired(
    store: Path, dims: dict[str, pa.Table]
) -> None:
    layout = DataLayout.of(store)
    layout.dim_file("dim_stores").unlink()
    layout.dim_file("dim_trucks").write_bytes(b"PAR1 truncated")
    assert preview(store, "dim_stores", limit=10).equals(dims["dim_stores"])
    assert preview(store, "dim_trucks", limit=10).equals(dims["dim_trucks"])
    assert refresh_fact_views(store)  # any writer visit re-creates them
    for name in ("dim_stores", "dim_trucks"):
        assert pq.read_table(layout.dim_file(name)).equals(dims[name])


def test_concurrent_reads_fall_back_to_the_store_together(
    store: Path, dims: dict[str, pa.Table]
) -> None:
    layout = DataLayout.of(store)
    layout.dim_file("dim_stores").unlink()
    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(lambda _: preview(store, "dim_stores", limit=10), range(16)))
    assert all(page.equals(dims["dim_stores"]) for page in pages)


def test_spill_folders_of_killed_processes_are_removed_by_the_next_writer(store: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = store / f".duckdb-spill-{dead.pid}-0a1b2c3d"
    live = store / f".duckdb-spill-{os.getpid()}-0a1b2c3d"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 10)
    assert refresh_fact_views(store)
    assert not stale.exists() and live.exists()


def test_marketing_cost_written_as_decimal_12_2_by_an_older_version_still_reads(
    store: Path, make_fact: FactFactory
) -> None:
    """fact_marketing.Cost became DECIMAL(12,6); a folder with older DECIMAL(12,2) files (and
    new files appended after them) reads every value exactly."""
    layout = DataLayout.of(store)
    old = make_fact("fact_marketing", 2, Cost=[Decimal("1.25"), Decimal("0.10")])
    schema = old.schema.set(
        old.schema.get_field_index("Cost"), pa.field("Cost", pa.decimal128(12, 2), False)
    )
    write_parquet_atomic(old.cast(schema), layout.fact_month_file("fact_marketing", 2024, 1))
    new = make_fact(
        "fact_marketing",
        2,
        start=datetime(2024, 2, 1, 8),
        TraceId=["n1", "n2"],
        ImpressionId=["i1", "i2"],
        Cost=[Decimal("0.002125"), Decimal("0.000100")],
    )
    write_parquet_atomic(new, layout.fact_month_file("fact_marketing", 2024, 2))
    refresh_fact_views(store)
    with open_store(store) as con:
        assert _column_types(con, "fact_marketing")["Cost"] == "DECIMAL(12,6)"
        costs = con.execute('SELECT "Cost" FROM fact_marketing ORDER BY "EventTS"').fetchall()
    assert [c for (c,) in costs] == [
        Decimal("1.25"),
        Decimal("0.10"),
        Decimal("0.002125"),
        Decimal("0.0001"),
    ]
