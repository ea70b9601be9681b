"""Synthetic street addresses ("1234 Maple Ave") for stores, DCs and customers, vectorised.

Street names are generic words, so no address points at a real person's home.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["HOUSE_NUMBERS", "STREET_NAMES", "STREET_SUFFIXES", "street_addresses"]

HOUSE_NUMBERS = (100, 9_999)  # inclusive range
STREET_NAMES: tuple[str, ...] = (
    "Maple", "Oak", "Pine", "Cedar", "Elm", "Willow", "Birch", "Walnut", "Chestnut", "Spruce",
    "Aspen", "Hickory", "Magnolia", "Sycamore", "Poplar", "Main", "Park", "Lake", "Hill",
    "River", "Church", "Mill", "Spring", "Sunset", "Highland", "Meadow", "Forest", "Valley",
    "Ridge", "Orchard", "Center", "Market", "Union", "Prospect", "Railroad", "School", "Bridge",
    "Garden", "Harbor", "Summit", "First", "Second", "Third", "Fourth", "Fifth", "Sixth",
    "Seventh", "Eighth", "Ninth", "Tenth",
)  # fmt: skip
STREET_SUFFIXES: tuple[str, ...] = (
    "St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Way", "Ct", "Pl", "Pkwy",
)  # fmt: skip

_NAMES = pa.array(STREET_NAMES, type=pa.string())
_SUFFIXES = pa.array(STREET_SUFFIXES, type=pa.string())


def street_addresses(generator: np.random.Generator, n: int) -> pa.StringArray:
    """``n`` addresses drawn from ``generator`` (the caller's keyed stream)."""
    numbers = generator.integers(HOUSE_NUMBERS[0], HOUSE_NUMBERS[1] + 1, size=n)
    names = generator.integers(0, len(STREET_NAMES), size=n)
    suffixes = generator.integers(0, len(STREET_SUFFIXES), size=n)
    joined: pa.StringArray = pc.binary_join_element_wise(
        pa.array(numbers).cast(pa.string()),
        _NAMES.take(pa.array(names)),
        _SUFFIXES.take(pa.array(suffixes)),
        " ",
    )
    return joined
