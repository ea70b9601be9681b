"""dim_geographies: places sampled from the geography dictionary, weighted by population.

Sampling favours larger places (that is where a chain has its stores), without replacement, and
keeps the dictionary's order for readable IDs 1..N.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retail_datagen import rng, schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import ConfigError
from retail_datagen.schema.tables import DIM_GEOGRAPHIES

__all__ = ["check_geography_count", "generate_geographies", "geography_populations"]

_COLUMNS = ("City", "State", "ZipCode", "District", "Region", "Latitude", "Longitude")
_PLACE_KEY = ("City", "State", "ZipCode")


def check_geography_count(config: RetailConfig, dictionary_rows: int) -> None:
    """Fail early, naming the key, when more places are asked for than the dictionary has."""
    wanted = config.volume.total_geographies
    if wanted > dictionary_rows:
        raise ConfigError(
            f"volume.total_geographies = {wanted}: the geography dictionary has only "
            f"{dictionary_rows} rows; lower the value or add places to geographies.csv"
        )


def generate_geographies(config: RetailConfig, dictionary: pa.Table) -> pa.Table:
    """``total_geographies`` places, drawn without replacement with probability ~ population."""
    check_geography_count(config, dictionary.num_rows)
    n = config.volume.total_geographies
    population = np.maximum(dictionary.column("Population").to_numpy().astype(np.float64), 1.0)
    # Efraimidis-Spirakis: the n smallest exponential clocks with rate ~ weight.
    clocks = rng.stream(config.seed, "dim_geographies.sample").exponential(size=population.size)
    chosen = np.sort(np.argsort(clocks / population, kind="stable")[:n])
    picked = dictionary.select(list(_COLUMNS)).take(pa.array(chosen))
    ids = pa.array(np.arange(1, n + 1, dtype=np.int32))
    return schema.normalise(DIM_GEOGRAPHIES, picked.add_column(0, "ID", ids))


def geography_populations(geographies: pa.Table, dictionary: pa.Table) -> np.ndarray:
    """Population of each dim_geographies row (by City, State, ZipCode), for placement weights.

    At least 1 per place, so a place of population 0 can still be drawn when it is all there is.
    """
    keys = zip(*(dictionary.column(c).to_pylist() for c in _PLACE_KEY), strict=True)
    by_place = dict(zip(keys, dictionary.column("Population").to_pylist(), strict=True))
    rows = zip(*(geographies.column(c).to_pylist() for c in _PLACE_KEY), strict=True)
    return np.array([max(float(by_place.get(row, 1)), 1.0) for row in rows], dtype=np.float64)
