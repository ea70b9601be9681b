"""FactContext: the dimensions as column arrays, built once per process for the fact generators.

Generators are pure functions of (context, partition key, seed); the context holds only data that
derives from the configuration and the dimension tables, never from what has been generated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.supply import SupplyChain, build_supply_chain
from retail_datagen.generators.price_model import (
    EPOCH_ORDINAL,
    PricePlan,
    initial_prices,
    price_plan,
    prices_on,
)
from retail_datagen.generators.store_formats import STORE_FORMATS
from retail_datagen.geo import haversine_miles
from retail_datagen.money import TAXABILITY_FACTOR, decimal_to_cents
from retail_datagen.rng import substream_seeds, uniform_from_seeds

__all__ = ["FactContext", "build_context"]

_PRICE_DAYS_KEPT = 8  # days of prices a context keeps (units of nearby days share them)


def _col(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _codes(values: np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(vocabulary)}
    return np.array([lookup[v] for v in values.tolist()], dtype=np.int8)


def _index_of(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Row index of each value in the sorted ``ids`` array."""
    return np.searchsorted(ids, values).astype(np.int32)


@dataclass(frozen=True)
class FactContext:
    """Column arrays of the dimensions plus derived lookups (store customer pools, CDFs)."""

    config: RetailConfig
    seed: int
    history_start: date  # first day of the dataset: nothing before it is ever written
    # stores (index i ↔ dim_stores row i)
    store_id: np.ndarray
    store_lat: np.ndarray
    store_lon: np.ndarray
    store_rate_micros: np.ndarray
    store_format: np.ndarray  # code into store_formats.STORE_FORMATS
    store_open: np.ndarray
    store_close: np.ndarray
    store_traffic: np.ndarray
    store_dc: np.ndarray  # DC id
    # customers
    customer_id: np.ndarray
    customer_lat: np.ndarray
    customer_lon: np.ndarray
    customer_segment: np.ndarray  # code into B.SEGMENTS
    customer_home: np.ndarray  # store index
    customer_ble: pa.Array
    customer_ad: pa.Array
    customer_second: np.ndarray  # store index of the second store (any, see the share)
    customer_second_share: np.ndarray  # share of the customer's trips at the second store
    customer_trips_week: np.ndarray  # the customer's own trip frequency (SPEC §6.1)
    # per store: known trips a day at day factor 1 (Σ frequency / 7 × share of the store)
    store_known_demand: np.ndarray
    # products
    product_id: np.ndarray
    product_price: np.ndarray  # INITIAL (regular) price in cents: stable while the range grows
    prices: PricePlan  # the shelf-price history: see prices_on()
    product_department: np.ndarray  # code into department_names
    product_category: np.ndarray  # code into category_names
    product_tax_factor: np.ndarray  # tenths of the store rate
    product_launch: np.ndarray  # date ordinal
    product_refrigerated: np.ndarray
    product_popularity: np.ndarray  # relative, > 0
    department_names: tuple[str, ...]
    category_names: tuple[str, ...]
    # DCs
    dc_id: np.ndarray
    dc_rate_micros: np.ndarray  # tax rate of the store nearest to the DC (online orders)
    dc_index: Mapping[int, int]
    supply: SupplyChain
    disruptions: tuple[Any, ...] = ()  # retail_datagen.disruptions.Disruption, active or not
    # per-context memo of derived data (e.g. a day's online plan); never copied by replace()
    memo: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def n_stores(self) -> int:
        return int(self.store_id.size)

    def launched_mask(self, day: date) -> np.ndarray:
        return self.product_launch <= day.toordinal()

    def customer_ids(self, index: np.ndarray) -> pa.Array:
        """CustomerID per customer index; index -1 (an anonymous shopper) is NULL."""
        index = np.asarray(index, dtype=np.int64)
        anonymous = index < 0
        ids = self.customer_id[np.where(anonymous, 0, index)]
        return pa.array(ids, pa.int32(), mask=anonymous if anonymous.any() else None)

    def prices_on(self, day: date) -> np.ndarray:
        """Shelf price in cents by product index on ``day`` (dim_product_prices), cached."""
        key = ("prices_on", day)
        cached = self.memo.get(key)
        if cached is None:
            held = [k for k in self.memo if isinstance(k, tuple) and k[0] == "prices_on"]
            for old in held[: max(0, len(held) - _PRICE_DAYS_KEPT + 1)]:
                del self.memo[old]
            cached = self.memo[key] = prices_on(self.prices, day)
            cached.setflags(write=False)
        price: np.ndarray = cached
        return price


