"""Clearing through the service both ``clear --yes`` and ``POST /api/clear`` call."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.services.data_folder import clear_data
from retail_datagen.storage.dimension_store import save_dimensions


def test_clear_removes_legacy_folders_inside_the_data_folder_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dims: dict[str, object]
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    save_dimensions(data, dims)  # type: ignore[arg-type]
    inside, elsewhere = data / "master", tmp_path / "facts"
    for folder in (inside, elsewhere):
        folder.mkdir()
        (folder / "x.csv").write_text("1", encoding="utf-8")
    config = RetailConfig.model_validate(
        {"paths": {"data": str(data), "master": str(inside), "facts": str(elsewhere)}}
    )
    removed = {Path(p).name for p in clear_data(config)}
    assert {"retail.duckdb", "master"} <= removed and "facts" not in removed
    assert not inside.exists() and (elsewhere / "x.csv").is_file()
    assert clear_data(config) == []
