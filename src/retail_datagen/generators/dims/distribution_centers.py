"""dim_distribution_centers: placed first, one per state where possible, in larger places.

States are visited in a population-weighted random order, so the first DCs land in the biggest
markets and every DC gets its own state until states run out; within a state the place is drawn
by population, preferring places without a DC yet. DCs sit a few miles outside the place centre.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retail_datagen import ids, rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.dims.addresses import street_addresses
from retail_datagen.geo import offset_points
from retail_datagen.schema.tables import DIM_DISTRIBUTION_CENTERS

__all__ = ["DC_OFFSET_MILES", "generate_distribution_centers"]

DC_OFFSET_MILES = (2.0, 8.0)  # distance from the place centre (edge-of-town logistics parks)


def generate_distribution_centers(
    config: RetailConfig, geographies: pa.Table, populations: np.ndarray
) -> pa.Table:
    """``volume.dcs`` DCs placed in distinct states where possible, weighted toward big places."""
    n = config.volume.dcs
    placement = rng.stream(config.seed, "dim_distribution_centers.placement")
    states = np.asarray(geographies.column("State").to_pylist(), dtype=object)
    state_names, state_of_place = np.unique(states, return_inverse=True)
    state_population = np.bincount(state_of_place, weights=populations)
    clocks = placement.exponential(size=state_names.size) / state_population
    state_order = np.argsort(clocks, kind="stable")

    used = np.zeros(populations.size, dtype=bool)
    chosen = np.empty(n, dtype=np.int64)
    for i in range(n):  # at most a few hundred DCs
        in_state = state_of_place == state_order[i % state_order.size]
        candidates = in_state & ~used if (in_state & ~used).any() else in_state
        weights = np.where(candidates, populations, 0.0)
        chosen[i] = placement.choice(populations.size, p=weights / weights.sum())
        used[chosen[i]] = True

    where = rng.stream(config.seed, "dim_distribution_centers.location")
    distance = where.uniform(*DC_OFFSET_MILES, size=n)
    bearing = where.uniform(0.0, 2 * np.pi, size=n)
    lat, lon = offset_points(
        geographies.column("Latitude").to_numpy()[chosen],
        geographies.column("Longitude").to_numpy()[chosen],
        distance,
        bearing,
    )
    dc_ids = np.arange(1, n + 1)
    table = pa.table(
        {
            "ID": pa.array(dc_ids, pa.int32()),
            "DCNumber": ids.compose(n, ["DC", (dc_ids, max(3, len(str(n))))]),
            "Address": street_addresses(
                rng.stream(config.seed, "dim_distribution_centers.address"), n
            ),
            "GeographyID": geographies.column("ID").take(pa.array(chosen)),
            "Latitude": pa.array(lat),
            "Longitude": pa.array(lon),
        }
    )
    return schema.normalise(DIM_DISTRIBUTION_CENTERS, table)
