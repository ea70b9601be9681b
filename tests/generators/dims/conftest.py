"""Helpers shared by the dimension tests (import them from ``tests.generators.dims.conftest``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retail_datagen.generators.dims.geo import haversine_miles


def assert_stores_served_by_the_nearest_dc(built: dict[str, pa.Table]) -> None:
    """Stores stand only in states with a DC, and each is served by its nearest DC."""
    geo_state = dict(zip(built["dim_geographies"]["ID"].to_pylist(),
                         built["dim_geographies"]["State"].to_pylist(), strict=True))  # fmt: skip
    dcs, stores = built["dim_distribution_centers"], built["dim_stores"]
    dc_states = {geo_state[g] for g in dcs["GeographyID"].to_pylist()}
    assert {geo_state[g] for g in stores["GeographyID"].to_pylist()} <= dc_states
    distance = haversine_miles(
        stores["Latitude"].to_numpy()[:, None],
        stores["Longitude"].to_numpy()[:, None],
        dcs["Latitude"].to_numpy()[None, :],
        dcs["Longitude"].to_numpy()[None, :],
    )
    serving = stores["DCID"].to_numpy() - 1
    assert np.allclose(distance[np.arange(stores.num_rows), serving], distance.min(axis=1))
