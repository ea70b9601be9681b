"""Every generated dimension matches its registry declaration, keys hold, and builds repeat."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_datagen import schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader
from retail_datagen.generators.master_generator import build_dimensions

LOADER = DictionaryLoader()
SMALL = {
    "volume": {
        "stores": 14,
        "dcs": 3,
        "total_geographies": 80,
        "total_customers": 2500,
        "total_products": 700,
    }
}


@lru_cache(maxsize=8)
def dims(seed: int = 7) -> dict[str, pa.Table]:
    return build_dimensions(RetailConfig.from_mapping({**SMALL, "seed": seed}), LOADER)


def test_builds_every_dimension_in_registry_order() -> None:
    assert list(dims()) == [t.name for t in schema.DIMENSIONS]


@pytest.mark.parametrize("table", schema.DIMENSIONS, ids=lambda t: t.name)
def test_schema_equals_the_registry_declaration(table: schema.Table) -> None:
    data = dims()[table.name]
    assert data.schema.equals(table.arrow_schema, check_metadata=True)
    assert data.num_rows > 0
    for column in table.columns:
        if not column.nullable:
            assert data.column(column.name).null_count == 0, column.name


@pytest.mark.parametrize("table", schema.DIMENSIONS, ids=lambda t: t.name)
def test_primary_and_unique_keys_hold(table: schema.Table) -> None:
    data = dims()[table.name]
    for key in (table.primary_key, *table.unique):
        assert data.group_by(list(key)).aggregate([]).num_rows == data.num_rows, key


@pytest.mark.parametrize("table", schema.DIMENSIONS, ids=lambda t: t.name)
def test_foreign_keys_point_at_existing_rows(table: schema.Table) -> None:
    built = dims()
    for fk in table.foreign_keys:
        values = pc.drop_null(built[table.name].column(fk.column))
        targets = built[fk.table].column(fk.target)
        assert pc.all(pc.is_in(values, value_set=targets)).as_py(), fk


@pytest.mark.parametrize("name", ["dim_geographies", "dim_stores", "dim_customers", "dim_products"])
def test_surrogate_keys_run_from_one(name: str) -> None:
    ids = dims()[name].column("ID").to_pylist()
    assert ids == list(range(1, len(ids) + 1))


def test_same_seed_gives_identical_tables() -> None:
    again = build_dimensions(RetailConfig.from_mapping({**SMALL, "seed": 7}), DictionaryLoader())
    for name, table in dims().items():
        assert table.equals(again[name]), name


def test_different_seed_gives_different_tables() -> None:
    first, other = dims(7), dims(8)
    for name in first:
        if name == "dim_date":  # a calendar has no randomness
            assert first[name].equals(other[name])
        else:
            assert not first[name].equals(other[name]), name


def test_volumes_follow_the_configuration() -> None:
    built, v = dims(), RetailConfig.from_mapping(SMALL).volume
    assert built["dim_geographies"].num_rows == v.total_geographies
    assert built["dim_distribution_centers"].num_rows == v.dcs
    assert built["dim_stores"].num_rows == v.stores
    assert built["dim_customers"].num_rows == v.total_customers
    assert built["dim_products"].num_rows == v.total_products
    kinds = Counter(built["dim_trucks"].column("TruckType").to_pylist())
    assert kinds["SUPPLIER"] >= 2  # the supplier fleet is sized from the DCs' inbound (trucks.py)
    assert kinds["DC"] >= v.dcs  # the DC fleet is sized from the network (trucks.py)
    products = v.total_products
    assert built["dim_store_inventory_snapshots"].num_rows == v.stores * products
    assert built["dim_dc_inventory_snapshots"].num_rows == v.dcs * products
