"""A small FactContext for the fact generator tests: 8 stores, 2 DCs, 3000 customers, 800 SKUs,
built from the real dimension generator (``build_dimensions``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.facts.context import FactContext, build_context
from retail_datagen.generators.master_generator import build_dimensions

SMALL_VOLUME: dict[str, Any] = {
    "stores": 8,
    "dcs": 2,
    "total_customers": 3000,
    "total_products": 800,
    "total_geographies": 40,
}


def small_context(**volume: Any) -> FactContext:
    config = RetailConfig.from_mapping({"volume": {**SMALL_VOLUME, **volume}})
    return build_context(config, build_dimensions(config))


@pytest.fixture(scope="session")
def ctx() -> FactContext:
    return small_context()


def with_config(ctx: FactContext, *, seed: int | None = None, **volume: int) -> FactContext:
    """The same dimensions under another seed or volume (cheap: no dimensions rebuilt)."""
    config = ctx.config
    if volume:
        config = config.model_copy(update={"volume": config.volume.model_copy(update=volume)})
    if seed is not None:
        config = config.model_copy(update={"seed": seed})
    return dataclasses.replace(ctx, config=config, seed=config.seed)


@pytest.fixture
def reconfigure() -> Callable[..., FactContext]:
    """``reconfigure(ctx, seed=..., **volume)``: see :func:`with_config`."""
    return with_config
