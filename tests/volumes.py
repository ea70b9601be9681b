"""The small chain the tests generate: one definition, each test naming only what it changes.

``small_volume()`` is 5 stores, 2 DCs, 30 geographies, 1,500 customers and 400 products at a
quiet daily rate: a few days of it take seconds with one worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator

SMALL_VOLUME: dict[str, int] = {
    "stores": 5,
    "dcs": 2,
    "total_geographies": 30,
    "total_customers": 1500,
    "total_products": 400,
    "customers_per_day": 80,
    "online_orders_per_day": 120,
    "marketing_impressions_per_day": 1500,
}


def small_volume(**overrides: int) -> dict[str, int]:
    """A fresh copy of ``SMALL_VOLUME`` with ``overrides`` on top."""
    return {**SMALL_VOLUME, **overrides}


# the small chain every streamer test simulates (4 stores, 2 DCs)
STREAM_VOLUME = small_volume(
    stores=4, customers_per_day=60, online_orders_per_day=100, marketing_impressions_per_day=1000
)


def small_config(
    root: Path | None = None, *, seed: int = 7, start: str | None = None, **volume: int
) -> RetailConfig:
    """A config of ``small_volume(**volume)``; ``start`` is the historical start date (the
    default one when None) and ``root`` the data folder (the default one when None)."""
    mapping: dict[str, Any] = {"seed": seed, "volume": small_volume(**volume)}
    if start is not None:
        mapping["historical"] = {"start_date": start}
    config = RetailConfig.from_mapping(mapping)
    return config if root is None else config.with_data_dir(root)


def generate(config: RetailConfig, first: str | None, last: str) -> None:
    """The dimensions, then the facts of ``first`` → ``last`` with one worker."""
    MasterDataGenerator(config).generate_all_master_data()
    FactDataGenerator(config, workers=1).generate_historical_data(first, last)


def tiny_config() -> dict[str, Any]:
    """The brief's tiny dataset as a fresh mapping: 2 days of it take well under a second with
    one worker."""
    volume = small_volume(
        stores=4,
        total_geographies=40,
        total_customers=800,
        total_products=300,
        customers_per_day=40,
        online_orders_per_day=60,
        marketing_impressions_per_day=600,
    )
    return {"seed": 11, "volume": volume, "historical": {"start_date": "2024-01-01"}}
