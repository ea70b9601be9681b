"""Property tests: over small random configurations every dimension invariant holds."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.generators.dims.conftest import assert_stores_served_by_the_nearest_dc

from retail_datagen import money, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader
from retail_datagen.generators.dims.profiles import MIN_TRAFFIC_CV
from retail_datagen.generators.master_generator import build_dimensions

LOADER = DictionaryLoader()


@st.composite
def configs(draw: st.DrawFn) -> RetailConfig:
    stores = draw(st.integers(1, 60))
    volume: dict[str, Any] = {
        "stores": stores,
        "dcs": draw(st.integers(1, 8)),
        "total_geographies": draw(st.integers(1, 300)),
        "total_customers": draw(st.integers(1, 3000)),
        "total_products": draw(st.integers(1, 2000)),
        "refrigerated_trucks": draw(st.integers(0, 12)),
        "non_refrigerated_trucks": draw(st.integers(1, 12)),
        "supplier_refrigerated_trucks": draw(st.integers(0, 5)),
        "supplier_non_refrigerated_trucks": draw(st.integers(1, 5)),
    }
    low = draw(st.integers(0, 50))
    volume["store_initial_inventory_min"] = low
    volume["store_initial_inventory_max"] = low + draw(st.integers(0, 200))
    start = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2024, 12, 31)))
    return RetailConfig.from_mapping(
        {
            "seed": draw(st.integers(0, 2**40)),
            "volume": volume,
            "historical": {"start_date": start.isoformat()},
        }
    )


def _fk_ok(built: dict[str, pa.Table]) -> None:
    for table in schema.DIMENSIONS:
        data = built[table.name]
        assert data.schema.equals(table.arrow_schema, check_metadata=True), table.name
        for fk in table.foreign_keys:
            values = pc.drop_null(data.column(fk.column))
            assert pc.all(pc.is_in(values, value_set=built[fk.table].column(fk.target))).as_py()


MINIMAL = RetailConfig.from_mapping(
    {
        "volume": {
            "stores": 1,
            "dcs": 1,
            "total_geographies": 1,
            "total_customers": 1,
            "total_products": 1,
            "refrigerated_trucks": 0,
            "non_refrigerated_trucks": 1,
            "supplier_refrigerated_trucks": 0,
            "supplier_non_refrigerated_trucks": 1,
        }
    }
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(configs())
@example(MINIMAL)
def test_dimension_invariants_hold_for_any_small_configuration(config: RetailConfig) -> None:
    built = build_dimensions(config, LOADER)
    v = config.volume
    _fk_ok(built)

    stores, dcs = built["dim_stores"], built["dim_distribution_centers"]
    assert stores.num_rows == v.stores and dcs.num_rows == v.dcs
    assert_stores_served_by_the_nearest_dc(built)
    if v.stores >= 10:
        traffic = stores["TrafficMultiplier"].to_numpy()
        assert traffic.std() / traffic.mean() > MIN_TRAFFIC_CV
        assert len(set(stores["VolumeClass"].to_pylist())) >= 3

    products = built["dim_products"]
    assert products.num_rows == v.total_products
    cost, msrp, sale = (money.decimal_to_cents(products[c]) for c in ("Cost", "MSRP", "SalePrice"))
    assert ((cost >= 1) & (cost < sale) & (sale <= msrp)).all()
    if v.total_products >= 2:
        assert max(Counter(products["Department"].to_pylist()).values()) <= 0.6 * v.total_products

    customers = built["dim_customers"]
    assert customers.num_rows == v.total_customers
    for column in ("LoyaltyCard", "BLEId", "AdId", "Phone"):
        assert pc.count_distinct(customers[column]).as_py() == v.total_customers

    trucks = built["dim_trucks"]
    assert pc.count_distinct(trucks["LicensePlate"]).as_py() == trucks.num_rows
    fleet = v.refrigerated_trucks + v.non_refrigerated_trucks
    assert pc.count_distinct(pc.drop_null(trucks["DCID"])).as_py() == min(fleet, v.dcs)

    snapshot = built["dim_store_inventory_snapshots"]
    assert snapshot.num_rows == v.stores * v.total_products
    quantity = snapshot["CurrentQuantity"].to_numpy()
    assert quantity.max(initial=0) <= v.store_initial_inventory_max
    assert (quantity >= 0).all()
