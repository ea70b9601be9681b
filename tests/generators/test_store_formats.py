"""The store-format records are whole: every share sums to one and every name is known."""

from __future__ import annotations

import pytest

from retail_datagen.generators.dims.profiles import VOLUME_CLASSES
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.store_formats import (
    FORMATS,
    STORE_FORMATS,
    TRIP_MIX,
    department_spend_shares,
)


@pytest.mark.parametrize("name", STORE_FORMATS)
def test_each_format_is_a_whole_distribution(name: str) -> None:
    fmt = FORMATS[name]
    assert fmt.name == name
    assert sum(h.share for h in fmt.hours) == pytest.approx(1.0)
    assert all(0 <= h.open_hour < h.close_hour <= 24 for h in fmt.hours)
    assert len(fmt.trip_mix) == len(B.TRIP_TYPES)
    assert sum(fmt.trip_mix) == pytest.approx(1.0)
    assert sum(fmt.department_shares.values()) == pytest.approx(1.0)
    assert set(fmt.zones) <= set(B.ZONES) - {"ENTRANCE", "CHECKOUT"}
    assert fmt.items_mean > 0


def test_every_format_a_volume_class_draws_is_declared() -> None:
    drawn = {name for volume in VOLUME_CLASSES for name, _ in volume.formats}
    assert drawn == set(STORE_FORMATS)


def test_derived_arrays_follow_the_format_codes() -> None:
    for code, name in enumerate(STORE_FORMATS):
        assert tuple(TRIP_MIX[code]) == FORMATS[name].trip_mix
    shares = department_spend_shares(["Grocery", "Garden Gnomes"])
    assert shares[:, 0].tolist() == [FORMATS[n].department_shares["Grocery"] for n in STORE_FORMATS]
    assert (shares[:, 1] > 0).all()  # a department a user's dictionary adds still sells
