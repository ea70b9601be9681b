"""Bounded memory of a generation (issue 9): what is held is counted, not measured as RSS.

The engine keeps at most ``IN_FLIGHT_PER_WORKER × workers`` units computed ahead of the writer,
the writer at most one row group per table, a worker drops the dimension tables once its
context is built, and every process gives freed heap memory back between units.
"""

from __future__ import annotations

import ctypes.util
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.volumes import small_config

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine import local, memory
from retail_datagen.engine.memory import release_unused_memory
from retail_datagen.engine.partitions import Unit, UnitResult, canonical_units
from retail_datagen.generators.facts.supply import region_stores
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.storage.duckdb_store import load_dimensions
from retail_datagen.storage.fact_writer import ROW_GROUP_ROWS, FactWriter
from retail_datagen.storage.layout import DataLayout


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> RetailConfig:
    root = tmp_path_factory.mktemp("memory") / "data"
    config = small_config(
        root,
        seed=3,
        start="2024-01-01",
        stores=4,
        total_geographies=20,
        total_customers=800,
        total_products=200,
        customers_per_day=30,
        online_orders_per_day=10,
        marketing_impressions_per_day=100,
    )
    MasterDataGenerator(config).generate_all_master_data()
    return config


def _rss_anon_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(
    ctypes.util.find_library("c") is None or not Path("/proc/self/status").exists(),
    reason="glibc and /proc only",
)
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    # 4,000 arrays of 64 KiB come from the heap (below malloc's mmap threshold); keeping every
    # 16th alive fragments it so that free() alone cannot shrink it
    arrays = [np.ones(8192) for _ in range(4000)]
    kept = arrays[::16]
    del arrays
    before = _rss_anon_mib()
    release_unused_memory()
    assert before - _rss_anon_mib() > 100  # of the ~234 MiB freed
    assert len(kept) == 250


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="/proc only")
def test_memory_is_released_between_units_only_above_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(memory, "release_unused_memory", lambda: calls.append(1))
    held = memory.resident_bytes()
    assert held is not None and held > 0
    assert not memory.release_when_above(held * 4)  # a process under budget keeps its pages
    assert calls == []
    assert memory.release_when_above(held // 4)
    assert calls == [1]


def test_a_worker_drops_the_dimension_tables_once_its_context_is_built(
    small_folder: RetailConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = [load_dimensions(small_folder.paths.data)]
    monkeypatch.setattr(local, "_WORKER_CTX", None)
    local._init_worker(small_folder.model_dump_json(), holder, date(2024, 1, 1), ())
    assert holder == []  # the pool's reference to the tables is gone
    assert local._WORKER_CTX is not None


class _CountingPool(ProcessPoolExecutor):
    """The engine's pool, counting submitted units (parent side only)."""

    submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        type(self).submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_units_computed_ahead_of_the_writer_stay_bounded(
    small_folder: RetailConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(local, "ProcessPoolExecutor", _CountingPool)
    monkeypatch.setattr(local, "IN_FLIGHT_PER_WORKER", 2)
    monkeypatch.setattr(_CountingPool, "submitted", 0)
    config = small_folder.with_data_dir(tmp_path / "data")
    shutil.copytree(small_folder.paths.data, config.paths.data)
    dims = load_dimensions(config.paths.data)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(8)]
    units = canonical_units(days, region_stores(dims))
    ahead: list[int] = []
    delivered: list[UnitResult] = []

    def deliver(result: UnitResult) -> None:
        ahead.append(_CountingPool.submitted - len(delivered))
        delivered.append(result)

    local.LocalEngine(2).run(config, dims, units, {}, deliver)
    assert [r.unit for r in delivered] == units
    assert 1 <= max(ahead) <= 2 * 2  # IN_FLIGHT_PER_WORKER × workers, whatever the range


def test_the_writer_holds_at_most_one_row_group_per_table(
    tmp_path: Path, make_fact: Callable[..., pa.Table]
) -> None:
    writer = FactWriter(DataLayout.of(tmp_path))
    day = date(2024, 1, 1)
    batch = make_fact("fact_store_ops", 1)
    chunk = pa.concat_tables([batch] * 10_000)  # a unit's rows for one table
    total = 0
    for _ in range(3 * ROW_GROUP_ROWS // chunk.num_rows + 1):
        writer.add(day, {"fact_store_ops": chunk})
        total += chunk.num_rows
        held = sum(t.num_rows for t in writer._open["fact_store_ops"].buffer)
        assert held < ROW_GROUP_ROWS
    (path,) = writer.close_period()
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == total
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert max(groups) <= ROW_GROUP_ROWS <= 1 << 17  # 2^17: DuckDB-sized, half the buffer


def test_spooled_tables_are_mapped_one_at_a_time_and_removed_after_delivery(
    tmp_path: Path, make_fact: Callable[..., pa.Table]
) -> None:
    unit = Unit(date(2024, 1, 1), 0)
    tables = {
        "fact_store_ops": make_fact("fact_store_ops", 3),
        "fact_stockouts": make_fact("fact_stockouts", 2),
    }
    paths = local._spool_tables(unit, tables, str(tmp_path))
    seen: dict[str, pa.Table] = {}

    def deliver(result: UnitResult) -> None:
        assert not isinstance(result.tables, dict)  # nothing mapped until the writer reads it
        seen.update(result.tables.items())

    local._deliver_spooled(UnitResult(unit, {}, None, spooled=paths), deliver)
    assert all(seen[name].equals(table) for name, table in tables.items())
    assert not any(Path(p).exists() for p in paths.values())
