"""dim_store_inventory_snapshots / dim_dc_inventory_snapshots: the starting stock.

One row per node x product, at ``historical.start_date`` 00:00; the simulation starts from it.
CurrentQuantity is uniform in the configured [min, max] range; ReorderPoint is 20–35 % of the
typical (mid-range) stock level.

Products launched after the start date: stores hold 0 of them (they reach the shelves through
replenishment once launched, so nothing sits on a shelf for months before launch), while DCs
already hold their starting stock (staged by suppliers ahead of launch).
"""

from __future__ import annotations

from datetime import datetime, time

import numpy as np
import pyarrow as pa

from retail_datagen import rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.schema.registry import Table
from retail_datagen.schema.tables import DIM_DC_INVENTORY_SNAPSHOTS, DIM_STORE_INVENTORY_SNAPSHOTS

__all__ = [
    "REORDER_POINT_SHARE",
    "generate_dc_inventory_snapshots",
    "generate_store_inventory_snapshots",
]

REORDER_POINT_SHARE = (0.20, 0.35)  # of the typical stock level


def generate_store_inventory_snapshots(
    config: RetailConfig, stores: pa.Table, products: pa.Table
) -> pa.Table:
    """Starting stock of every product in every store (0 for products not yet launched)."""
    v = config.volume
    return _snapshot(
        config,
        DIM_STORE_INVENTORY_SNAPSHOTS,
        stores.column("ID").to_numpy(),
        products,
        (v.store_initial_inventory_min, v.store_initial_inventory_max),
        empty_before_launch=True,
    )


def generate_dc_inventory_snapshots(
    config: RetailConfig, distribution_centers: pa.Table, products: pa.Table
) -> pa.Table:
    """Starting stock of every product in every DC."""
    v = config.volume
    return _snapshot(
        config,
        DIM_DC_INVENTORY_SNAPSHOTS,
        distribution_centers.column("ID").to_numpy(),
        products,
        (v.dc_initial_inventory_min, v.dc_initial_inventory_max),
        empty_before_launch=False,
    )


def _snapshot(
    config: RetailConfig,
    table: Table,
    node_ids: np.ndarray,
    products: pa.Table,
    quantity_range: tuple[int, int],
    *,
    empty_before_launch: bool,
) -> pa.Table:
    start = config.historical.start_date
    product_ids = products.column("ID").to_numpy()
    rows = node_ids.size * product_ids.size
    draws = rng.stream(config.seed, f"{table.name}.stock")
    low, high = quantity_range
    quantity = draws.integers(low, high + 1, size=rows, dtype=np.int32)
    if empty_before_launch:
        launch = products.column("LaunchDate").to_numpy().astype("datetime64[D]")
        quantity[np.tile(launch > np.datetime64(start, "D"), node_ids.size)] = 0
    typical = (low + high) / 2
    reorder = np.rint(typical * draws.uniform(*REORDER_POINT_SHARE, size=rows)).astype(np.int32)
    midnight = np.datetime64(datetime.combine(start, time()), "us")
    data = pa.table(
        {
            table.columns[0].name: pa.array(np.repeat(node_ids, product_ids.size), pa.int32()),
            "ProductID": pa.array(np.tile(product_ids, node_ids.size), pa.int32()),
            "CurrentQuantity": pa.array(quantity),
            "ReorderPoint": pa.array(reorder),
            "LastUpdated": pa.array(np.full(rows, midnight)),
        }
    )
    return schema.normalise(table, data)
