from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from retail_datagen.errors import DataStateError
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.schema import TABLES
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.dimension_store import save_dimensions
from retail_datagen.storage.layout import DataLayout
from retail_datagen.validation import (
    CheckResult,
    ValidationReport,
    check,
    key_checks,
    validate,
)
from retail_datagen.validation.runner import CheckRegistry, RegisteredCheck, registered_checks

FactFactory = Callable[..., pa.Table]
OWN_MODULES = ("retail_datagen.validation.key_checks", "retail_datagen.validation.dimension_checks")


def _validate(data_dir: Path, *extra: RegisteredCheck) -> ValidationReport:
    """These tests build tiny hand-made facts, which the fact-behaviour checks (tested with the
    fact engine) would rightly reject: run the checks derived from the registry and the
    dimension checks only (and any extra checks a test brings)."""
    return validate(data_dir, checks=[*registered_checks(OWN_MODULES), *extra])


def _with(
    dims: dict[str, pa.Table], table: str, column: str, values: list[Any]
) -> dict[str, pa.Table]:
    data = dims[table]
    index = data.schema.get_field_index(column)
    field = data.schema.field(index)
    array = pa.array(values + data.column(column).to_pylist()[len(values) :], field.type)
    return {**dims, table: data.set_column(index, field, array)}


def _store(data_dir: Path, dims: dict[str, pa.Table], **facts: pa.Table) -> Path:
    save_dimensions(data_dir, dims)
    layout = DataLayout.of(data_dir)
    for name, table in facts.items():
        write_parquet_atomic(table, layout.fact_month_file(name, 2024, 1))
    if facts:  # the state that a generation writes with its files
        GenerationStateManager(data_dir).update(
            has_fact_data=True,
            historical_start_date=datetime(2024, 1, 1),
            last_generated_timestamp=datetime(2024, 1, 31, 23, 59, 59),
        )
    return data_dir


