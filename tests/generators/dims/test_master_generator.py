"""The master-data recipe: loader choice, progress, saving, and row counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from retail_datagen import schema
from retail_datagen.config.models import RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader, packaged_directory
from retail_datagen.errors import ConfigError
from retail_datagen.generators.master_generator import (
    MasterDataGenerator,
    build_dimensions,
    default_loader,
)

SMALL_VOLUME = {"stores": 5, "dcs": 2, "total_customers": 300, "total_products": 120}


def small(tmp_path: Path, **paths: str) -> RetailConfig:
    return RetailConfig.from_mapping(
        {"volume": SMALL_VOLUME, "paths": {"data": str(tmp_path / "data"), **paths}}
    )


def test_uses_the_shipped_dictionaries_when_the_default_folder_is_absent(tmp_path: Path) -> None:
    assert default_loader(small(tmp_path)).directory == packaged_directory()
    # naming the default folder explicitly (as config.example.json does) changes nothing
    explicit = small(tmp_path, dictionaries="data/dictionaries")
    assert default_loader(explicit).directory == packaged_directory()


def test_an_explicit_missing_dictionary_folder_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    config = small(tmp_path, dictionaries=str(missing))
    with pytest.raises(ConfigError, match=r"paths\.dictionaries.*nowhere"):
        build_dimensions(config)


def test_an_explicit_dictionary_folder_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "dicts"
    shutil.copytree(packaged_directory(), folder)
    config = small(tmp_path, dictionaries=str(folder))
    assert default_loader(config).directory == folder
    assert build_dimensions(config)["dim_stores"].num_rows == 5


def test_progress_is_reported_per_table_in_order(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    build_dimensions(small(tmp_path), DictionaryLoader(), progress=lambda *args: seen.append(args))
    names = [t.name for t in schema.DIMENSIONS]
    assert seen == [(name, i, len(names)) for i, name in enumerate(names, start=1)]


def test_generate_all_master_data_saves_every_table(tmp_path: Path) -> None:
    config = small(tmp_path)
    calls: list[str] = []
    counts = MasterDataGenerator(
        config, progress=lambda name, i, n: calls.append(name)
    ).generate_all_master_data()
    assert list(counts) == [t.name for t in schema.DIMENSIONS] == calls
    assert counts["dim_stores"] == 5 and counts["dim_store_inventory_snapshots"] == 5 * 120
    with duckdb.connect(str(tmp_path / "data" / "retail.duckdb"), read_only=True) as con:
        for name, rows in counts.items():
            result = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            assert result is not None and result[0] == rows
    assert (tmp_path / "data" / "export" / "dim_stores" / "dim_stores.parquet").is_file()
