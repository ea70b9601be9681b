"""Clearing a data folder: what ``retail-datagen clear --yes`` and ``POST /api/clear`` delete."""

from __future__ import annotations

from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.state import GenerationStateManager

__all__ = ["clear_data"]


def clear_data(config: RetailConfig) -> list[str]:
    """Delete what retail-datagen created in the configuration's data folder; the paths removed.

    The seeds' legacy CSV folders (``paths.master``, ``paths.facts``) go too, but only when they
    live inside the data folder: a legacy path elsewhere is someone else's folder.
    """
    root = DataLayout.of(config.paths.data).root
    manager = GenerationStateManager(root)
    legacy = {
        key: value
        for key, value in (("master", config.paths.master), ("facts", config.paths.facts))
        if manager.layout.owns(Path(value).expanduser()) and Path(value).resolve() != root
    }
    removed: list[str] = manager.clear_all_data(legacy)["removed"]
    return removed
