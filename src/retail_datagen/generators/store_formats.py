"""Store formats as data: everything that differs by format, one record per format.

A format's opening hours (dimension stores), trip mix, basket size, price sensitivity, spend by
department and sensor zones (fact engine) sit side by side, so tuning a format means editing one
record. The generators read the records, or the arrays derived from them below, whose rows
follow :data:`STORE_FORMATS` (the code a store's format has in the fact engine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = [
    "FORMATS",
    "FORMAT_PRICE_BETA",
    "ITEMS_MEAN",
    "OTHER_DEPARTMENT_SPEND_SHARE",
    "STORE_FORMATS",
    "TRIP_MIX",
    "OpeningHours",
    "StoreFormat",
    "department_spend_shares",
]


@dataclass(frozen=True)
class OpeningHours:
    """Opening hours; ``open_hour = 0, close_hour = 24`` is a store open around the clock."""

    open_hour: int
    close_hour: int
    share: float  # of the format's stores


@dataclass(frozen=True)
class StoreFormat:
    """How stores of one format open, and how their shoppers shop (SPEC §5, §11)."""

    name: str
    hours: tuple[OpeningHours, ...]
    # share of trips by type, in facts.behaviour.TRIP_TYPES order
    # (QUICK_TRIP, GROCERY_RUN, FAMILY, BULK)
    trip_mix: tuple[float, float, float, float]
    items_mean: float  # mean items per basket at items_per_ticket_mean = 8.2 (SPEC §11)
    # added to the price exponent of line choice: smaller formats sell fill-in and
    # need-it-now items (medicine, chargers, motor oil), so their shoppers weigh price less
    price_beta: float
    # share of the format's spend by department, before seasons and holiday lifts
    department_shares: Mapping[str, float]
    zones: tuple[str, ...]  # interior sensor zones (facts.behaviour.ZONES)


# Departments by spend: about 60 % grocery-type in the supercenter-like formats (a few points
# less once seasons lift general merchandise); an express store sells more health, electronics
# and car items. With the price exponents this gives average tickets of about $80-90
# (hypermarket), $56, $44, $35 and $30 (express) at the default items_per_ticket_mean.
_DEPARTMENTS = (
    "Grocery", "Health & Beauty", "Pet Supplies", "Home & Garden", "Clothing", "Electronics",
    "Baby & Kids", "Automotive", "Office Supplies", "Seasonal & Sports",
)  # fmt: skip


def _spend(*shares: float) -> Mapping[str, float]:
    """Spend shares in _DEPARTMENTS order."""
    return MappingProxyType(dict(zip(_DEPARTMENTS, shares, strict=True)))


_ALL_ZONES = ("PRODUCE", "GROCERY", "HOUSEHOLD", "APPAREL", "ELECTRONICS", "PHARMACY")

FORMATS: Mapping[str, StoreFormat] = MappingProxyType(
    {
        f.name: f
        for f in (
            StoreFormat(
                "HYPERMARKET",
                hours=(OpeningHours(7, 23, 1.0),),
                trip_mix=(0.15, 0.40, 0.30, 0.15),
                items_mean=13.5,
                price_beta=0.15,
                department_shares=_spend(
                    0.46, 0.09, 0.04, 0.09, 0.06, 0.08, 0.06, 0.03, 0.03, 0.06
                ),
                zones=_ALL_ZONES,
            ),
            StoreFormat(
                "SUPERSTORE",
                hours=(OpeningHours(8, 22, 0.7), OpeningHours(7, 23, 0.3)),
                trip_mix=(0.25, 0.45, 0.22, 0.08),
                items_mean=9.0,
                price_beta=0.10,
                department_shares=_spend(
                    0.47, 0.09, 0.04, 0.09, 0.06, 0.07, 0.06, 0.03, 0.03, 0.06
                ),
                zones=_ALL_ZONES,
            ),
            StoreFormat(
                "STANDARD",
                hours=(OpeningHours(8, 22, 1.0),),
                trip_mix=(0.40, 0.42, 0.15, 0.03),
                items_mean=6.0,
                price_beta=-0.10,
                department_shares=_spend(
                    0.45, 0.10, 0.04, 0.09, 0.07, 0.07, 0.06, 0.03, 0.03, 0.06
                ),
                zones=("PRODUCE", "GROCERY", "HOUSEHOLD", "APPAREL", "PHARMACY"),
            ),
            StoreFormat(
                "NEIGHBORHOOD",
                hours=(OpeningHours(8, 22, 1.0),),
                trip_mix=(0.60, 0.35, 0.05, 0.00),
                items_mean=4.0,
                price_beta=-0.45,
                department_shares=_spend(
                    0.46, 0.11, 0.04, 0.09, 0.05, 0.07, 0.06, 0.03, 0.03, 0.06
                ),
                zones=("PRODUCE", "GROCERY", "HOUSEHOLD", "PHARMACY"),
            ),
            StoreFormat(
                "EXPRESS",
                hours=(OpeningHours(0, 24, 0.4), OpeningHours(6, 23, 0.6)),  # some 24/7
                trip_mix=(0.92, 0.08, 0.00, 0.00),
                items_mean=2.0,
                price_beta=-0.90,
                department_shares=_spend(
                    0.30, 0.16, 0.03, 0.08, 0.03, 0.16, 0.06, 0.07, 0.05, 0.06
                ),
                zones=("GROCERY", "HOUSEHOLD"),
            ),
        )
    }
)
STORE_FORMATS: tuple[str, ...] = tuple(FORMATS)  # a store's format code is its position here

# A department that a user's own dictionary adds gets this share of every format's spend
# (before line choice renormalises).
OTHER_DEPARTMENT_SPEND_SHARE = 0.02

# Derived per-format arrays for vectorised code (rows follow STORE_FORMATS).
TRIP_MIX = np.array([f.trip_mix for f in FORMATS.values()])
ITEMS_MEAN = np.array([f.items_mean for f in FORMATS.values()])
FORMAT_PRICE_BETA = np.array([f.price_beta for f in FORMATS.values()])


def department_spend_shares(departments: Sequence[str]) -> np.ndarray:
    """(formats, departments) share of spend, for the departments of a dictionary."""
    return np.array(
        [
            [f.department_shares.get(d, OTHER_DEPARTMENT_SPEND_SHARE) for d in departments]
            for f in FORMATS.values()
        ]
    )
