"""Master data: build every dimension (a short recipe over ``generators/dims``) and save it.

``build_dimensions`` is pure — configuration and dictionaries in, Arrow tables out, in the order
of ``schema.DIMENSIONS`` — so tests, benchmarks and the API can use it without touching disk;
``MasterDataGenerator`` adds saving (DuckDB + Parquet) and progress reporting.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from retail_datagen import schema
from retail_datagen.config.models import PathsConfig, RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader
from retail_datagen.errors import ConfigError
from retail_datagen.generators.dims.customers import generate_customers
from retail_datagen.generators.dims.dates import generate_dates
from retail_datagen.generators.dims.distribution_centers import generate_distribution_centers
from retail_datagen.generators.dims.geographies import (
    check_geography_count,
    generate_geographies,
    geography_populations,
)
from retail_datagen.generators.dims.inventory_snapshots import (
    expected_store_velocity,
    generate_dc_inventory_snapshots,
    generate_store_inventory_snapshots,
)
from retail_datagen.generators.dims.product_prices import generate_product_prices
from retail_datagen.generators.dims.products import generate_products
from retail_datagen.generators.dims.stores import generate_stores
from retail_datagen.generators.dims.trucks import generate_trucks
from retail_datagen.storage.dimension_store import save_dimensions

__all__ = [
    "MasterDataGenerator",
    "Progress",
    "build_dimensions",
    "check_config_against_dictionaries",
    "default_loader",
]

Progress = Callable[[str, int, int], None]
"""Called after each table with (table name, 1-based index, number of tables)."""

Step = Callable[[dict[str, pa.Table]], pa.Table]


def default_loader(config: RetailConfig) -> DictionaryLoader:
    """The user's dictionary folder when it exists, else the dictionaries shipped in the package.

    A folder other than the default must exist: silently falling back would hide a typo.
    """
    folder = Path(config.paths.dictionaries).expanduser()
    if folder.is_dir():
        return DictionaryLoader(folder)
    if config.paths.dictionaries != PathsConfig().dictionaries:
        raise ConfigError(
            f"paths.dictionaries = {config.paths.dictionaries!r}: folder {folder} does not exist; "
            "create it with the dictionary CSV files or remove the key to use the shipped ones"
        )
    return DictionaryLoader()


def check_config_against_dictionaries(config: RetailConfig, loader: DictionaryLoader) -> None:
    """Configuration rules that depend on dictionary sizes, checked before any work starts."""
    check_geography_count(config, loader.geographies().num_rows)


def build_dimensions(
    config: RetailConfig,
    loader: DictionaryLoader | None = None,
    *,
    progress: Progress | None = None,
) -> dict[str, pa.Table]:
    """Every table of ``schema.DIMENSIONS``, in that order, keyed by table name."""
    d = loader or default_loader(config)
    check_config_against_dictionaries(config, d)

    def populations(t: dict[str, pa.Table]) -> np.ndarray:
        return geography_populations(t["dim_geographies"], d.geographies())

    expected: list[np.ndarray] = []

    def velocity(t: dict[str, pa.Table]) -> np.ndarray:
        """Expected store sales on the start date, which size both snapshots (computed once)."""
        if not expected:
            expected.append(expected_store_velocity(config, t))
        return expected[0]

    recipe: dict[str, Step] = {
        "dim_geographies": lambda t: generate_geographies(config, d.geographies()),
        "dim_distribution_centers": lambda t: generate_distribution_centers(
            config, t["dim_geographies"], populations(t)
        ),
        "dim_stores": lambda t: generate_stores(
            config,
            t["dim_geographies"],
            populations(t),
            t["dim_distribution_centers"],
            d.tax_rates(),
        ),
        "dim_trucks": lambda t: generate_trucks(
            config, t["dim_distribution_centers"], t["dim_stores"]
        ),
        "dim_customers": lambda t: generate_customers(
            config, t["dim_stores"], d.first_names(), d.last_names()
        ),
        "dim_products": lambda t: generate_products(config, d.products(), d.product_brands()),
        "dim_product_prices": lambda t: generate_product_prices(config, t["dim_products"]),
        "dim_date": lambda t: generate_dates(config),
        "dim_store_inventory_snapshots": lambda t: generate_store_inventory_snapshots(
            config, t["dim_stores"], t["dim_products"], velocity(t)
        ),
        "dim_dc_inventory_snapshots": lambda t: generate_dc_inventory_snapshots(
            config, t["dim_distribution_centers"], t["dim_products"], t["dim_stores"], velocity(t)
        ),
    }
    if list(recipe) != [table.name for table in schema.DIMENSIONS]:
        raise RuntimeError("the dimension recipe is out of step with schema.DIMENSIONS")

    tables: dict[str, pa.Table] = {}
    for index, (name, step) in enumerate(recipe.items(), start=1):
        tables[name] = step(tables)
        if progress is not None:
            progress(name, index, len(recipe))
    return tables


class MasterDataGenerator:
    """Generate all master data for a configuration and store it in the data folder."""

    def __init__(self, config: RetailConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress

    def generate_all_master_data(self, *, force: bool = False) -> dict[str, int]:
        """Build and save every dimension; returns the row count per table.

        Refuses (``DataStateError``) when fact data exists, unless ``force`` removes it first.
        """
        tables = build_dimensions(self.config, progress=self.progress)
        save_dimensions(Path(self.config.paths.data), tables, force=force)
        return {name: table.num_rows for name, table in tables.items()}
