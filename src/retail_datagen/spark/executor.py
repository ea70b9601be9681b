"""What runs on Spark executors: units of a wave, and the merge of a period's spooled tables.

Every function here is shipped by Spark (pickled by name) and imports only retail_datagen, so an
executor needs the package installed, never pyspark state of the driver. A unit's tables go to
Arrow IPC files on the shared output path; only the unit's carried state (small) goes back.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.partitions import RegionInput, StoreInput, Unit, run_unit
from retail_datagen.generators.facts.context import FactContext, build_context
from retail_datagen.storage.fact_writer import FactWriter
from retail_datagen.storage.layout import DataLayout

__all__ = ["Shipped", "merge_period", "pack_dimensions", "run_units"]

# IPC compression of spooled tables: they cross the shared (often remote) filesystem twice
_SPOOL_COMPRESSION = "lz4"


@dataclass(frozen=True)
class Shipped:
    """What every executor needs to build the units' context: sent once per run (broadcast)."""

    key: str  # one per run: the executor's cached context belongs to it
    config_json: str
    dims: Mapping[str, bytes]  # table -> Arrow IPC stream
    history_start: date
    disruptions: tuple[Any, ...]


def pack_dimensions(dims: Mapping[str, pa.Table]) -> dict[str, bytes]:
    """The dimension tables as Arrow IPC bytes (compact and quick to pickle)."""
    packed: dict[str, bytes] = {}
    for name, table in dims.items():
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        packed[name] = sink.getvalue()
    return packed


_CONTEXT: tuple[str, FactContext] | None = None  # (run key, context) of this Python worker


def _context(shipped: Shipped) -> FactContext:
    """The run's context, built once per executor Python worker (Spark reuses workers)."""
    global _CONTEXT
    if _CONTEXT is None or _CONTEXT[0] != shipped.key:
        _CONTEXT = None  # free the previous run's context before building this one
        dims = {n: pa.ipc.open_stream(pa.py_buffer(b)).read_all() for n, b in shipped.dims.items()}
        config = RetailConfig.from_json(shipped.config_json)
        ctx = build_context(config, dims, shipped.history_start, shipped.disruptions)
        _CONTEXT = (shipped.key, ctx)
    return _CONTEXT[1]


def _spool(unit: Unit, tables: Mapping[str, pa.Table], folder: str) -> dict[str, str]:
    """Write a unit's non-empty tables as compressed Arrow IPC files; returns table -> path."""
    os.makedirs(folder, exist_ok=True)
    options = pa.ipc.IpcWriteOptions(compression=_SPOOL_COMPRESSION)
    paths: dict[str, str] = {}
    for name, table in tables.items():
        if table.num_rows == 0:
            continue
        path = os.path.join(folder, f"{unit.partition}_{unit.store}_{name}.arrow")
        with (
            pa.OSFile(path, "wb") as sink,
            pa.ipc.new_stream(sink, table.schema, options=options) as writer,
        ):
            writer.write_table(table)
        paths[name] = path
    return paths


def run_units(shipped: Shipped, spool: str, payloads: Iterable[bytes]) -> Iterator[bytes]:
    """Compute each pickled ``(unit, inputs)``; yield the pickled result without its tables
    (they are spooled under ``spool``/<day>/), i.e. its carried state and the spool paths."""
    ctx = _context(shipped)
    for payload in payloads:
        unit, inputs = pickle.loads(payload)
        assert isinstance(unit, Unit)
        assert inputs is None or isinstance(inputs, RegionInput | StoreInput)
        result = run_unit(ctx, unit, inputs)
        folder = os.path.join(spool, unit.day.isoformat())
        paths = _spool(unit, result.tables, folder)
        yield pickle.dumps(dataclasses.replace(result, tables={}, spooled=paths))


def _read(path: str) -> pa.Table:
    with pa.OSFile(path, "rb") as source:
        return pa.ipc.open_stream(source).read_all()


def _remove_earlier_attempt(layout: DataLayout, table: str, first: date) -> None:
    """Remove ``table``'s files from ``first`` on: a failed attempt of this task wrote them (the
    driver removed every uncommitted file before the run), and a retry rewrites them."""
    folder = layout.table_dir(table)
    if not folder.is_dir():
        return
    for path in folder.rglob(f"{table}*"):
        name = DataLayout.fact_file(table, path)
        if name is not None and name.first_day >= first and path.is_file():
            path.unlink()


def merge_period(
    root: str,
    fmt: str,
    csv_daily: bool,
    table: str,
    days: Sequence[date],
    parts: Sequence[tuple[date, str]],
) -> tuple[str, int, list[str]]:
    """Write ``table``'s rows of the period ``days`` from its spooled ``(day, file)`` parts
    (canonical order) through the local engine's :class:`FactWriter`, so the files (names, row
    order, row groups) are the local engine's. Returns (table, rows, committed files)."""
    layout = DataLayout.of(root)
    _remove_earlier_attempt(layout, table, days[0])
    writer = FactWriter(layout, fmt, csv_daily)
    by_day: dict[date, list[str]] = {}
    for day, path in parts:
        by_day.setdefault(day, []).append(path)
    try:
        for day in days:
            if writer.current_period not in (None, writer.period_of(day)):
                writer.close_period()
            writer.add(day, {})  # a file is named by the run's first day in its period
            for path in by_day.get(day, ()):
                writer.add(day, {table: _read(path)})
        writer.close_period()
    except BaseException:
        writer.abort()
        raise
    return table, writer.rows[table], [str(p) for p in writer.committed_files]
