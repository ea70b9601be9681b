"""The supply chain as arrays: regions, starting stock, reorder points, fleets, travel times.

A region is a DC and the stores it serves; it is the unit that carries stock from day to day,
because a store's deliveries depend on its DC's stock and the DC's on all its stores' orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.facts.stock_policy import (
    review_days,
    store_daily_units,
    supplier_split,
)
from retail_datagen.geo import haversine_miles
from retail_datagen.rng import substream_seeds, uniform_from_seeds

__all__ = [
    "SupplyChain",
    "build_supply_chain",
    "region_stores",
    "supplier_travel_hours",
    "travel_hours",
]

ROAD_MPH = 45.0  # average truck speed, road distance ≈ great-circle × 1.2
ROAD_FACTOR = 1.2
TRAVEL_HOURS = (2.0, 12.0)  # SPEC §11
SUPPLIER_TRAVEL_HOURS = (3.0, 9.0)


@dataclass(frozen=True)
class Fleet:
    truck_id: np.ndarray  # dim_trucks IDs
    refrigerated: np.ndarray  # bool


@dataclass(frozen=True)
class SupplyChain:
    region_stores: tuple[np.ndarray, ...]  # per DC index: its store indices (ascending)
    store_region: np.ndarray  # per store: DC index
    store_travel_h: np.ndarray  # per store: hours from its DC
    supplier_travel_h: np.ndarray  # per DC: hours from its suppliers
    store_initial: np.ndarray  # (stores, products) starting on-hand
    store_review: np.ndarray  # per store: days between its deliveries (stock_policy)
    dc_initial: np.ndarray  # (dcs, products)
    dc_fleet: tuple[Fleet, ...]  # per DC index
    supplier_fleet: tuple[Fleet, ...]  # per DC index (the supplier pool split by DC)
    capacity: int
    category_products: tuple[np.ndarray, ...]  # per category code: product indices

    @property
    def n_regions(self) -> int:
        return len(self.region_stores)


def _matrix(
    snapshot: pa.Table | None, node: str, nodes: np.ndarray, products: np.ndarray
) -> np.ndarray:
    """Snapshot rows as a (node, product) matrix of quantities (zeros without a snapshot: the
    snapshots are themselves sized from a context built before them)."""
    shape = (nodes.size, products.size)
    if snapshot is None:
        return np.zeros(shape, np.int32)
    rows = snapshot.sort_by([(node, "ascending"), ("ProductID", "ascending")])
    quantity = rows.column("CurrentQuantity").to_numpy().astype(np.int32)
    if quantity.size != shape[0] * shape[1]:
        raise ValueError(f"{node} snapshot does not cover every node and product")
    out: np.ndarray = quantity.reshape(shape)
    return out


def travel_hours(
    store_lat: np.ndarray, store_lon: np.ndarray, dcs: pa.Table, region: np.ndarray
) -> np.ndarray:
    """Hours from each store's DC (``region``: index into ``dcs`` sorted by ID) to the store."""
    d_lat = dcs.column("Latitude").to_numpy()[region]
    d_lon = dcs.column("Longitude").to_numpy()[region]
    miles = haversine_miles(store_lat, store_lon, d_lat, d_lon) * ROAD_FACTOR
    hours: np.ndarray = np.clip(miles / ROAD_MPH, *TRAVEL_HOURS)
    return hours


def supplier_travel_hours(seed: int, dc_ids: np.ndarray) -> np.ndarray:
    """Hours from each DC (IDs ascending) to its suppliers, a keyed draw per DC."""
    u = uniform_from_seeds(substream_seeds(seed, "supplier_travel", dc_ids))
    hours: np.ndarray = SUPPLIER_TRAVEL_HOURS[0] + u * np.diff(SUPPLIER_TRAVEL_HOURS)[0]
    return hours


def _fleets(
    trucks: pa.Table, dc_ids: np.ndarray, supplier_need: tuple[np.ndarray, np.ndarray] | None
) -> tuple[Fleet, ...]:
    """DC trucks by their DC; with ``supplier_need`` (units, travel hours per DC) the supplier
    pool, split by what each DC's inbound needs."""
    kind = np.array(trucks.column("TruckType").to_pylist())
    ids = trucks.column("ID").to_numpy()
    refrigerated = trucks.column("Refrigeration").to_numpy(zero_copy_only=False).astype(bool)
    if supplier_need is not None:
        sel = np.flatnonzero(kind == "SUPPLIER")
        owner = supplier_split(refrigerated[sel], *supplier_need)
    else:
        sel = np.flatnonzero(kind == "DC")
        home = trucks.column("DCID").to_numpy(zero_copy_only=False)[sel]
        owner = np.searchsorted(dc_ids, home)
    return tuple(
        Fleet(ids[sel[owner == d]].astype(np.int32), refrigerated[sel[owner == d]])
        for d in range(dc_ids.size)
    )


def region_stores(dims: Mapping[str, pa.Table]) -> tuple[np.ndarray, ...]:
    """Per DC index (DCs by ID): the indices of the stores it serves (stores by ID)."""
    store_dc = dims["dim_stores"].sort_by("ID").column("DCID").to_numpy()
    dc_ids = dims["dim_distribution_centers"].sort_by("ID").column("ID").to_numpy()
    region = np.searchsorted(dc_ids, store_dc)
    return tuple(np.flatnonzero(region == r) for r in range(dc_ids.size))


def build_supply_chain(
    config: RetailConfig,
    dims: Mapping[str, pa.Table],
    store_dc: np.ndarray,
    store_lat: np.ndarray,
    store_lon: np.ndarray,
    product_category: np.ndarray,
    n_categories: int,
) -> SupplyChain:
    stores = dims["dim_stores"].sort_by("ID")
    dcs = dims["dim_distribution_centers"].sort_by("ID")
    products = dims["dim_products"].sort_by("ID")
    store_ids = stores.column("ID").to_numpy()
    dc_ids = dcs.column("ID").to_numpy()
    product_ids = products.column("ID").to_numpy()

    region = np.searchsorted(dc_ids, store_dc).astype(np.int32)
    travel = travel_hours(store_lat, store_lon, dcs, region)
    supplier_travel = supplier_travel_hours(config.seed, dc_ids)

    store_initial = _matrix(
        dims.get("dim_store_inventory_snapshots"), "StoreID", store_ids, product_ids
    )
    dc_initial = _matrix(dims.get("dim_dc_inventory_snapshots"), "DCID", dc_ids, product_ids)
    trucks = dims["dim_trucks"].sort_by("ID")
    v = config.volume
    units = store_daily_units(v, stores)
    order = np.argsort(product_category, kind="stable")
    bounds = np.searchsorted(product_category[order], np.arange(n_categories + 1))
    return SupplyChain(
        region_stores=region_stores(dims),
        store_region=region,
        store_travel_h=travel,
        supplier_travel_h=supplier_travel,
        store_initial=store_initial,
        store_review=review_days(units, v.truck_capacity),
        dc_initial=dc_initial,
        dc_fleet=_fleets(trucks, dc_ids, None),
        supplier_fleet=_fleets(
            trucks, dc_ids, (np.bincount(region, units, dc_ids.size), supplier_travel)
        ),
        capacity=v.truck_capacity,
        category_products=tuple(order[bounds[c] : bounds[c + 1]] for c in range(n_categories)),
    )