def test_clean_data_passes_every_check(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    receipts = make_fact("fact_receipts", 5, StoreID=[1, 2, 3, 4, 5], CustomerID=7)
    lines = make_fact("fact_receipt_lines", 5, ReceiptId=receipts.column("ReceiptId").to_pylist())
    pings = make_fact("fact_ble_pings", 3, CustomerID=[None, 2, None])  # NULL FKs are skipped
    report = _validate(
        _store(
            data_dir, dims, fact_receipts=receipts, fact_receipt_lines=lines, fact_ble_pings=pings
        )
    )
    assert report.passed, report.render(only_failures=True)
    assert all(r.violations in (None, 0) for r in report.results)
    assert len(report.results) > 80


def test_every_registry_key_has_a_check(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    names = {r.name for r in _validate(_store(data_dir, dims)).results}
    for table in TABLES.values():
        if table.primary_key:
            assert f"primary key {table.name}({', '.join(table.primary_key)})" in names
        for key in table.unique:
            assert f"unique {table.name}({', '.join(key)})" in names
        for fk in table.foreign_keys:
            assert f"foreign key {table.name}.{fk.column} -> {fk.table}.{fk.target}" in names


def test_a_bad_foreign_key_is_counted(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    receipts = make_fact("fact_receipts", 6, StoreID=[1, 999, 2, 998, 999, 3])
    report = _validate(_store(data_dir, dims, fact_receipts=receipts))
    result = report.result("foreign key fact_receipts.StoreID -> dim_stores.ID")
    assert not result.passed and result.violations == 3
    assert "dim_stores.ID" in result.detail
    assert [r.name for r in report.failures] == [result.name]


def test_fact_to_fact_foreign_keys_are_checked(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    receipts = make_fact("fact_receipts", 2)
    lines = make_fact("fact_receipt_lines", 3, ReceiptId=["ReceiptId-0", "R-missing", "R-gone"])
    report = _validate(_store(data_dir, dims, fact_receipts=receipts, fact_receipt_lines=lines))
    result = report.result("foreign key fact_receipt_lines.ReceiptId -> fact_receipts.ReceiptId")
    assert result.violations == 2


def test_duplicate_keys_are_counted(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    receipts = make_fact(
        "fact_receipts",
        5,
        TraceId=["t1", "t1", "t1", "t2", "t3"],
        ReceiptId=["r1", "r2", "r2", "r3", "r4"],
    )
    report = _validate(_store(data_dir, dims, fact_receipts=receipts))
    assert report.result("primary key fact_receipts(TraceId)").violations == 2
    unique = report.result("unique fact_receipts(ReceiptId)")
    assert unique.violations == 1 and "r2" in unique.detail


def test_keys_of_large_tables_are_checked_in_several_passes(
    data_dir: Path,
    dims: dict[str, pa.Table],
    make_fact: FactFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """100 M BLE pings ran out of DuckDB's memory in one GROUP BY; each pass takes a hash bucket."""
    monkeypatch.setattr(key_checks, "KEY_ROWS_PER_PASS", 2)
    moves = make_fact(
        "fact_truck_moves", 5, ShipmentId=["s1", "s1", "s1", "s2", "s2"], Status=list("ABAAA")
    )
    receipts = make_fact("fact_receipts", 5, TraceId=["t1", "t1", "t1", "t2", "t3"])
    report = _validate(_store(data_dir, dims, fact_truck_moves=moves, fact_receipts=receipts))
    assert report.result("primary key fact_receipts(TraceId)").violations == 2
    result = report.result("unique fact_truck_moves(ShipmentId, Status)")
    assert result.violations == 2 and "x2" in result.detail


def test_composite_unique_keys_are_counted(
    data_dir: Path, dims: dict[str, pa.Table], make_fact: FactFactory
) -> None:
    moves = make_fact(
        "fact_truck_moves", 4, ShipmentId=["s1", "s1", "s1", "s2"], Status=["A", "B", "A", "A"]
    )
    report = _validate(_store(data_dir, dims, fact_truck_moves=moves))
    assert report.result("unique fact_truck_moves(ShipmentId, Status)").violations == 1


def test_cost_not_below_sale_price_is_counted(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    price = dims["dim_products"].column("SalePrice").to_pylist()
    bad = _with(dims, "dim_products", "Cost", [price[0], price[1] + Decimal("1.00")])
    report = _validate(_store(data_dir, bad))
    assert report.result("products: Cost < SalePrice <= MSRP").violations == 2
    assert report.result("products: Cost is 50-85 % of the INITIAL SalePrice").violations == 2


def test_sale_price_above_msrp_is_counted(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    msrp = dims["dim_products"].column("MSRP").to_pylist()
    bad = _with(dims, "dim_products", "SalePrice", [msrp[0] + Decimal("0.01")])
    report = _validate(_store(data_dir, bad))
    assert report.result("products: Cost < SalePrice <= MSRP").violations == 1


def test_cost_share_allows_one_cent_of_rounding(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    sale = dims["dim_products"].column("SalePrice").to_pylist()
    edge = [(s * Decimal("0.50") - Decimal("0.01")).quantize(Decimal("0.01")) for s in sale[:2]]
    report = _validate(_store(data_dir, _with(dims, "dim_products", "Cost", edge)))
    assert report.result("products: Cost is 50-85 % of the INITIAL SalePrice").passed


def test_duplicate_phone_numbers_are_counted(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    bad = _with(dims, "dim_customers", "Phone", ["(512) 555-0100"] * 3)
    report = _validate(_store(data_dir, bad))
    assert report.result("customers: Phone unique").violations == 2


def test_flat_store_profiles_fail_the_spread_checks(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    stores = dims["dim_stores"].num_rows
    flat = _with(dims, "dim_stores", "TrafficMultiplier", [1.0] * stores)
    flat = _with(flat, "dim_stores", "VolumeClass", ["MEDIUM"] * stores)
    report = _validate(_store(data_dir, flat))
    spread = report.result("stores: TrafficMultiplier spread (CV)")
    assert not spread.passed and spread.measured == pytest.approx(0.0)
    classes = report.result("stores: at least 3 VolumeClasses")
    assert not classes.passed and classes.measured == 1


def test_spread_checks_are_skipped_for_small_chains(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    few = dict(dims)
    keep = pa.array([i <= 5 for i in dims["dim_stores"].column("ID").to_pylist()])
    few["dim_stores"] = dims["dim_stores"].filter(keep)
    few["dim_store_inventory_snapshots"] = dims["dim_store_inventory_snapshots"].filter(
        pa.array(
            [s <= 5 for s in dims["dim_store_inventory_snapshots"].column("StoreID").to_pylist()]
        )
    )
    few["dim_customers"] = _with(dims, "dim_customers", "HomeStoreID", [1] * 20)["dim_customers"]
    few = _with(few, "dim_stores", "TrafficMultiplier", [1.0] * 5)
    report = _validate(_store(data_dir, few))
    spread = report.result("stores: TrafficMultiplier spread (CV)")
    assert spread.passed and spread.detail.startswith("skipped")
    assert report.passed, report.render(only_failures=True)


def test_a_dominant_department_is_detected(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    bad = _with(dims, "dim_products", "Department", ["Grocery"] * 8)
    report = _validate(_store(data_dir, bad))
    share = report.result("products: no department above 60 % of SKUs")
    assert not share.passed and share.measured == pytest.approx(9 / 12)  # 8 set + product 12


def test_stores_outside_dc_states_are_counted(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    bad = _with(dims, "dim_stores", "GeographyID", [6, 6])  # Reno, NV has no DC
    report = _validate(_store(data_dir, bad))
    assert report.result("stores: only in states that have a DC").violations == 2


def test_stores_served_by_a_far_dc_are_counted(data_dir: Path, dims: dict[str, pa.Table]) -> None:
    served = dims["dim_stores"].column("DCID").to_pylist()
    swapped = [2 if dc == 1 else 1 for dc in served[:3]]
    report = _validate(_store(data_dir, _with(dims, "dim_stores", "DCID", swapped)))
    assert report.result("stores: served by the nearest DC").violations == 3


def test_validate_without_dimensions_names_the_fix(data_dir: Path) -> None:
    with pytest.raises(DataStateError, match="generate --dims-only"):
        _validate(data_dir)
    assert not data_dir.exists()


def test_registered_checks_run_and_crashes_become_failures(
    data_dir: Path, dims: dict[str, pa.Table]
) -> None:
    mine = CheckRegistry()  # the default registry's decorator works the same way

    @mine.check("test: stores exist", kind="range")
    def stores_exist(con: duckdb.DuckDBPyConnection) -> CheckResult:
        rows = con.execute("SELECT count(*) FROM dim_stores").fetchall()[0][0]
        return CheckResult.range("ignored", float(rows), (1.0, math.inf))

    @mine.check("test: broken query")
    def broken(con: duckdb.DuckDBPyConnection) -> CheckResult:
        con.execute("SELECT * FROM no_such_table").fetchall()
        return CheckResult.hard("", 0)

    with pytest.raises(ValueError, match="already registered"):
        mine.check("test: stores exist")(broken)
    with pytest.raises(ValueError, match="already registered"):  # the default registry too
        check("primary key dim_stores(ID)")(broken)

    report = _validate(_store(data_dir, dims), *mine.checks())
    exists = report.result("test: stores exist")
    assert exists.passed and exists.kind == "range" and exists.measured == 10
    crashed = report.result("test: broken query")
    assert not crashed.passed and "failed to run" in crashed.detail
    assert [r.name for r in report.failures] == ["test: broken query"]


def test_report_renders_and_serialises() -> None:
    report = ValidationReport(
        [
            CheckResult.hard("keys", 0),
            CheckResult.hard("fk", 3, "3 orphans"),
            CheckResult.range("cv", 0.7, (0.5, math.inf)),
            CheckResult.range("share", 0.9, (0.0, 0.6)),
        ]
    )
    assert not report.passed
    assert [r.name for r in report.failures] == ["fk", "share"]
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["failures"] == 2 and data["results"][2]["accepted"] == [0.5, None]
    text = report.render()
    assert "FAIL  fk" in text and "3 violations" in text and ">= 0.5" in text
    assert "FAILED: 2 of 4 checks passed, 2 failed" in text
    assert "keys" not in report.render(only_failures=True)
