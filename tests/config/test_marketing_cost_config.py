"""marketing_cost bands are CPM (USD per 1,000 impressions); the old per-impression keys are
refused with one line that names the new ones."""

from __future__ import annotations

import pytest

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import ConfigError


def test_default_bands_are_the_spec_cpm_bands() -> None:
    cost = RetailConfig().marketing_cost
    assert (cost.EMAIL.cpm_min, cost.EMAIL.cpm_max) == (0.1, 2.0)
    assert (cost.GOOGLE.cpm_min, cost.GOOGLE.cpm_max) == (20.0, 60.0)


def test_old_per_impression_keys_name_the_new_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        RetailConfig.from_mapping({"marketing_cost": {"EMAIL": {"min": 0.1, "max": 0.25}}})
    message = str(raised.value)
    assert "\n" not in message
    assert "marketing_cost.EMAIL" in message and "cpm_min/cpm_max" in message


def test_an_inverted_band_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"cpm_min = 9.0 is greater than cpm_max = 2.0"):
        RetailConfig.from_mapping({"marketing_cost": {"EMAIL": {"cpm_min": 9.0, "cpm_max": 2.0}}})
