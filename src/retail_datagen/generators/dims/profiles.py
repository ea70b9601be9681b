"""Store, customer and assortment profiles: the shares and ranges the dimension generators follow.

Distributions are data: everything that shapes the chain (volume classes, customer segments, the
supercenter department mix) is declared here, next to each other, and the generators only read
it. Store formats and their opening hours are in generators/store_formats.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CUSTOMER_SEGMENTS",
    "DEPARTMENT_MIX",
    "MIN_TRAFFIC_CV",
    "OTHER_DEPARTMENT_SKU_SHARE",
    "VOLUME_CLASSES",
    "VolumeClass",
]


@dataclass(frozen=True)
class VolumeClass:
    """A store volume class: its share of stores, traffic-multiplier range and likely formats."""

    name: str
    share: float
    traffic: tuple[float, float]
    formats: tuple[tuple[str, float], ...]  # (StoreFormat, probability)


# SPEC §5: classes in descending volume order (stores are ranked into them by place size).
VOLUME_CLASSES: tuple[VolumeClass, ...] = (
    VolumeClass("FLAGSHIP", 0.05, (2.5, 3.0), (("HYPERMARKET", 1.0),)),
    VolumeClass("HIGH", 0.15, (1.8, 2.4), (("SUPERSTORE", 0.8), ("HYPERMARKET", 0.2))),
    VolumeClass("MEDIUM", 0.50, (0.8, 1.2), (("STANDARD", 1.0),)),
    VolumeClass("LOW", 0.25, (0.4, 0.7), (("NEIGHBORHOOD", 1.0),)),
    VolumeClass("KIOSK", 0.05, (0.25, 0.35), (("EXPRESS", 1.0),)),
)

# The variety of TrafficMultiplier a chain of 10 or more stores always has (SPEC §5, §9).
MIN_TRAFFIC_CV = 0.5

# SPEC §5 customer segments and their shares.
CUSTOMER_SEGMENTS: tuple[tuple[str, float], ...] = (
    ("BUDGET_CONSCIOUS", 0.35),
    ("CONVENIENCE_FOCUSED", 0.25),
    ("QUALITY_SEEKER", 0.20),
    ("BRAND_LOYAL", 0.20),
)

# Share of SKUs per department in a supercenter assortment (sums to 1). A department that a
# user's dictionary adds beyond these gets OTHER_DEPARTMENT_SKU_SHARE before renormalising.
DEPARTMENT_MIX: Mapping[str, float] = MappingProxyType(
    {
        "Grocery": 0.35,
        "Home & Garden": 0.11,
        "Health & Beauty": 0.10,
        "Clothing": 0.10,
        "Electronics": 0.07,
        "Seasonal & Sports": 0.07,
        "Baby & Kids": 0.06,
        "Pet Supplies": 0.05,
        "Office Supplies": 0.05,
        "Automotive": 0.04,
    }
)
OTHER_DEPARTMENT_SKU_SHARE = 0.03
