"""dim_trucks: the DC fleet (assigned to DCs) and the supplier fleet (no DC, DCID NULL).

DC trucks go where the work is. By default (a count left null) each DC gets the trucks its
stores' deliveries need (``stock_policy.fleet_size``: the legs a day brings, their handling and
drive there and back). An explicit count wins: each DC gets one truck of a kind (refrigerated,
dry) when the counts allow, and the rest in proportion to the traffic of the stores it serves
(largest remainder). Without stores the fleet is dealt round-robin. The supplier fleet is
likewise sized from the DCs' inbound (``stock_policy.supplier_fleet_size``) for a count left
null; without stores a null supplier count is one dry truck per DC. Plates are unique by
construction: each truck takes a distinct code from a keyed permutation of the plate space of
two common US styles.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.allocation import deal
from retail_datagen.generators.dims.identifiers import keyed_permutation, letters_and_digits
from retail_datagen.generators.facts.stock_policy import (
    fleet_size,
    store_daily_units,
    supplier_fleet_size,
)
from retail_datagen.generators.facts.supply import supplier_travel_hours, travel_hours
from retail_datagen.schema.tables import DIM_TRUCKS

__all__ = ["PLATE_STYLES", "generate_trucks"]

# Plate styles (pattern, number of plates): "7KDX482" and "ABC-1234".
PLATE_STYLES: tuple[tuple[str, int], ...] = (
    ("1AAA999", 9 * 26**3 * 10**3),
    ("AAA-9999", 26**3 * 10**4),
)
_PLATE_RADICES = (26**3, 19_000)  # a x b = the size of both styles together
assert _PLATE_RADICES[0] * _PLATE_RADICES[1] == sum(size for _, size in PLATE_STYLES)


def _dc_fleet(
    config: RetailConfig, dcs: pa.Table, stores: pa.Table
) -> tuple[np.ndarray, np.ndarray]:
    """(DC ID, refrigerated) of every DC truck, refrigerated ones first: sized from the network
    for a count left null, else dealt by the traffic each DC serves."""
    v = config.volume
    dc_ids = dcs.column("ID").to_numpy()
    n = dc_ids.size
    region = np.searchsorted(dc_ids, stores.column("DCID").to_numpy())
    if v.refrigerated_trucks is None or v.non_refrigerated_trucks is None:
        travel = travel_hours(
            stores.column("Latitude").to_numpy(), stores.column("Longitude").to_numpy(), dcs, region
        )
        sized = fleet_size(store_daily_units(v, stores), travel, region, n, v.truck_capacity)
    weight = np.bincount(region, stores.column("TrafficMultiplier").to_numpy(), n) + 1e-9
    cold = (
        sized[0]
        if v.refrigerated_trucks is None
        else deal(v.refrigerated_trucks, weight, np.zeros(n, np.int64))
    )
    dry = (
        sized[1]
        if v.non_refrigerated_trucks is None
        else deal(v.non_refrigerated_trucks, weight, cold)
    )
    home = np.concatenate([np.repeat(dc_ids, cold), np.repeat(dc_ids, dry)])
    return home, np.arange(home.size) < cold.sum()


def _supplier_fleet(
    config: RetailConfig, dcs: pa.Table, stores: pa.Table | None
) -> tuple[int, int]:
    """(refrigerated, dry) supplier trucks: explicit counts, else sized from the DCs' inbound."""
    v = config.volume
    dc_ids = dcs.column("ID").to_numpy()
    if (
        v.supplier_refrigerated_trucks is not None
        and v.supplier_non_refrigerated_trucks is not None
    ):
        return v.supplier_refrigerated_trucks, v.supplier_non_refrigerated_trucks
    if stores is None:
        sized = (0, dc_ids.size)
    else:
        region = np.searchsorted(dc_ids, stores.column("DCID").to_numpy())
        units = np.bincount(region, store_daily_units(v, stores), dc_ids.size)
        travel = supplier_travel_hours(config.seed, dc_ids)
        sized = supplier_fleet_size(units, travel, v.truck_capacity)
    cold = sized[0] if v.supplier_refrigerated_trucks is None else v.supplier_refrigerated_trucks
    dry = (
        sized[1]
        if v.supplier_non_refrigerated_trucks is None
        else v.supplier_non_refrigerated_trucks
    )
    return cold, dry


def generate_trucks(
    config: RetailConfig, distribution_centers: pa.Table, stores: pa.Table | None = None
) -> pa.Table:
    """DC fleet first (IDs 1..F, TruckType DC), then the supplier fleet (TruckType SUPPLIER).

    Without ``stores`` a fleet left to be sized gets one dry truck per DC (either fleet)."""
    v = config.volume
    dcs = distribution_centers.sort_by("ID")
    dc_ids = dcs.column("ID").to_numpy()
    if stores is None:
        cold_n = v.refrigerated_trucks or 0
        dry_n = dc_ids.size if v.non_refrigerated_trucks is None else v.non_refrigerated_trucks
        home_dc = dc_ids[np.arange(cold_n + dry_n) % dc_ids.size]
        cold_mask = np.arange(home_dc.size) < cold_n
    else:
        home_dc, cold_mask = _dc_fleet(config, dcs, stores)
    supplier_cold, supplier_dry = _supplier_fleet(config, dcs, stores)
    refrigerated = np.concatenate(
        [cold_mask, np.ones(supplier_cold, bool), np.zeros(supplier_dry, bool)]
    )
    fleet = home_dc.size
    n = refrigerated.size
    table = pa.table(
        {
            "ID": pa.array(np.arange(1, n + 1), pa.int32()),
            "LicensePlate": _plates(config.seed, n),
            "Refrigeration": pa.array(refrigerated),
            "DCID": pa.array(
                np.concatenate([home_dc, np.zeros(n - fleet, dc_ids.dtype)]),
                pa.int32(),
                mask=np.arange(n) >= fleet,
            ),
            "TruckType": pa.array(["DC", "SUPPLIER"]).take(pa.array((np.arange(n) >= fleet) * 1)),
            "Capacity": pa.array(np.full(n, v.truck_capacity), pa.int32()),
        }
    )
    return schema.normalise(DIM_TRUCKS, table)


def _plates(seed: int, n: int) -> pa.Array:
    """``n`` distinct plates: row i gets code permute(i), rendered in the style it falls into."""
    codes = keyed_permutation(seed, "dim_trucks.plate", np.arange(n), _PLATE_RADICES)
    first_style_size = PLATE_STYLES[0][1]
    first = codes < first_style_size
    styles = [
        letters_and_digits(np.where(first, codes, 0), PLATE_STYLES[0][0]),
        letters_and_digits(np.where(first, 0, codes - first_style_size), PLATE_STYLES[1][0]),
    ]
    return pc.if_else(pa.array(first), *styles)
