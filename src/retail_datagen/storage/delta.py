"""Fact tables as Delta tables through delta-rs: the Parquet files, plus a Delta log over them.

A Delta output has exactly the Parquet layout (``fact_<name>_YYYY-MM[_DD].parquet``, written
atomically as for ``--format parquet``) and a ``_delta_log`` per table. The log is written last:
a run writes its files, commits the state file, then publishes every file of the run in ONE
append commit per table (recording the last day as the ``retail-datagen`` app transaction). So a
Delta reader never sees part of a run: a run interrupted before the state commit leaves files
that are not in the log and are removed by the next run's repair (they are after the recorded
last day); one interrupted after it is published by that repair (:func:`publish`), because the
state says its days are complete. The Delta snapshot therefore always holds whole days.

:func:`commit_parquet_files` is the seam another engine (Spark executors writing Parquet) uses to
commit files it wrote as one Delta append without Spark's own Delta support.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import obstore
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, CommitProperties, RemoveAction, Transaction

from retail_datagen.schema import FACTS, get_table
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.remote import FactLocation, remote_errors

__all__ = [
    "APP_ID",
    "commit_parquet_files",
    "delta_files",
    "delta_schema",
    "discard_unpublished",
    "is_delta_table",
    "publish",
    "published_through",
]

APP_ID = "retail-datagen"


def _store_for(table_uri: str, storage_options: dict[str, str] | None) -> tuple[Any, str]:
    """An obstore store that reads ``table_uri``'s files, and the prefix of the table in it."""
    if "://" not in table_uri:
        root = Path(table_uri)
        return obstore.store.LocalStore(root.parent), root.name
    from obstore.store import from_url

    client = {"allow_http": True} if (storage_options or {}).get("allow_http") else None
    config = {k: v for k, v in (storage_options or {}).items() if k != "allow_http"}
    return from_url(table_uri, config=config, client_options=client), ""  # type: ignore[call-overload]


def _footer_rows(store: Any, path: str, size: int) -> int:
    """A Parquet file's row count from its footer alone (two ranged reads, never the data)."""
    if size < 12:
        raise ValueError(f"{path} is not a Parquet file")
    tail = bytes(obstore.get_range(store, path, start=size - 8, end=size))
    if tail[4:] != b"PAR1":
        raise ValueError(f"{path} is not a Parquet file")
    length = int.from_bytes(tail[:4], "little") + 8
    footer = bytes(obstore.get_range(store, path, start=max(0, size - length), end=size))
    return int(pq.read_metadata(pa.BufferReader(b"PAR1" + footer)).num_rows)


def _add_action(store: Any, path: str, relative: str) -> AddAction:
    """The add action of one Parquet file: size, modification time and row count (footer)."""
    meta = obstore.head(store, path)
    size = int(meta["size"])
    rows = _footer_rows(store, path, size)
    modified = meta["last_modified"]
    return AddAction(
        path=relative,
        size=size,
        partition_values={},
        modification_time=int(modified.timestamp() * 1000) if modified else int(time.time() * 1e3),
        data_change=True,
        stats=json.dumps({"numRecords": rows}),
    )


def commit_parquet_files(
    table_uri: str,
    files: Sequence[str],
    schema: pa.Schema,
    *,
    storage_options: dict[str, str] | None = None,
    through: date | None = None,
) -> int:
    """Commit Parquet ``files`` (paths relative to ``table_uri``, already written there) as ONE
    Delta append; the table is created with ``schema`` on first use. ``through`` (the last day
    the files hold) is recorded as the ``retail-datagen`` app transaction version (its
    ordinal), which :func:`published_through` reads back. Returns the new table version."""
    store, prefix = _store_for(table_uri, storage_options)
    actions: list[AddAction | RemoveAction] = [
        _add_action(store, f"{prefix}/{f}" if prefix else f, f) for f in files
    ]
    properties = CommitProperties(
        app_transactions=[Transaction(APP_ID, through.toordinal())] if through else None,
    )
    try:
        table = DeltaTable(table_uri, storage_options=storage_options)
    except TableNotFoundError:
        from deltalake.transaction import create_table_with_add_actions

        create_table_with_add_actions(
            table_uri,
            _delta_schema(schema),
            [a for a in actions if isinstance(a, AddAction)],
            mode="append",
            storage_options=storage_options,
            commit_properties=properties,
        )
        return 0
    table.create_write_transaction(
        actions, mode="append", schema=delta_schema(schema), commit_properties=properties
    )
    table.update_incremental()
    return int(table.version())


def delta_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` as Delta stores it: dictionary columns are plain columns of their values
    (Delta has no dictionary type; the Parquet files are the same either way)."""
    fields = [
        f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def _delta_schema(schema: pa.Schema) -> Any:
    from deltalake import Schema

    return Schema.from_arrow(delta_schema(schema))


def is_delta_table(location: FactLocation, table: str) -> bool:
    with remote_errors(location):
        return bool(
            DeltaTable.is_deltatable(
                location.table_uri(table), storage_options=location.delta_options()
            )
        )


def delta_files(location: FactLocation, table: str) -> list[str] | None:
    """The file names in ``table``'s current Delta snapshot; None when it is not a Delta table."""
    with remote_errors(location):
        try:
            dt = DeltaTable(location.table_uri(table), storage_options=location.delta_options())
        except TableNotFoundError:
            return None
        return sorted(str(p) for p in dt.get_add_actions(flatten=True).column("path").to_pylist())


def published_through(location: FactLocation, table: str) -> date | None:
    """The last day the Delta log of ``table`` says this tool published (None: none)."""
    with remote_errors(location):
        try:
            dt = DeltaTable(location.table_uri(table), storage_options=location.delta_options())
        except TableNotFoundError:
            return None
        version = dt.transaction_version(APP_ID)
    return None if version is None else date.fromordinal(version)


def _fact_names(
    location: FactLocation, table: str, through: date | None
) -> tuple[list[str], list[str]]:
    """(file names up to ``through``, names after it) among ``table``'s fact files."""
    upto: list[str] = []
    after: list[str] = []
    for name in location.names(table):
        parsed = DataLayout.fact_file(table, Path(name))
        if parsed is None or parsed.kind != "parquet":
            continue
        (upto if through is not None and parsed.first_day <= through else after).append(name)
    return upto, after


def publish(location: FactLocation, through: date) -> dict[str, int]:
    """Add every fact file up to ``through`` that the Delta log lacks, one commit per table
    (tables are created, empty when they have no rows yet); returns table -> files added."""
    added: dict[str, int] = {}
    for decl in FACTS:
        present = delta_files(location, decl.name)
        upto, _ = _fact_names(location, decl.name, through)
        new = [n for n in upto if present is None or n not in present]
        if present is not None and not new:
            continue
        with remote_errors(location):
            commit_parquet_files(
                location.table_uri(decl.name),
                new,
                get_table(decl.name).arrow_schema,
                storage_options=location.delta_options(),
                through=through,
            )
        added[decl.name] = len(new)
    return added


def discard_unpublished(location: FactLocation, last_day: date | None) -> None:
    """Remove fact files after ``last_day`` that no Delta snapshot holds (an interrupted
    run's); a file in the log is never removed."""
    for decl in FACTS:
        _, after = _fact_names(location, decl.name, last_day)
        if not after:
            continue
        present = set(delta_files(location, decl.name) or ())
        location.delete(decl.name, [n for n in after if n not in present])
