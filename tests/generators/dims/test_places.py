"""Geographies, DCs and stores: placement, nearest DC, volume variety, hours and tax rates."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from tests.generators.dims.conftest import assert_stores_served_by_the_nearest_dc

from retail_datagen import money
from retail_datagen.config.models import RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader
from retail_datagen.errors import ConfigError
from retail_datagen.generators.dims.allocation import largest_remainder
from retail_datagen.generators.dims.geo import haversine_miles, nearest_index, offset_points
from retail_datagen.generators.dims.geographies import generate_geographies
from retail_datagen.generators.dims.profiles import MIN_TRAFFIC_CV, VOLUME_CLASSES
from retail_datagen.generators.dims.stores import (
    DEFAULT_TAX_RATE,
    jurisdiction_tax_rates,
    traffic_multipliers,
)
from retail_datagen.generators.master_generator import (
    build_dimensions,
    check_config_against_dictionaries,
)
from retail_datagen.generators.store_formats import FORMATS
from retail_datagen.rng import stream

LOADER = DictionaryLoader()


@lru_cache(maxsize=4)
def dims(stores: int = 42, dcs: int = 5, seed: int = 3) -> dict[str, pa.Table]:
    config = RetailConfig.from_mapping(
        {
            "seed": seed,
            "volume": {"stores": stores, "dcs": dcs, "total_customers": 500, "total_products": 50},
        }
    )
    return build_dimensions(config, LOADER)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def test_too_many_geographies_is_a_config_error_naming_the_key() -> None:
    rows = LOADER.geographies().num_rows
    config = RetailConfig.from_mapping({"volume": {"total_geographies": min(rows + 1, 1000)}})
    if rows >= 1000:
        pytest.skip("the shipped dictionary has the maximum number of places")
    with pytest.raises(ConfigError, match=r"volume\.total_geographies = \d+.*only \d+ rows"):
        check_config_against_dictionaries(config, LOADER)
    with pytest.raises(ConfigError, match=r"volume\.total_geographies"):
        build_dimensions(config, LOADER)


def test_geographies_favour_larger_places() -> None:
    dictionary = LOADER.geographies()
    config = RetailConfig.from_mapping({"volume": {"total_geographies": 100}})
    sampled = generate_geographies(config, dictionary)
    population = dict(
        zip(
            zip(dictionary["City"].to_pylist(), dictionary["State"].to_pylist(), strict=True),
            dictionary["Population"].to_pylist(),
            strict=True,
        )
    )
    chosen = [population[(r["City"], r["State"])] for r in _rows(sampled)]
    assert np.median(chosen) > np.median(dictionary["Population"].to_numpy())
    places = zip(sampled["City"].to_pylist(), sampled["State"].to_pylist(), strict=True)
    assert len(set(places)) == 100


def test_dcs_are_in_distinct_states_when_possible() -> None:
    built = dims()
    geo_state = dict(zip(built["dim_geographies"]["ID"].to_pylist(),
                         built["dim_geographies"]["State"].to_pylist(), strict=True))  # fmt: skip
    states = [geo_state[g] for g in built["dim_distribution_centers"]["GeographyID"].to_pylist()]
    assert len(set(states)) == len(states)


def test_stores_only_in_states_with_a_dc_and_served_by_the_nearest() -> None:
    assert_stores_served_by_the_nearest_dc(dims())


def test_stores_sit_within_a_few_miles_of_their_place() -> None:
    built = dims()
    geos = {r["ID"]: r for r in _rows(built["dim_geographies"])}
    for store in _rows(built["dim_stores"]):
        place = geos[store["GeographyID"]]
        miles = haversine_miles(
            store["Latitude"], store["Longitude"], place["Latitude"], place["Longitude"]
        )
        assert miles <= 4.01


def test_store_volume_varies_strongly() -> None:
    stores = dims()["dim_stores"]
    traffic = stores["TrafficMultiplier"].to_numpy()
    assert traffic.std() / traffic.mean() > MIN_TRAFFIC_CV
    counts = Counter(stores["VolumeClass"].to_pylist())
    assert len(counts) >= 3
    ranges = {c.name: c.traffic for c in VOLUME_CLASSES}
    for row in _rows(stores):
        low, high = ranges[row["VolumeClass"]]
        assert low <= row["TrafficMultiplier"] <= high


def test_traffic_spread_clears_the_floor_for_every_chain_size() -> None:
    for stores in range(10, 5001):  # every size the configuration allows
        counts = largest_remainder([c.share for c in VOLUME_CLASSES], stores)
        assert (counts > 0).sum() >= 3, stores
        classes = np.repeat(np.arange(len(VOLUME_CLASSES)), counts)
        traffic = traffic_multipliers(classes, stream(stores, "test"))
        assert traffic.std() / traffic.mean() > MIN_TRAFFIC_CV, stores


def test_formats_and_hours_follow_the_volume_class() -> None:
    stores = _rows(dims(stores=300, dcs=8)["dim_stores"])
    expected = {c.name: {f for f, _ in c.formats} for c in VOLUME_CLASSES}
    for store in stores:
        assert store["StoreFormat"] in expected[str(store["VolumeClass"])]
        hours = {(h.open_hour, h.close_hour) for h in FORMATS[str(store["StoreFormat"])].hours}
        assert (store["OpenHour"], store["CloseHour"]) in hours
    assert any(s["OpenHour"] == 0 and s["CloseHour"] == 24 for s in stores)
    regular = Counter((s["OpenHour"], s["CloseHour"]) for s in stores)
    assert regular.most_common(1)[0][0] == (8, 22)


def test_store_and_dc_numbers() -> None:
    built = dims()
    assert built["dim_stores"]["StoreNumber"].to_pylist()[:2] == ["ST0001", "ST0002"]
    assert built["dim_distribution_centers"]["DCNumber"].to_pylist()[0] == "DC001"
    address = built["dim_stores"]["Address"].to_pylist()[0]
    number, *street = address.split(" ")
    assert number.isdigit() and len(street) == 2


def test_tax_rate_prefers_city_then_county_then_state_then_default() -> None:
    rates = pa.table(
        {
            "StateCode": ["TX", "TX", "TX", "CA", "CA"],
            "County": ["Travis", "Travis", "", "Fresno", "Alameda"],
            "City": ["Austin", "", "", "", "Oakland"],
            "CombinedRate": [0.0825, 0.0800, 0.0625, 0.0790, 0.1025],
        }
    )
    got = jurisdiction_tax_rates(
        ["TX", "TX", "TX", "CA", "CA", "NV"],
        ["Travis", "Travis County", "Harris", "Fresno", "Kern", "Washoe"],
        ["Austin", "Pflugerville", "Houston", "Clovis", "Bakersfield", "Reno"],
        rates,
    )
    ca_average = (0.0790 + 0.1025) / 2
    np.testing.assert_allclose(got, [0.0825, 0.0800, 0.0625, 0.0790, ca_average, DEFAULT_TAX_RATE])


def test_tax_rate_is_stored_with_five_decimals() -> None:
    stores = dims()["dim_stores"]
    assert stores.schema.field("TaxRate").type == pa.decimal128(6, 5)
    rates = money.decimal_to_cents(stores["TaxRate"].combine_chunks())
    assert ((rates >= 0) & (rates <= 10_250)).all()
    assert len(set(rates.tolist())) > 1


def test_one_store_one_dc_works() -> None:
    built = dims(stores=1, dcs=1)
    assert built["dim_stores"].num_rows == 1
    assert built["dim_stores"]["VolumeClass"].to_pylist() == ["MEDIUM"]
    assert built["dim_stores"]["DCID"].to_pylist() == [1]


def test_offset_points_move_the_requested_distance() -> None:
    lat, lon = np.full(8, 40.0), np.full(8, -100.0)
    miles = np.linspace(0.5, 30, 8)
    bearing = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    lat2, lon2 = offset_points(lat, lon, miles, bearing)
    np.testing.assert_allclose(haversine_miles(lat, lon, lat2, lon2), miles, rtol=1e-9)
    assert nearest_index(lat2, lon2, lat2[::-1], lon2[::-1]).tolist() == list(range(7, -1, -1))


class _WorstCaseDraws:
    """Stand-in generator: strata in order, every store jittered toward the chain's mean."""

    def __init__(self, uniforms: np.ndarray) -> None:
        self.uniforms = uniforms

    def random(self, size: int) -> np.ndarray:
        return self.uniforms[:size]

    def permutation(self, n: int) -> np.ndarray:
        return np.arange(n)


def test_traffic_falls_back_to_stratum_centres_when_jitter_flattens_the_chain() -> None:
    counts = largest_remainder([c.share for c in VOLUME_CLASSES], 10)  # 1, 2, 5, 2, 0
    classes = np.repeat(np.arange(len(VOLUME_CLASSES)), counts)
    toward_mean = np.where(classes <= 1, 0.0, 0.999)
    jittered_cv = 0.47  # what these draws alone would give
    traffic = traffic_multipliers(classes, _WorstCaseDraws(toward_mean))  # type: ignore[arg-type]
    assert traffic.std() / traffic.mean() > MIN_TRAFFIC_CV > jittered_cv
