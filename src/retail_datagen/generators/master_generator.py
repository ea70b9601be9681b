"""Seed import path of the master-data driver, which lives in
:mod:`retail_datagen.engine.master_generator` (it saves through storage, so it sits above it)."""

from retail_datagen.engine.master_generator import (
    MasterDataGenerator,
    Progress,
    build_dimensions,
    check_config_against_dictionaries,
    default_loader,
)

__all__ = [
    "MasterDataGenerator",
    "Progress",
    "build_dimensions",
    "check_config_against_dictionaries",
    "default_loader",
]
