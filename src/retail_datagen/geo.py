"""Distances and positions on the globe, vectorised (dimensions, facts and storage's SQL use it).

Placement rules (nearest DC, customers within miles of a store, trips under 10 miles) all use
great-circle distance in miles; this is the one implementation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EARTH_RADIUS_MILES", "haversine_miles", "nearest_index", "offset_points"]

EARTH_RADIUS_MILES = 3958.8
_NEAREST_CHUNK = 65_536  # rows per block, so a points x targets matrix stays small


def haversine_miles(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in miles between points given in degrees (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    distance: np.ndarray = 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distance


def nearest_index(
    lat: np.ndarray, lon: np.ndarray, target_lat: np.ndarray, target_lon: np.ndarray
) -> np.ndarray:
    """Index of the nearest target for each point (ties go to the lower index)."""
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    out = np.empty(lat.size, dtype=np.int64)
    for start in range(0, lat.size, _NEAREST_CHUNK):
        block = slice(start, start + _NEAREST_CHUNK)
        d = haversine_miles(lat[block, None], lon[block, None], target_lat[None, :], target_lon)
        out[block] = np.argmin(d, axis=1)
    return out


def offset_points(
    lat: np.ndarray, lon: np.ndarray, distance_miles: np.ndarray, bearing_radians: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The points ``distance_miles`` from (lat, lon) in direction ``bearing`` (0 = north)."""
    p1, l1 = np.radians(lat), np.radians(lon)
    delta = np.asarray(distance_miles) / EARTH_RADIUS_MILES
    sin_p2 = np.sin(p1) * np.cos(delta) + np.cos(p1) * np.sin(delta) * np.cos(bearing_radians)
    p2 = np.arcsin(np.clip(sin_p2, -1.0, 1.0))
    l2 = l1 + np.arctan2(
        np.sin(bearing_radians) * np.sin(delta) * np.cos(p1), np.cos(delta) - np.sin(p1) * sin_p2
    )
    lon2 = (np.degrees(l2) + 540.0) % 360.0 - 180.0
    return np.degrees(p2), lon2
