from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_datagen.errors import DataStateError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.schema import DIMENSIONS, TABLES
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.dimension_store import save_dimensions, validate_dimension_tables
from retail_datagen.storage.duckdb_store import (
    has_fact_data,
    list_tables,
    open_store,
    refresh_fact_views,
)
from retail_datagen.storage.layout import DataLayout

FactFactory = Callable[..., pa.Table]


def _add_facts(data_dir: Path, make_fact: FactFactory) -> DataLayout:
    layout = DataLayout.of(data_dir)
    write_parquet_atomic(
        make_fact("fact_store_ops", 4), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    (layout.engine_state_dir / "carry").mkdir(parents=True)
    (layout.engine_state_dir / "carry" / "part-0.bin").write_bytes(b"state")
    GenerationStateManager(data_dir).update(has_fact_data=True)
    return layout


def test_save_writes_duckdb_tables_and_parquet_files(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    rows = {t.name: t.rows for t in list_tables(data_dir)}
    for table in DIMENSIONS:
        assert rows[table.name] == dims[table.name].num_rows
        on_disk = pq.read_table(layout.dim_file(table.name))
        assert on_disk.equals(dims[table.name])
    assert not list(layout.export_dir.rglob(".*tmp-*"))


def test_regenerating_dimensions_while_facts_exist_is_refused(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    save_dimensions(data_dir, dims)
    layout = _add_facts(data_dir, make_fact)
    smaller = dict(dims, dim_trucks=dims["dim_trucks"].slice(0, 1))
    with pytest.raises(DataStateError) as err:
        save_dimensions(data_dir, smaller)
    message = str(err.value)
    assert "--force" in message and "remove" in message and "fact" in message
    assert "\n" not in message
    assert has_fact_data(data_dir)
    assert layout.engine_state_dir.exists()
    with open_store(data_dir) as con:
        assert con.execute("SELECT count(*) FROM dim_trucks").fetchall() == [(3,)]


def test_force_removes_every_fact_before_replacing_dimensions(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    save_dimensions(data_dir, dims)
    layout = _add_facts(data_dir, make_fact)
    GenerationStateManager(data_dir).update(output_format="csv", csv_daily=True)
    save_dimensions(data_dir, dims, force=True)
    assert not has_fact_data(data_dir)
    assert not layout.table_dir("fact_store_ops").exists()
    assert not layout.engine_state_dir.exists()
    state = GenerationStateManager(data_dir).load()
    assert not state.has_fact_data and state.last_generated_timestamp is None
    with open_store(data_dir) as con:
        assert con.execute("SELECT count(*) FROM fact_store_ops").fetchall() == [(0,)]


def test_state_flag_alone_also_protects_facts(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    save_dimensions(data_dir, dims)
    GenerationStateManager(data_dir).update(has_fact_data=True)
    with pytest.raises(DataStateError, match="--force"):
        save_dimensions(data_dir, dims)


def test_a_failed_save_keeps_the_previous_dimensions(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    before = pq.read_table(layout.dim_file("dim_stores"))
    stores = dims["dim_stores"]
    broken = dict(dims, dim_stores=pa.concat_tables([stores, stores.slice(0, 1)]))
    with pytest.raises(duckdb.ConstraintException):
        save_dimensions(data_dir, broken)
    with open_store(data_dir) as con:
        assert con.execute("SELECT count(*) FROM dim_stores").fetchall() == [(stores.num_rows,)]
    assert pq.read_table(layout.dim_file("dim_stores")).equals(before)


def test_tables_must_match_the_registry(dims: dict[str, pa.Table]) -> None:
    with pytest.raises(ValueError, match="missing"):
        validate_dimension_tables({k: v for k, v in dims.items() if k != "dim_date"})
    with pytest.raises(ValueError, match="unexpected"):
        validate_dimension_tables({**dims, "dim_weather": dims["dim_date"]})
    with pytest.raises(ValueError, match="columns differ"):
        validate_dimension_tables({**dims, "dim_trucks": dims["dim_trucks"].drop(["Capacity"])})
    nulls = dims["dim_stores"].set_column(
        1, "StoreNumber", pa.array([None] * dims["dim_stores"].num_rows, pa.string())
    )
    with pytest.raises(ValueError, match="StoreNumber"):
        validate_dimension_tables({**dims, "dim_stores": nulls})


def test_lossless_types_are_normalised_to_the_registry(dims: dict[str, pa.Table]) -> None:
    wide = dims["dim_geographies"].cast(
        pa.schema(
            [
                pa.field(f.name, pa.int64() if f.name == "ID" else f.type)
                for f in dims["dim_geographies"].schema
            ]
        )
    )
    checked = validate_dimension_tables({**dims, "dim_geographies": wide})
    assert checked["dim_geographies"].schema.field("ID").type == pa.int32()
    assert TABLES["dim_geographies"].arrow_schema.field("ID").type == pa.int32()


def test_a_crash_before_the_exports_leaves_them_missing_and_the_next_run_recreates_them(
    data_dir: Path, dims: dict[str, pa.Table], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    smaller = dict(dims, dim_trucks=dims["dim_trucks"].slice(0, 1))

    def disk_full(data: pa.Table, final: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("retail_datagen.storage.dimension_store.write_parquet_atomic", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_dimensions(data_dir, smaller)
    monkeypatch.undo()
    # committed tables, no stale export: readers fall back to the tables meanwhile
    assert not layout.dim_file("dim_trucks").exists()
    assert [t.rows for t in list_tables(data_dir) if t.name == "dim_trucks"] == [1]
    assert refresh_fact_views(data_dir)  # what every generate run does at its end
    for table in DIMENSIONS:
        assert pq.read_table(layout.dim_file(table.name)).equals(smaller[table.name])
