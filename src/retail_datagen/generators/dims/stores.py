"""dim_stores: where stores are, how busy they are, when they open, their tax rate and DC.

Rules (SPEC §5):
- stores only in states that have a DC, clustered in larger places (population weighting), a few
  miles around the place centre; the serving DC is the nearest one (great-circle distance);
- volume classes are allocated exactly by largest remainder (not independent draws) and ranked
  by place size with noise, so big cities get the flagships; TrafficMultiplier is drawn
  stratified inside the class range, which keeps its coefficient of variation above
  ``MIN_TRAFFIC_CV`` whenever there are 10 or more stores;
- format and opening hours follow the class (``profiles``);
- TaxRate: the city's jurisdiction, else the county's, else the state's, else a default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from retail_datagen import ids, money, rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.allocation import largest_remainder
from retail_datagen.generators.dims.addresses import street_addresses
from retail_datagen.generators.dims.profiles import MIN_TRAFFIC_CV, VOLUME_CLASSES
from retail_datagen.generators.store_formats import FORMATS, STORE_FORMATS
from retail_datagen.geo import nearest_index, offset_points
from retail_datagen.schema.tables import DIM_STORES

__all__ = [
    "DEFAULT_TAX_RATE",
    "STORE_OFFSET_MILES",
    "generate_stores",
    "jurisdiction_tax_rates",
    "traffic_multipliers",
]

STORE_OFFSET_MILES = 4.0  # stores lie within this distance of their place centre
DEFAULT_TAX_RATE = 0.07  # when the tax dictionary knows nothing about the state
RATE_UNSCALED = 100_000  # DECIMAL(6,5): unscaled integer = rate x 10^5
_TRAFFIC_DECIMALS = 3


def generate_stores(
    config: RetailConfig,
    geographies: pa.Table,
    populations: np.ndarray,
    distribution_centers: pa.Table,
    tax_rates: pa.Table,
) -> pa.Table:
    """``volume.stores`` stores in DC states, each served by its nearest DC."""
    n = config.volume.stores
    seed = config.seed
    place = _place_stores(seed, n, geographies, populations, distribution_centers)

    where = rng.stream(seed, "dim_stores.location")
    distance = STORE_OFFSET_MILES * np.sqrt(where.random(n))  # uniform over the disc
    lat, lon = offset_points(
        geographies.column("Latitude").to_numpy()[place],
        geographies.column("Longitude").to_numpy()[place],
        distance,
        where.uniform(0.0, 2 * np.pi, size=n),
    )
    dc_index = nearest_index(
        lat,
        lon,
        distribution_centers.column("Latitude").to_numpy(),
        distribution_centers.column("Longitude").to_numpy(),
    )

    volume_class = _rank_into_classes(seed, populations[place])
    traffic = traffic_multipliers(volume_class, rng.stream(seed, "dim_stores.traffic"))
    store_format = _formats(volume_class, rng.stream(seed, "dim_stores.format").random(n))
    open_hour, close_hour = _opening_hours(
        store_format, rng.stream(seed, "dim_stores.hours").random(n)
    )
    rates = jurisdiction_tax_rates(
        geographies.column("State").to_pylist(),
        geographies.column("District").to_pylist(),
        geographies.column("City").to_pylist(),
        tax_rates,
    )[place]

    store_ids = np.arange(1, n + 1)
    table = pa.table(
        {
            "ID": pa.array(store_ids, pa.int32()),
            "StoreNumber": ids.compose(n, ["ST", (store_ids, max(4, len(str(n))))]),
            "Address": street_addresses(rng.stream(seed, "dim_stores.address"), n),
            "GeographyID": geographies.column("ID").take(pa.array(place)),
            "Latitude": pa.array(lat),
            "Longitude": pa.array(lon),
            "TaxRate": money.cents_to_decimal(np.rint(rates * RATE_UNSCALED), 6, 5),
            "VolumeClass": pa.array([c.name for c in VOLUME_CLASSES]).take(pa.array(volume_class)),
            "StoreFormat": pa.array(STORE_FORMATS).take(pa.array(store_format)),
            "OpenHour": pa.array(open_hour, pa.int32()),
            "CloseHour": pa.array(close_hour, pa.int32()),
            "TrafficMultiplier": pa.array(traffic),
            "DCID": distribution_centers.column("ID").take(pa.array(dc_index)),
        }
    )
    return schema.normalise(DIM_STORES, table)


def _place_stores(
    seed: int, n: int, geographies: pa.Table, populations: np.ndarray, dcs: pa.Table
) -> np.ndarray:
    """Row index into ``geographies`` per store: places in DC states, weighted by population."""
    geo_ids = geographies.column("ID").to_numpy()
    states = np.asarray(geographies.column("State").to_pylist(), dtype=object)
    dc_rows = np.searchsorted(geo_ids, dcs.column("GeographyID").to_numpy())
    eligible = np.isin(states, states[dc_rows])
    weights = np.where(eligible, populations, 0.0)
    placement = rng.stream(seed, "dim_stores.placement")
    return placement.choice(geo_ids.size, size=n, p=weights / weights.sum())


def _rank_into_classes(seed: int, place_population: np.ndarray) -> np.ndarray:
    """Volume-class index per store: exact shares, biggest places most likely to get the top."""
    n = place_population.size
    counts = largest_remainder([c.share for c in VOLUME_CLASSES], n)
    noise = rng.stream(seed, "dim_stores.volume_class").gumbel(size=n)
    rank = np.argsort(-(np.log(np.maximum(place_population, 1.0)) + noise), kind="stable")
    classes = np.empty(n, dtype=np.int64)
    classes[rank] = np.repeat(np.arange(len(VOLUME_CLASSES)), counts)
    return classes


def traffic_multipliers(volume_class: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """TrafficMultiplier per store, stratified within its class range.

    The k stores of a class take the k equal strata of its range in random order, each at a
    uniform point of its stratum. Should that jitter ever leave the spread of the whole chain at
    or below ``MIN_TRAFFIC_CV``, the stratum centres are used: with largest-remainder class counts
    they clear it for every chain of 10 or more stores (checked for all sizes by the tests).
    """
    jittered = np.empty(volume_class.size)
    centred = np.empty(volume_class.size)
    uniforms = generator.random(volume_class.size)
    for k, profile in enumerate(VOLUME_CLASSES):
        members = np.flatnonzero(volume_class == k)
        stratum = generator.permutation(members.size)
        low, high = profile.traffic
        width = (high - low) / max(members.size, 1)
        jittered[members] = low + width * (stratum + uniforms[members])
        centred[members] = low + width * (stratum + 0.5)
    jittered, centred = np.round(jittered, _TRAFFIC_DECIMALS), np.round(centred, _TRAFFIC_DECIMALS)
    return centred if _cv(jittered) <= min(MIN_TRAFFIC_CV, _cv(centred)) else jittered


def _cv(values: np.ndarray) -> float:
    return float(values.std() / values.mean()) if values.size else 0.0


def _formats(volume_class: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """StoreFormat index per store, drawn from its class's format mix."""
    out = np.empty(volume_class.size, dtype=np.int64)
    for k, profile in enumerate(VOLUME_CLASSES):
        members = volume_class == k
        codes = np.array([STORE_FORMATS.index(name) for name, _ in profile.formats])
        out[members] = codes[_pick([share for _, share in profile.formats], uniforms[members])]
    return out


