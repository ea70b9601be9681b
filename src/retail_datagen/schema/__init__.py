"""The schema registry: every table declared once (see ``tables.py``)."""

from retail_datagen.schema.registry import Column, ForeignKey, Kind, Table, empty_table, normalise
from retail_datagen.schema.tables import (
    DIMENSIONS,
    EVENT_PAYLOADS,
    FACTS,
    TABLES,
    get_payload,
    get_table,
)

__all__ = [
    "DIMENSIONS",
    "EVENT_PAYLOADS",
    "FACTS",
    "TABLES",
    "Column",
    "ForeignKey",
    "Kind",
    "Table",
    "empty_table",
    "get_payload",
    "get_table",
    "normalise",
]
