"""Former import path of :mod:`retail_datagen.generators.allocation`, which moved beside ``dims``
and ``facts`` because both dimensions and facts allocate with it."""

from retail_datagen.generators.allocation import (
    capped_allocation,
    deal,
    largest_remainder,
)

__all__ = [
    "capped_allocation",
    "deal",
    "largest_remainder",
]
