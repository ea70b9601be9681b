"""config.example.json documents every key at its default, and stays loadable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from retail_datagen.config.models import RetailConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.json"


def _keys(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict) and key != "device_multipliers":
            out |= _keys(value, path)
        else:
            out.add(path)
    return out


def test_example_config_loads_and_equals_the_defaults() -> None:
    loaded = RetailConfig.from_file(EXAMPLE)
    defaults = RetailConfig.model_validate({})
    assert loaded.to_public_dict() == defaults.to_public_dict()


def test_example_config_lists_every_key() -> None:
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    expected = _keys(RetailConfig.model_validate({}).to_public_dict())
    assert _keys(example) == expected


def test_example_config_holds_no_secret() -> None:
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert example["realtime"]["azure_connection_string"] == ""
