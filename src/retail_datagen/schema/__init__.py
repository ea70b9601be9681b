"""The schema registry: every table declared once (see ``tables.py``)."""

from retail_datagen.schema.registry import Column, ForeignKey, Kind, Table, empty_table, normalise
from retail_datagen.schema.tables import DIMENSIONS, FACTS, TABLES, get_table

__all__ = [
    "DIMENSIONS",
    "FACTS",
    "TABLES",
    "Column",
    "ForeignKey",
    "Kind",
    "Table",
    "empty_table",
    "get_table",
    "normalise",
]
