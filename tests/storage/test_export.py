from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.schema import DIMENSIONS
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.dimension_store import save_dimensions
from retail_datagen.storage.export import export_data
from retail_datagen.storage.layout import DataLayout

FactFactory = Callable[..., pa.Table]


@pytest.fixture
def store(data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory) -> Path:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    jan = make_fact("fact_store_ops", 3, start=datetime(2024, 1, 31, 20))
    feb = make_fact("fact_store_ops", 2, start=datetime(2024, 2, 2, 8), TraceId=["x", "y"])
    write_parquet_atomic(jan, layout.fact_month_file("fact_store_ops", 2024, 1))
    write_parquet_atomic(feb, layout.fact_month_file("fact_store_ops", 2024, 2))
    return data_dir


def _count_csv(paths: list[Path]) -> int:
    listed = ", ".join(f"'{p}'" for p in paths)
    return int(duckdb.sql(f"SELECT count(*) FROM read_csv([{listed}])").fetchall()[0][0])


def test_csv_export_writes_dims_and_monthly_facts(store: Path) -> None:
    layout = DataLayout.of(store)
    written = export_data(store, "csv")
    expected = {layout.dim_file(t.name, "csv") for t in DIMENSIONS} | {
        layout.fact_month_file("fact_store_ops", 2024, 1, "csv"),
        layout.fact_month_file("fact_store_ops", 2024, 2, "csv"),
    }
    assert set(written) == expected
    assert _count_csv([layout.fact_month_file("fact_store_ops", 2024, 2, "csv")]) == 2
    header = layout.dim_file("dim_stores", "csv").read_text().splitlines()[0]
    assert header.startswith("ID,StoreNumber,Address")
    assert not list(layout.export_dir.rglob(".*tmp-*"))


def test_csv_daily_export_uses_hive_partitions(store: Path) -> None:
    layout = DataLayout.of(store)
    written = export_data(store, "csv", tables=["fact_store_ops"], csv_daily=True)
    days = sorted(p.parent.name for p in written)
    assert days == ["dt=2024-01-31", "dt=2024-02-02"]
    assert all(p.name == "fact_store_ops.csv" for p in written)
    assert _count_csv(written) == 5
    assert "dt" not in layout.fact_day_file("fact_store_ops", "2024-02-02").read_text()


def test_parquet_export_in_place_skips_native_files(store: Path) -> None:
    assert export_data(store, "parquet") == []


def test_parquet_export_elsewhere_copies_everything(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = export_data(store, "parquet", out_dir=out)
    assert out.resolve() / "fact_store_ops" / "fact_store_ops_2024-01.parquet" in written
    assert pq.read_table(out / "dim_stores" / "dim_stores.parquet").num_rows == 10
    assert len(written) == len(DIMENSIONS) + 2


def test_csv_facts_are_re_exported_as_parquet(store: Path) -> None:
    layout = DataLayout.of(store)
    export_data(store, "csv", tables=["fact_store_ops"])
    for month in (1, 2):
        layout.fact_month_file("fact_store_ops", 2024, month).unlink()
    GenerationStateManager(store).update(output_format="csv", has_fact_data=True)
    written = export_data(store, "parquet", tables=["fact_store_ops"])
    assert len(written) == 2
    assert pq.read_table(written[0]).schema.field("EventTS").type == pa.timestamp("us")


def test_bad_arguments_are_user_errors(store: Path) -> None:
    with pytest.raises(UserError, match="unknown table"):
        export_data(store, "csv", tables=["fact_nope"])
    with pytest.raises(UserError, match="format"):
        export_data(store, "xml")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="csv-daily"):
        export_data(store, "parquet", csv_daily=True)


def test_export_without_a_store_is_a_data_state_error(data_dir: Path) -> None:
    with pytest.raises(DataStateError):
        export_data(data_dir, "csv")
    assert not data_dir.exists()


def test_a_months_parts_export_as_one_file_in_time_order(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    first = make_fact("fact_store_ops", 3, start=datetime(2024, 1, 1, 8))
    later = make_fact("fact_store_ops", 2, start=datetime(2024, 1, 15, 8), TraceId=["x", "y"])
    write_parquet_atomic(
        first, layout.fact_part_file("fact_store_ops", datetime(2024, 1, 1).date())
    )
    write_parquet_atomic(
        later, layout.fact_part_file("fact_store_ops", datetime(2024, 1, 15).date())
    )
    assert layout.fact_part_file("fact_store_ops", datetime(2024, 1, 15).date()).name == (
        "fact_store_ops_2024-01_15.parquet"
    )
    written = export_data(data_dir, "csv", tables=["fact_store_ops"])
    assert written == [layout.fact_month_file("fact_store_ops", 2024, 1, "csv")]
    rows = duckdb.sql(f"SELECT TraceId FROM read_csv('{written[0]}')").fetchall()
    assert [r[0] for r in rows][-2:] == ["x", "y"] and len(rows) == 5


@pytest.fixture
def orders(data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory) -> Path:
    """Online orders stored with the month they became final (an order placed on January 31
    and delivered in February is in the February file), and one order still in flight."""
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    name = "fact_online_orders"
    jan = make_fact(name, 2, start=datetime(2024, 1, 31, 8), TraceId=["a", "b"], OrderId=["1", "2"])
    feb = make_fact(name, 1, start=datetime(2024, 1, 31, 20), TraceId=["c"], OrderId=["3"])
    late = make_fact(name, 1, start=datetime(2024, 2, 2, 22), TraceId=["d"], OrderId=["4"])
    write_parquet_atomic(jan, layout.fact_month_file(name, 2024, 1))
    write_parquet_atomic(feb, layout.fact_month_file(name, 2024, 2))
    write_parquet_atomic(late, layout.in_flight_file(name))
    return data_dir


def test_daily_export_keeps_a_days_rows_from_two_months_and_the_orders_in_flight(
    orders: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    written = export_data(orders, "csv", tables=["fact_online_orders"], csv_daily=True, out_dir=out)
    day = out.resolve() / "fact_online_orders" / "dt=2024-01-31" / "fact_online_orders.csv"
    assert day in written and _count_csv([day]) == 3  # January's two and February's one
    in_flight = out.resolve() / "fact_online_orders" / "fact_online_orders_in_flight.csv"
    assert in_flight in written and _count_csv([in_flight]) == 1


def test_an_export_elsewhere_copies_the_orders_in_flight(orders: Path, tmp_path: Path) -> None:
    written = export_data(orders, "parquet", tables=["fact_online_orders"], out_dir=tmp_path)
    copied = tmp_path.resolve() / "fact_online_orders" / "fact_online_orders_in_flight.parquet"
    assert copied in written and pq.read_table(copied)["OrderId"].to_pylist() == ["4"]
    assert export_data(orders, "parquet", tables=["fact_online_orders"]) == []  # in place
