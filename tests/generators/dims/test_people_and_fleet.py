"""Customers (near home, unique ids, segments) and trucks (round-robin fleet, unique plates)."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader
from retail_datagen.generators.dims.customers import PHONE_SPACE, generate_customers
from retail_datagen.generators.dims.geo import haversine_miles
from retail_datagen.generators.dims.identifiers import keyed_permutation, letters_and_digits
from retail_datagen.generators.dims.profiles import CUSTOMER_SEGMENTS
from retail_datagen.generators.dims.trucks import generate_trucks
from retail_datagen.generators.facts.stock_policy import store_daily_units, supplier_fleet_size
from retail_datagen.generators.facts.supply import supplier_travel_hours
from retail_datagen.generators.master_generator import build_dimensions

LOADER = DictionaryLoader()
CODE_COLUMNS = {
    "LoyaltyCard": r"LC\d{10}",
    "BLEId": r"BLE\d{10}",
    "AdId": r"AD\d{12}",
    "Phone": r"\([2-9]\d\d\) 555-01\d\d",
}


@lru_cache(maxsize=2)
def dims(customers: int = 20_000) -> dict[str, pa.Table]:
    config = RetailConfig.from_mapping(
        {"seed": 11, "volume": {"total_customers": customers, "total_products": 50}}
    )
    return build_dimensions(config, LOADER)


def test_customer_codes_are_unique_and_well_formed() -> None:
    customers = dims()["dim_customers"]
    for column, pattern in CODE_COLUMNS.items():
        values = customers[column].to_pylist()
        assert len(set(values)) == len(values), column
        assert all(re.fullmatch(pattern, v) for v in values[:500]), column


def test_phones_are_unique_up_to_the_fictitious_space_then_wrap() -> None:
    built = dims()
    config = RetailConfig.from_mapping({"seed": 11, "volume": {"total_customers": PHONE_SPACE + 5}})
    customers = generate_customers(
        config, built["dim_stores"], LOADER.first_names(), LOADER.last_names()
    )
    phones = customers["Phone"].to_pylist()
    assert PHONE_SPACE == 80_000
    assert len(set(phones[:PHONE_SPACE])) == PHONE_SPACE
    assert phones[PHONE_SPACE:] == phones[:5]
    assert len(set(customers["LoyaltyCard"].to_pylist())) == customers.num_rows


def test_customer_codes_do_not_depend_on_how_many_customers_there_are() -> None:
    small, large = dims(2_000)["dim_customers"], dims()["dim_customers"]
    for column in CODE_COLUMNS:
        assert small[column].to_pylist() == large[column].to_pylist()[:2_000]


def test_customers_live_near_their_home_store() -> None:
    built = dims()
    customers, stores = built["dim_customers"], built["dim_stores"]
    home = customers["HomeStoreID"].to_numpy() - 1
    miles = haversine_miles(
        customers["Latitude"].to_numpy(),
        customers["Longitude"].to_numpy(),
        stores["Latitude"].to_numpy()[home],
        stores["Longitude"].to_numpy()[home],
    )
    assert (miles <= 10).mean() >= 0.80
    assert 0.80 <= (miles <= 10).mean() <= 0.90
    assert miles.max() <= 40.01
    store_geo = stores["GeographyID"].to_numpy()[home]
    np.testing.assert_array_equal(customers["GeographyID"].to_numpy(), store_geo)


def test_busier_stores_have_more_customers() -> None:
    built = dims()
    per_store = np.bincount(
        built["dim_customers"]["HomeStoreID"].to_numpy(), minlength=built["dim_stores"].num_rows + 1
    )[1:]
    traffic = built["dim_stores"]["TrafficMultiplier"].to_numpy()
    assert np.corrcoef(per_store, traffic)[0, 1] > 0.9


def test_segment_shares_match_the_profile() -> None:
    customers = dims()["dim_customers"]
    counts = Counter(customers["Segment"].to_pylist())
    for segment, share in CUSTOMER_SEGMENTS:
        assert counts[segment] / customers.num_rows == pytest.approx(share, abs=0.03)


def test_names_come_from_the_dictionaries() -> None:
    customers = dims()["dim_customers"]
    first = set(LOADER.first_names()["FirstName"].to_pylist())
    last = set(LOADER.last_names()["LastName"].to_pylist())
    assert set(customers["FirstName"].to_pylist()) <= first
    assert set(customers["LastName"].to_pylist()) <= last
    full_names = set(
        zip(customers["FirstName"].to_pylist(), customers["LastName"].to_pylist(), strict=True)
    )
    assert len(full_names) > 0.5 * customers.num_rows


@pytest.mark.parametrize("radices", [(1, 1), (3, 5), (7, 11), (250, 320)])
def test_keyed_permutation_is_a_bijection(radices: tuple[int, int]) -> None:
    space = radices[0] * radices[1]
    out = keyed_permutation(5, "test", np.arange(space), radices)
    assert sorted(out.tolist()) == list(range(space))


def test_letters_and_digits_render_codes() -> None:
    rendered = letters_and_digits(np.array([0, 1, 26 * 10 - 1]), "A9").to_pylist()
    assert rendered == ["A0", "A1", "Z9"]


def test_dc_fleet_is_dealt_round_robin_and_supplier_trucks_have_no_dc() -> None:
    config = RetailConfig.from_mapping(
        {
            "volume": {
                "dcs": 4,
                "refrigerated_trucks": 5,
                "non_refrigerated_trucks": 6,
                "supplier_refrigerated_trucks": 2,
                "supplier_non_refrigerated_trucks": 3,
            }
        }
    )
    dcs = pa.table({"ID": pa.array([1, 2, 3, 4], pa.int32())})
    trucks = generate_trucks(config, dcs).to_pylist()
    fleet = [t for t in trucks if t["TruckType"] == "DC"]
    supplier = [t for t in trucks if t["TruckType"] == "SUPPLIER"]
    assert len(fleet) == 11 and len(supplier) == 5
    per_dc = Counter(t["DCID"] for t in fleet)
    assert set(per_dc) == {1, 2, 3, 4} and max(per_dc.values()) - min(per_dc.values()) <= 1
    assert {t["DCID"] for t in fleet if t["Refrigeration"]} == {1, 2, 3, 4}
    assert all(t["DCID"] is None for t in supplier)
    assert sum(t["Refrigeration"] for t in supplier) == 2
    assert {t["Capacity"] for t in trucks} == {config.volume.truck_capacity}


def test_dc_fleet_follows_the_traffic_each_dc_serves() -> None:
    config = RetailConfig.from_mapping(
        {
            "volume": {
                "dcs": 3,
                "refrigerated_trucks": 6,
                "non_refrigerated_trucks": 12,
                "supplier_refrigerated_trucks": 1,
                "supplier_non_refrigerated_trucks": 1,
            }
        }
    )
    dcs = pa.table({"ID": pa.array([1, 2, 3], pa.int32())})
    stores = pa.table(
        {
            "DCID": pa.array([1, 1, 1, 1, 2, 3], pa.int32()),
            "TrafficMultiplier": pa.array([1.0, 1.0, 2.5, 1.0, 0.5, 1.0]),
        }
    )
    fleet = [t for t in generate_trucks(config, dcs, stores).to_pylist() if t["TruckType"] == "DC"]
    per_dc = Counter(t["DCID"] for t in fleet)
    assert per_dc[1] > per_dc[3] >= per_dc[2] >= 2  # busiest DC most, every DC both kinds
    for dc in (1, 2, 3):
        kinds = {t["Refrigeration"] for t in fleet if t["DCID"] == dc}
        assert kinds == {True, False}


def test_dc_fleet_is_sized_from_the_network_by_default() -> None:
    """20 trucks starved 42 stores; now each DC gets what its stores' deliveries need."""
    built = dims()
    stores, trucks = built["dim_stores"], built["dim_trucks"].to_pylist()
    fleet = Counter(t["DCID"] for t in trucks if t["TruckType"] == "DC")
    served = Counter(stores.column("DCID").to_pylist())
    assert sum(fleet.values()) > 40
    assert set(fleet) == set(served)
    busiest = max(served, key=lambda dc: served[dc])
    assert fleet[busiest] == max(fleet.values())
    for dc in served:
        kinds = {t["Refrigeration"] for t in trucks if t["DCID"] == dc}
        assert kinds == {True, False}
    explicit = RetailConfig.from_mapping(
        {"seed": 11, "volume": {"total_products": 50, "refrigerated_trucks": 3}}
    )
    dcs = built["dim_distribution_centers"]
    mixed = generate_trucks(explicit, dcs, stores).to_pylist()
    assert sum(t["Refrigeration"] for t in mixed if t["TruckType"] == "DC") == 3  # a count wins
    assert sum(not t["Refrigeration"] for t in mixed if t["TruckType"] == "DC") == sum(
        not t["Refrigeration"] for t in trucks if t["TruckType"] == "DC"
    )


