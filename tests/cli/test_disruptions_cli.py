"""`disruptions` on the command line: full ids in the list (even on a narrow terminal), any
unique prefix removes one, a target missing from the dimensions is exit 2, and removing all
needs `--yes` like clearing data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from retail_datagen.cli import app
from retail_datagen.disruptions import DisruptionService, check_target
from retail_datagen.errors import UserError
from retail_datagen.storage.dimension_store import save_dimensions


@pytest.fixture
def store(data_dir: Path, dims: dict[str, pa.Table]) -> Path:
    """Dimensions with DCs 1–2, stores 1–10, trucks 1–3, products 1–12."""
    save_dimensions(data_dir, dims)
    return data_dir


def _cli(data_dir: Path, *args: str, columns: int = 120) -> Any:
    return CliRunner().invoke(
        app, ["disruptions", *args, "--data-dir", str(data_dir)], env={"COLUMNS": str(columns)}
    )


def _add(data_dir: Path, target_type: str, target_id: str, kind: str = "weather_delay") -> Any:
    return _cli(
        data_dir,
        "add",
        "--kind",
        kind,
        "--target-type",
        target_type,
        "--target-id",
        target_id,
        "--start",
        "2024-03-03T06:00",
        "--end",
        "2024-03-04",
    )


def _one_error(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_list_shows_whole_ids_on_a_narrow_terminal(store: Path) -> None:
    service = DisruptionService(store)
    created = [
        service.create("weather_delay", "store", 3, *_window(), note="a long note " * 4),
        service.create("dc_outage", "dc", 1, *_window()),
    ]
    result = _cli(store, "list", columns=60)
    assert result.exit_code == 0, result.output
    for item in created:
        assert item.id in result.stdout, result.stdout


def test_remove_accepts_a_unique_prefix_and_names_the_ambiguous(store: Path) -> None:
    service = DisruptionService(store)
    one = service.create("weather_delay", "store", 3, *_window())
    two = service.create("weather_delay", "store", 4, *_window())
    ambiguous = _cli(store, "remove", "dsr-")
    assert ambiguous.exit_code == 2
    assert "matches 2 disruptions" in _one_error(ambiguous)
    unique = next(one.id[:n] for n in range(5, len(one.id)) if not two.id.startswith(one.id[:n]))
    removed = _cli(store, "remove", unique)
    assert removed.exit_code == 0, removed.output
    assert f"removed {one.id}" in removed.stdout
    assert [d.id for d in service.list()] == [two.id]
    unknown = _cli(store, "remove", "dsr-nope")
    assert unknown.exit_code == 2 and "disruptions list" in _one_error(unknown)


@pytest.mark.parametrize(
    ("target_type", "target_id", "kind"),
    [("dc", "9", "dc_outage"), ("store", "11", "weather_delay"), ("truck", "4", "truck_breakdown")],
)
def test_a_target_missing_from_the_dimensions_is_exit_2(
    store: Path, target_type: str, target_id: str, kind: str
) -> None:
    result = _add(store, target_type, target_id, kind)
    assert result.exit_code == 2
    line = _one_error(result)
    assert f"there is no {target_type} {target_id}" in line and "pick an existing one" in line
    assert DisruptionService(store).list() == []
    assert _add(store, target_type, "1", kind).exit_code == 0


def test_targets_are_free_before_the_dimensions_exist(data_dir: Path) -> None:
    check_target(data_dir, "store", 999)  # nothing to check against yet
    assert _add(data_dir, "store", "999").exit_code == 0


def test_check_target_is_the_shared_rule(store: Path) -> None:
    check_target(store, "product", 12)
    check_target(store, "network", None)
    with pytest.raises(UserError, match=r"no product 13 .*ids run from 1 to 12"):
        check_target(store, "product", 13)


def test_clear_needs_yes(store: Path) -> None:
    DisruptionService(store).create("weather_delay", "network", None, *_window())
    refused = _cli(store, "clear")
    assert refused.exit_code == 2 and "--yes" in _one_error(refused)
    assert len(DisruptionService(store).list()) == 1
    cleared = _cli(store, "clear", "--yes")
    assert cleared.exit_code == 0 and "removed 1" in cleared.stdout
    listed = _cli(store, "list", "--json")
    assert json.loads(listed.stdout) == []


def _window() -> tuple[datetime, datetime]:
    return datetime(2024, 3, 3, 6), datetime(2024, 3, 4)
