"""Quoting for the SQL we build: identifiers only from the registry, literals always escaped."""

from __future__ import annotations

from typing import Any

import duckdb

from retail_datagen.geo import EARTH_RADIUS_MILES

__all__ = ["fetch_one", "fetch_scalar", "haversine_miles_sql", "ident", "literal"]


def ident(name: str) -> str:
    """Quote an identifier that is already known to come from the registry."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal (used for file paths, which cannot be bound as parameters)."""
    return "'" + text.replace("'", "''") + "'"


def fetch_one(
    con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, reading the result to the end.

    DuckDB refuses new work on a connection while a result is partly fetched, so a plain
    ``fetchone()`` would leave the connection unusable.
    """
    rows = con.execute(query, params or []).fetchall()
    return tuple(rows[0]) if rows else None


def fetch_scalar(
    con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None
) -> Any:
    """The first column of the first row (None for no rows)."""
    row = fetch_one(con, query, params)
    return None if row is None else row[0]


def haversine_miles_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """SQL for the great-circle distance in miles between two points given as SQL expressions
    in degrees — the same formula and radius as ``geo.haversine_miles``."""
    return (
        f"2 * {EARTH_RADIUS_MILES} * asin(sqrt(least(1.0, "
        f"pow(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * cos(radians({lat2}))"
        f" * pow(sin(radians({lon2} - {lon1}) / 2), 2))))"
    )