def test_supplier_fleet_is_sized_from_the_dcs_inbound_unless_a_count_is_given() -> None:
    """12 / 18 supplier trucks brought the DCs 4 % less than they shipped at the winter peak."""
    built = dims()
    stores, dcs = built["dim_stores"], built["dim_distribution_centers"].sort_by("ID")
    supplier = [t for t in built["dim_trucks"].to_pylist() if t["TruckType"] == "SUPPLIER"]
    config = RetailConfig.from_mapping({"seed": 11, "volume": {"total_products": 50}})
    dc_ids = dcs.column("ID").to_numpy()
    region = np.searchsorted(dc_ids, stores.column("DCID").to_numpy())
    inbound = np.bincount(region, store_daily_units(config.volume, stores), dc_ids.size)
    cold, dry = supplier_fleet_size(
        inbound, supplier_travel_hours(11, dc_ids), config.volume.truck_capacity
    )
    assert sum(t["Refrigeration"] for t in supplier) == cold
    assert sum(not t["Refrigeration"] for t in supplier) == dry
    assert cold + dry > 30 and all(t["DCID"] is None for t in supplier)
    explicit = RetailConfig.from_mapping(
        {"seed": 11, "volume": {"total_products": 50, "supplier_refrigerated_trucks": 4}}
    )
    mixed = [
        t
        for t in generate_trucks(explicit, dcs, stores).to_pylist()
        if t["TruckType"] == "SUPPLIER"
    ]
    assert sum(t["Refrigeration"] for t in mixed) == 4  # an explicit count wins
    assert sum(not t["Refrigeration"] for t in mixed) == dry  # the other kind is still sized


def test_plates_are_unique_and_realistic() -> None:
    config = RetailConfig.from_mapping(
        {"volume": {"refrigerated_trucks": 20_000, "supplier_non_refrigerated_trucks": 20_000}}
    )
    dcs = pa.table({"ID": pa.array([1, 2], pa.int32())})
    plates = generate_trucks(config, dcs)["LicensePlate"].to_pylist()
    assert len(set(plates)) == len(plates)
    assert all(re.fullmatch(r"[1-9][A-Z]{3}\d{3}|[A-Z]{3}-\d{4}", p) for p in plates)
    styles = Counter("-" in p for p in plates)
    assert min(styles.values()) > 0.3 * len(plates)
