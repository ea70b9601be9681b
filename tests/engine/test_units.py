"""Units and their dependencies: a region's night, then its stores side by side."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from retail_datagen.engine.partitions import NETWORK, Unit, canonical_units, dependencies

REGIONS = (np.array([0, 2, 5]), np.array([], np.int64), np.array([1, 3, 4]))
DAYS = [date(2024, 3, 4) + timedelta(days=i) for i in range(3)]


def test_a_store_day_waits_only_for_its_region_night_and_its_own_previous_day() -> None:
    unit = Unit(DAYS[1], 0, 2)
    assert dependencies(unit, DAYS[0], REGIONS) == [Unit(DAYS[1], 0), Unit(DAYS[0], 0, 2)]
    assert dependencies(Unit(DAYS[0], 0, 2), DAYS[0], REGIONS) == [Unit(DAYS[0], 0)]


def test_a_region_night_waits_for_its_previous_night_and_its_stores_previous_days() -> None:
    deps = dependencies(Unit(DAYS[2], 2), DAYS[0], REGIONS)
    assert deps == [Unit(DAYS[1], 2), *(Unit(DAYS[1], 2, s) for s in (1, 3, 4))]
    assert dependencies(Unit(DAYS[1], 1), DAYS[0], REGIONS) == [Unit(DAYS[0], 1)]
    assert dependencies(Unit(DAYS[1], NETWORK), DAYS[0], REGIONS) == []
    assert dependencies(Unit(DAYS[0], 2), DAYS[0], REGIONS) == []


def test_canonical_order_lists_every_step_after_the_steps_it_reads() -> None:
    units = canonical_units(DAYS, REGIONS)
    assert len(units) == len(DAYS) * (1 + len(REGIONS) + 6)
    position = {u: i for i, u in enumerate(units)}
    assert len(position) == len(units)
    for i, unit in enumerate(units):
        assert all(position[d] < i for d in dependencies(unit, DAYS[0], REGIONS))
    day = units[: len(units) // len(DAYS)]
    assert day[:6] == [
        Unit(DAYS[0], NETWORK),
        Unit(DAYS[0], 0),
        *(Unit(DAYS[0], 0, s) for s in (0, 2, 5)),
        Unit(DAYS[0], 1),
    ]
