"""Former import path of the great-circle helpers, which live in :mod:`retail_datagen.geo`
(storage's SQL uses the same radius, so they are a foundation, not a generator)."""

from retail_datagen.geo import EARTH_RADIUS_MILES, haversine_miles, nearest_index, offset_points

__all__ = ["EARTH_RADIUS_MILES", "haversine_miles", "nearest_index", "offset_points"]
