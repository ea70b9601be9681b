"""Disruptions: validation of kind/target/window, CRUD in the data folder, and activity."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from retail_datagen.disruptions import (
    DISRUPTIONS_FILE,
    Disruption,
    DisruptionService,
    active_on,
    load_disruptions,
)
from retail_datagen.errors import DataStateError, UserError

T0, T1 = datetime(2024, 3, 3, 6), datetime(2024, 3, 4, 18)


def test_create_list_delete_clear(tmp_path: Path) -> None:
    service = DisruptionService(tmp_path)
    outage = service.create("dc_outage", "dc", 1, T0, T1, severity=0.9, note="flood")
    weather = service.create("weather_delay", "network", None, T1, datetime(2024, 3, 6))
    assert outage.id.startswith("dsr-") and len(outage.id) == 16 and outage.id != weather.id
    assert [d.id for d in service.list()] == [outage.id, weather.id]
    assert [d.id for d in service.list(active_at=datetime(2024, 3, 5))] == [weather.id]
    assert load_disruptions(tmp_path) == service.list()
    saved = json.loads((tmp_path / DISRUPTIONS_FILE).read_text())
    assert saved["disruptions"][0]["kind"] == "dc_outage"
    assert service.delete(outage.id) == outage
    with pytest.raises(UserError, match="no disruption with id"):
        service.delete(outage.id)
    assert service.clear() == 1
    assert service.list() == []


def test_active_on_a_day_means_overlapping_it() -> None:
    items = [
        Disruption(kind="truck_breakdown", target_type="truck", target_id=3, start=T0, end=T1),
        Disruption(
            kind="supplier_delay",
            target_type="product",
            target_id=9,
            start=datetime(2024, 3, 2),
            end=datetime(2024, 3, 3),
        ),  # ends at midnight
    ]
    assert active_on(items, date(2024, 3, 2)) == [items[1]]
    assert active_on(items, date(2024, 3, 3)) == [items[0]]
    assert active_on(items, date(2024, 3, 4)) == [items[0]]
    assert active_on(items, date(2024, 3, 5)) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end": T0}, "must be after start"),
        ({"kind": "dc_outage", "target_type": "store"}, "cannot target a store"),
        ({"kind": "truck_breakdown", "target_type": "product"}, "cannot target a product"),
        ({"target_type": "dc", "target_id": None}, "target_id is required"),
        ({"kind": "weather_delay", "target_type": "network", "target_id": 2}, "takes no target"),
        ({"severity": 1.5}, "less than or equal to 1"),
        ({"kind": "meteor"}, "kind"),
    ],
)
def test_invalid_disruptions_are_rejected(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "kind": "inventory_shortage",
        "target_type": "dc",
        "target_id": 1,
        "start": T0,
        "end": T1,
    }
    with pytest.raises(ValidationError, match=message):
        Disruption.model_validate({**base, **fields})
    service_fields = {**base, **fields}
    with pytest.raises(UserError, match="invalid disruption"):
        DisruptionService(Path("/nonexistent-never-written")).create(**service_fields)  # type: ignore[arg-type]


def test_every_documented_target_combination_is_accepted() -> None:
    combos = {
        "dc_outage": ["dc"],
        "truck_breakdown": ["truck", "dc"],
        "inventory_shortage": ["product", "store", "dc"],
        "weather_delay": ["store", "dc", "network"],
        "supplier_delay": ["dc", "product", "network"],
    }
    for kind, targets in combos.items():
        for target in targets:
            ident = None if target == "network" else 1
            Disruption(kind=kind, target_type=target, target_id=ident, start=T0, end=T1)  # type: ignore[arg-type]


def test_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / DISRUPTIONS_FILE).write_text('{"disruptions": [{"kind": "x"}]}')
    with pytest.raises(DataStateError, match="damaged"):
        load_disruptions(tmp_path)
