"""Content digests of a dataset's tables: equal digests mean equal rows, whatever wrote them.

A digest ignores row order, file layout and the engine or format that wrote the rows, so the
same dataset generated in one run or in several, by one worker or many, on the local engine or
on Spark, digests the same. Rows are sorted on every column and written as CSV text (stable
across Arrow and DuckDB versions), then hashed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from retail_datagen.schema.tables import TABLES
from retail_datagen.storage.duckdb_store import read_store

__all__ = ["arrow_digest", "table_digests"]

# Rows hashed per batch: bounds memory on large tables.
_BATCH_ROWS = 1 << 16


def arrow_digest(batches: Iterable[pa.RecordBatch]) -> str:
    """The SHA-256 of ``batches`` written as CSV text, in the order given."""
    digest = hashlib.sha256()
    for batch in batches:
        sink = io.BytesIO()
        pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=False))
        digest.update(sink.getvalue())
    return digest.hexdigest()


def _table_digest(con: duckdb.DuckDBPyConnection, name: str) -> str:
    reader = con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').to_arrow_reader(_BATCH_ROWS)
    return arrow_digest(reader)


def table_digests(data_dir: str | Path, tables: Iterable[str] | None = None) -> dict[str, str]:
    """``{table: digest}`` for ``tables`` (default: every table of the schema), by name; a
    table without rows digests as the empty string's hash."""
    names = sorted(tables if tables is not None else TABLES)

    def query(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        return {name: _table_digest(con, name) for name in names}

    return read_store(data_dir, query, tables=names, threads=2)