def _opening_hours(store_format: np.ndarray, uniforms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(OpenHour, CloseHour) per store, drawn from its format's hours mix."""
    open_hour = np.empty(store_format.size, dtype=np.int32)
    close_hour = np.empty(store_format.size, dtype=np.int32)
    for k, name in enumerate(STORE_FORMATS):
        members = store_format == k
        options = FORMATS[name].hours
        pick = _pick([o.share for o in options], uniforms[members])
        open_hour[members] = np.array([o.open_hour for o in options])[pick]
        close_hour[members] = np.array([o.close_hour for o in options])[pick]
    return open_hour, close_hour


def _pick(shares: tuple[float, ...] | list[float], uniforms: np.ndarray) -> np.ndarray:
    """Index of the option each uniform falls into, by cumulative share."""
    cdf = np.cumsum(shares) / np.sum(shares)
    return np.minimum(np.searchsorted(cdf, uniforms, side="right"), len(cdf) - 1)


def _jurisdiction(name: str) -> str:
    return name.strip().casefold().removesuffix(" county").strip()


def jurisdiction_tax_rates(
    states: Sequence[str], districts: Sequence[str], cities: Sequence[str], tax_rates: pa.Table
) -> np.ndarray:
    """Combined sales-tax rate per place (also the rate of a DC's place for online orders).

    Most specific first: the city's own rate (state, county, city), then the county-level rate
    (state, county, no city), then the state's rate — its state-wide row (no county, no city),
    or the average of its rows when it has none — then ``DEFAULT_TAX_RATE``.
    """
    by_city: dict[tuple[str, str, str], float] = {}
    by_county: dict[tuple[str, str], float] = {}
    by_state: dict[str, float] = {}
    state_rows: dict[str, list[float]] = defaultdict(list)
    columns = (tax_rates.column(c).to_pylist() for c in ("StateCode", "County", "City"))
    rates = tax_rates.column("CombinedRate").to_pylist()
    for (state, county, city), rate in zip(zip(*columns, strict=True), rates, strict=True):
        if city:
            by_city[(state, _jurisdiction(county or ""), _jurisdiction(city))] = rate
        elif county:
            by_county[(state, _jurisdiction(county))] = rate
        else:
            by_state[state] = rate
        state_rows[state].append(rate)
    for state, values in state_rows.items():
        by_state.setdefault(state, float(np.mean(values)))

    def rate_of(state: str, district: str, city: str) -> float:
        county = _jurisdiction(district)
        for found in (
            by_city.get((state, county, _jurisdiction(city))),
            by_county.get((state, county)),
            by_state.get(state),
        ):
            if found is not None:
                return float(found)
        return DEFAULT_TAX_RATE

    places = zip(states, districts, cities, strict=True)
    return np.array([rate_of(*place) for place in places], dtype=np.float64)