def _shopping_habits(
    seed: int,
    customer_id: np.ndarray,
    segment: np.ndarray,
    home: np.ndarray,
    second: np.ndarray,
    second_miles: np.ndarray,
    n_stores: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: trips a week (keyed by id, stable) and share of trips at the second store;
    per store: the known trips a day those habits bring at day factor 1."""
    u = uniform_from_seeds(substream_seeds(seed, "shopper_frequency", customer_id))
    lo, hi = B.TRIP_FREQUENCY_SPREAD
    weekly = np.clip(
        B.SEGMENT_TRIPS_PER_WEEK[segment] * (lo + u * (hi - lo)), *B.TRIP_FREQUENCY_BOUNDS
    )
    share = np.where(
        second_miles < B.NEAR_STORE_MILES,
        B.SECOND_STORE_SHARE,
        np.where(second_miles < B.SECOND_STORE_MAX_MILES, B.FAR_SECOND_STORE_SHARE, 0.0),
    )
    daily = weekly / 7.0
    demand = np.bincount(home, weights=daily * (1 - share), minlength=n_stores)
    demand += np.bincount(second, weights=daily * share, minlength=n_stores)
    return weekly, share, demand[:n_stores]


def _second_store(
    lat: np.ndarray, lon: np.ndarray, home: np.ndarray, s_lat: np.ndarray, s_lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest store other than the home store, and its distance (chunked for memory)."""
    n = lat.size
    second = np.zeros(n, dtype=np.int32)
    dist = np.full(n, np.inf)
    if s_lat.size < 2:
        return second, dist
    chunk = 65_536
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        d = haversine_miles(lat[sl, None], lon[sl, None], s_lat[None, :], s_lon[None, :])
        d[np.arange(d.shape[0]), home[sl]] = np.inf
        second[sl] = np.argmin(d, axis=1)
        dist[sl] = d[np.arange(d.shape[0]), second[sl]]
    return second, dist


def build_context(
    config: RetailConfig,
    dims: Mapping[str, pa.Table],
    history_start: date | None = None,
    disruptions: Sequence[Any] = (),
) -> FactContext:
    """Derive every array the fact generators need from the dimension tables.

    ``history_start`` is the dataset's first day (default: ``historical.start_date``);
    ``disruptions`` are the supply-chain disruptions stored with the data folder.
    """
    stores = dims["dim_stores"].sort_by("ID")
    customers = dims["dim_customers"].sort_by("ID")
    products = dims["dim_products"].sort_by("ID")
    dcs = dims["dim_distribution_centers"].sort_by("ID")

    store_id = _col(stores, "ID").astype(np.int32)
    s_lat, s_lon = _col(stores, "Latitude"), _col(stores, "Longitude")
    rate_micros = decimal_to_cents(stores.column("TaxRate")) * 10  # 5 places → millionths

    c_lat, c_lon = _col(customers, "Latitude"), _col(customers, "Longitude")
    home = _index_of(store_id, _col(customers, "HomeStoreID"))
    second, second_dist = _second_store(c_lat, c_lon, home, s_lat, s_lon)
    customer_id = _col(customers, "ID").astype(np.int32)
    segment = _codes(_col(customers, "Segment"), B.SEGMENTS)
    weekly, second_share, known_demand = _shopping_habits(
        config.seed, customer_id, segment, home, second, second_dist, store_id.size
    )

    departments = tuple(sorted(set(products.column("Department").to_pylist())))
    categories = tuple(sorted(set(products.column("Category").to_pylist())))
    dep_codes = _codes(_col(products, "Department"), departments).astype(np.int16)
    cat_codes = np.searchsorted(np.array(categories), _col(products, "Category")).astype(np.int16)
    taxability = _col(products, "Taxability")
    tax_factor = np.zeros(taxability.size, dtype=np.int64)
    for name, factor in TAXABILITY_FACTOR.items():
        tax_factor[taxability == name] = factor
    launch = products.column("LaunchDate").cast(pa.int32()).to_numpy() + EPOCH_ORDINAL
    product_id = _col(products, "ID").astype(np.int32)
    popularity = B.product_popularity(config.seed, product_id)
    start = history_start or config.historical.start_date
    initial = initial_prices(products, dims.get("dim_product_prices"))

    dc_id = _col(dcs, "ID").astype(np.int32)
    d_lat, d_lon = _col(dcs, "Latitude"), _col(dcs, "Longitude")
    nearest_store = np.argmin(
        haversine_miles(d_lat[:, None], d_lon[:, None], s_lat[None, :], s_lon[None, :]), axis=1
    )

    return FactContext(
        config=config,
        seed=config.seed,
        history_start=start,
        store_id=store_id,
        store_lat=s_lat,
        store_lon=s_lon,
        store_rate_micros=rate_micros.astype(np.int64),
        store_format=_codes(_col(stores, "StoreFormat"), STORE_FORMATS),
        store_open=_col(stores, "OpenHour").astype(np.int32),
        store_close=_col(stores, "CloseHour").astype(np.int32),
        store_traffic=_col(stores, "TrafficMultiplier").astype(np.float64),
        store_dc=_col(stores, "DCID").astype(np.int32),
        customer_id=customer_id,
        customer_lat=c_lat,
        customer_lon=c_lon,
        customer_segment=segment,
        customer_home=home,
        customer_ble=customers.column("BLEId").combine_chunks(),
        customer_ad=customers.column("AdId").combine_chunks(),
        customer_second=second,
        customer_second_share=second_share,
        customer_trips_week=weekly,
        store_known_demand=known_demand,
        product_id=product_id,
        product_price=initial,
        prices=price_plan(config.seed, products, start, initial),
        product_department=dep_codes,
        product_category=cat_codes,
        product_tax_factor=tax_factor,
        product_launch=launch.astype(np.int64),
        product_refrigerated=_col(products, "RequiresRefrigeration").astype(bool),
        product_popularity=popularity,
        department_names=departments,
        category_names=categories,
        dc_id=dc_id,
        dc_rate_micros=rate_micros[nearest_store].astype(np.int64),
        dc_index={int(d): i for i, d in enumerate(dc_id.tolist())},
        supply=build_supply_chain(
            config,
            dims,
            _col(stores, "DCID"),
            s_lat,
            s_lon,
            cat_codes.astype(np.int64),
            len(categories),
        ),
        disruptions=tuple(disruptions),
    )
