"""dim_store_inventory_snapshots / dim_dc_inventory_snapshots: the starting stock.

One row per node x product, at ``historical.start_date`` 00:00; the simulation starts from it.
The snapshot holds what the replenishment policy holds in its steady state (stock_policy): each
node-product lies between its reorder point and its order-up-to level at the expected sales of
the start date, so stock neither drains nor piles up once the simulation runs. At the defaults
the median store carries about two and a half weeks of its sales (fast sellers a few days, slow
ones their presentation stock), a DC several weeks of its stores'. CurrentQuantity stays inside
the configured [min, max] range, except a DC's fast sellers, which start at their policy level
so the DC serves its stores from the first day; ReorderPoint is the policy's reorder point.

Products launched after the start date: stores hold 0 of them (they reach the shelves through
replenishment shortly before launch), while DCs already hold their starting stock (staged by
suppliers ahead of launch).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time

import numpy as np
import pyarrow as pa

from retail_datagen import rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.facts.baskets import expected_daily_units
from retail_datagen.generators.facts.context import build_context
from retail_datagen.generators.facts.stock_policy import (
    dc_levels,
    review_days,
    starting_stock,
    store_daily_units,
    store_levels,
)
from retail_datagen.schema.registry import Table
from retail_datagen.schema.tables import DIM_DC_INVENTORY_SNAPSHOTS, DIM_STORE_INVENTORY_SNAPSHOTS

__all__ = [
    "expected_store_velocity",
    "generate_dc_inventory_snapshots",
    "generate_store_inventory_snapshots",
]


def expected_store_velocity(config: RetailConfig, dims: Mapping[str, pa.Table]) -> np.ndarray:
    """Units of each product (by ID) each store (by ID) sells on the start date: the demand the
    snapshots are sized for, from a context built over the dimensions made so far."""
    ctx = build_context(config, dims)
    stores = np.arange(ctx.store_id.size)
    velocity: np.ndarray = expected_daily_units(ctx, stores, config.historical.start_date)
    return velocity


def generate_store_inventory_snapshots(
    config: RetailConfig, stores: pa.Table, products: pa.Table, velocity: np.ndarray
) -> pa.Table:
    """Starting stock of every product in every store (0 for products not yet launched);
    ``velocity`` is stores (by ID) × products (by ID), units a day."""
    v = config.volume
    stores = stores.sort_by("ID")
    review = review_days(store_daily_units(v, stores), v.truck_capacity)
    rop, up_to = store_levels(velocity, review, v.store_initial_inventory_min)
    launch = products.sort_by("ID").column("LaunchDate").to_numpy().astype("datetime64[D]")
    unlaunched = launch > np.datetime64(config.historical.start_date, "D")
    return _snapshot(
        config,
        DIM_STORE_INVENTORY_SNAPSHOTS,
        stores.column("ID").to_numpy(),
        products,
        (rop, up_to),
        (v.store_initial_inventory_min, v.store_initial_inventory_max),
        empty=unlaunched,
    )


def generate_dc_inventory_snapshots(
    config: RetailConfig,
    distribution_centers: pa.Table,
    products: pa.Table,
    stores: pa.Table,
    store_velocity: np.ndarray,
) -> pa.Table:
    """Starting stock of every product in every DC, sized for the stores it serves."""
    v = config.volume
    dcs = distribution_centers.sort_by("ID")
    dc_ids = dcs.column("ID").to_numpy()
    region = np.searchsorted(dc_ids, stores.sort_by("ID").column("DCID").to_numpy())
    velocity = np.zeros((dc_ids.size, store_velocity.shape[1]))
    np.add.at(velocity, region, store_velocity)
    return _snapshot(
        config,
        DIM_DC_INVENTORY_SNAPSHOTS,
        dc_ids,
        products,
        dc_levels(velocity, v.dc_initial_inventory_min),
        (v.dc_initial_inventory_min, v.dc_initial_inventory_max),
        empty=None,
        cap_fast_sellers=False,  # a DC serving many stores needs more than the maximum of them
    )


def _snapshot(
    config: RetailConfig,
    table: Table,
    node_ids: np.ndarray,
    products: pa.Table,
    levels: tuple[np.ndarray, np.ndarray],
    quantity_range: tuple[int, int],
    *,
    empty: np.ndarray | None,
    cap_fast_sellers: bool = True,
) -> pa.Table:
    start = config.historical.start_date
    product_ids = products.sort_by("ID").column("ID").to_numpy()
    rows = node_ids.size * product_ids.size
    draws = rng.stream(config.seed, f"{table.name}.stock")
    rop, up_to = levels
    held = starting_stock(rop, up_to, draws.random(rop.shape))
    low, high = quantity_range
    if not cap_fast_sellers:  # a DC's fast sellers hold their policy level, above the maximum
        high = np.maximum(high, held)
    quantity = np.clip(held, low, high).astype(np.int32)
    if empty is not None:
        quantity[:, empty] = 0
    midnight = np.datetime64(datetime.combine(start, time()), "us")
    data = pa.table(
        {
            table.columns[0].name: pa.array(np.repeat(node_ids, product_ids.size), pa.int32()),
            "ProductID": pa.array(np.tile(product_ids, node_ids.size), pa.int32()),
            "CurrentQuantity": pa.array(quantity.reshape(-1)),
            "ReorderPoint": pa.array(rop.reshape(-1).astype(np.int32)),
            "LastUpdated": pa.array(np.full(rows, midnight)),
        }
    )
    return schema.normalise(table, data)
