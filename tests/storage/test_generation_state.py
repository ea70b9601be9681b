from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.generation_state import GenerationState, GenerationStateManager


def test_state_round_trips_through_json(data_dir: Path) -> None:
    manager = GenerationStateManager(data_dir)
    state = GenerationState(
        last_generated_timestamp=datetime(2024, 3, 31, 23, 59, 59, 999999),
        historical_start_date=datetime(2024, 1, 1),
        has_fact_data=True,
        last_historical_run=datetime(2024, 4, 1, 10, 30, 15),
        output_format="csv",
        csv_daily=True,
    )
    manager.save(state)
    assert manager.load() == state
    on_disk = json.loads(manager.state_path.read_text())
    assert on_disk["last_generated_timestamp"] == "2024-03-31T23:59:59.999999"
    assert on_disk["has_fact_data"] is True and on_disk["last_realtime_run"] is None


def test_missing_state_is_a_fresh_state_and_writes_nothing(data_dir: Path) -> None:
    assert GenerationStateManager(data_dir).load() == GenerationState()
    assert not data_dir.exists()


def test_default_data_dir_is_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert GenerationStateManager().state_path == tmp_path / "data" / "generation_state.json"


def test_update_validates_and_keeps_unknown_keys(data_dir: Path) -> None:
    manager = GenerationStateManager(data_dir)
    data_dir.mkdir()
    manager.state_path.write_text(json.dumps({"has_fact_data": False, "future_field": 3}))
    state = manager.update(has_fact_data=True)
    assert state.has_fact_data
    assert json.loads(manager.state_path.read_text())["future_field"] == 3
    with pytest.raises(ValueError):
        manager.update(output_format="xml")


def test_reset_facts_forgets_runs_but_keeps_the_format(data_dir: Path) -> None:
    manager = GenerationStateManager(data_dir)
    manager.update(
        has_fact_data=True,
        last_generated_timestamp=datetime(2024, 1, 2),
        last_realtime_run=datetime(2024, 1, 3),
        output_format="csv",
    )
    state = manager.reset_facts()
    assert not state.has_fact_data
    assert state.last_generated_timestamp is None and state.last_realtime_run is None
    assert state.output_format == "csv"


def test_damaged_state_file_is_a_one_line_error(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "generation_state.json").write_text("{not json")
    with pytest.raises(DataStateError, match="retail-datagen repair") as err:
        GenerationStateManager(data_dir).load()
    assert "\n" not in str(err.value)


def _populate(data_dir: Path) -> None:
    (data_dir / "export" / "dim_stores").mkdir(parents=True)
    (data_dir / "export" / "dim_stores" / "dim_stores.parquet").write_bytes(b"x")
    (data_dir / "engine_state").mkdir()
    (data_dir / "retail.duckdb").write_bytes(b"x")
    (data_dir / "retail.duckdb.wal").write_bytes(b"x")
    (data_dir / "generation_state.json").write_text("{}")
    (data_dir / "dictionaries").mkdir()
    (data_dir / "dictionaries" / "geographies.csv").write_text("City\n")
    (data_dir / "notes.txt").write_text("mine")


def test_clear_removes_only_what_we_create(data_dir: Path) -> None:
    data_dir.mkdir()
    _populate(data_dir)
    result = GenerationStateManager(data_dir).clear_all_data()
    assert sorted(Path(p).name for p in result["removed"]) == [
        "engine_state",
        "export",
        "generation_state.json",
        "retail.duckdb",
        "retail.duckdb.wal",
    ]
    assert sorted(p.name for p in data_dir.iterdir()) == ["dictionaries", "notes.txt"]


def test_clear_accepts_the_seeds_legacy_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for legacy in ("data/master", "data/facts"):
        (tmp_path / legacy).mkdir(parents=True)
        (tmp_path / legacy / "x.csv").write_text("1")
    result = GenerationStateManager().clear_all_data(
        {"master": "data/master", "facts": "data/facts"}
    )
    assert {Path(p).name for p in result["removed"]} == {"master", "facts"}
    assert (tmp_path / "data").is_dir()


@pytest.mark.parametrize(
    "legacy",
    ["../outside", "/etc", "data/../../outside", "data", ".", "~"],
)
def test_clear_rejects_paths_outside_the_data_and_project_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy: str
) -> None:
    project = tmp_path / "project"
    outside = tmp_path / "outside"
    (project / "data").mkdir(parents=True)
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    (project / "data" / "retail.duckdb").write_bytes(b"x")
    monkeypatch.chdir(project)
    with pytest.raises(UserError, match="refusing"):
        GenerationStateManager().clear_all_data({"master": legacy})
    assert (outside / "precious.txt").read_text() == "keep"
    assert (project / "data" / "retail.duckdb").exists()  # nothing deleted before the check


def test_clear_never_follows_a_symlink_out_of_the_data_folder(
    tmp_path: Path, data_dir: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    data_dir.mkdir()
    os.symlink(outside, data_dir / "export")
    os.symlink(outside, data_dir / "legacy")
    with pytest.raises(UserError):
        GenerationStateManager(data_dir).clear_all_data({"master": str(data_dir / "legacy")})
    result = GenerationStateManager(data_dir).clear_all_data()
    assert [Path(p).name for p in result["removed"]] == ["export"]
    assert (outside / "precious.txt").read_text() == "keep"
