"""The local engine: units on worker processes, results delivered in canonical order.

A unit is submitted once the units whose carried state it reads are done (a region's night
waits for its previous night and its stores' previous days; a store's day for its region's
night and its own previous day), so the stores of a region run side by side. Results are
handed to ``deliver`` in the canonical order whatever order workers finish in, so the written
rows do not depend on the number of workers. At most ``IN_FLIGHT_PER_WORKER × workers`` units
are in flight or waiting, which bounds memory.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import date
from typing import Any

import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.memory import release_unused_memory, release_when_above
from retail_datagen.engine.partitions import (
    RegionCarry,
    RegionInput,
    StoreInput,
    Unit,
    UnitResult,
    dependencies,
    run_unit,
)
from retail_datagen.engine.steps import EngineState, Persisted, run_serial
from retail_datagen.generators.facts.context import FactContext, build_context
from retail_datagen.generators.facts.supply import region_stores
from retail_datagen.storage.atomic import pid_alive

__all__ = ["SPOOL_PREFIX", "Cancelled", "LocalEngine", "remove_dead_spools"]

_WORKER_CTX: FactContext | None = None
# Units computed ahead of the writer per worker: enough that workers never wait for a busy
# writer, few enough to bound memory (a default store-day is about 5 MB).
IN_FLIGHT_PER_WORKER = 8


class Cancelled(Exception):
    """Raised when the caller asked to stop; delivered results stay valid."""


def _init_worker(
    config_json: str,
    dims_holder: list[dict[str, pa.Table]],
    history_start: date,
    disruptions: Sequence[Any],
) -> None:
    """Build the worker's context. The dimensions come in a one-item list that is emptied
    here: the pool keeps its initializer's arguments for the worker's life, and the tables'
    columns the context does not use (names, addresses…) would stay resident (~40 MB)."""
    global _WORKER_CTX
    config = RetailConfig.from_json(config_json)
    _WORKER_CTX = build_context(config, dims_holder.pop(), history_start, disruptions)
    release_unused_memory()  # building the context's lookups leaves ~100 MB of freed heap


def _spool_tables(unit: Unit, tables: Mapping[str, pa.Table], spool: str) -> dict[str, str]:
    """Write a unit's tables as Arrow IPC files in ``spool``; returns table -> path."""
    paths: dict[str, str] = {}
    for name, table in tables.items():
        name_of = f"{unit.day.toordinal()}_{unit.partition}_{unit.store}_{name}.arrow"
        path = os.path.join(spool, name_of)
        # the stream format (unlike the file format) allows a dictionary per batch
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        paths[name] = path
    return paths


def _run_in_worker(unit: Unit, inputs: RegionInput | StoreInput | None, spool: str) -> UnitResult:
    """Compute a unit and hand its tables over as Arrow IPC files in ``spool``.

    Shipping tens of megabytes through a pipe (pickle, copy, unpickle) costs the parent more
    than writing them; a file in shared memory costs one copy here and none there (memory map).
    """
    assert _WORKER_CTX is not None, "worker not initialised"
    result = run_unit(_WORKER_CTX, unit, inputs)
    paths = _spool_tables(unit, result.tables, spool)
    handed = dataclasses.replace(result, tables={}, spooled=paths)
    del result
    release_when_above()  # the unit's temporaries, before the next unit (memory.py)
    return handed


class _SpooledTables(Mapping[str, pa.Table]):
    """A unit's spooled tables, each memory-mapped (zero-copy) when read and never cached.

    The writer keeps a table only until its row group is written; holding every table of the
    unit mapped until the whole unit is written would keep ~100 MB more resident at a flush.
    """

    def __init__(self, paths: Mapping[str, str]) -> None:
        self._paths = paths

    def __getitem__(self, name: str) -> pa.Table:
        return pa.ipc.open_stream(pa.memory_map(self._paths[name])).read_all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _deliver_spooled(result: UnitResult, deliver: Callable[[UnitResult], None]) -> None:
    """Deliver a worker's result read from its spool files, then remove the files (tables the
    writer still holds stay mapped)."""
    deliver(dataclasses.replace(result, tables=_SpooledTables(result.spooled), spooled={}))
    for path in result.spooled.values():
        os.unlink(path)


SPOOL_PREFIX = "retail-datagen-spool-"


def remove_dead_spools(base: str) -> list[str]:
    """Remove spool folders left by killed runs: ours (by name) whose owning process is gone."""
    removed: list[str] = []
    try:
        entries = os.listdir(base)
    except OSError:
        return removed
    for name in entries:
        owner = name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        if not name.startswith(SPOOL_PREFIX) or not owner.isdigit() or pid_alive(int(owner)):
            continue
        path = os.path.join(base, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _spool_dir() -> str:
    """A fresh spool folder named after this process; dead runs' folders are removed first."""
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()
    remove_dead_spools(base)
    return tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=base)


class LocalEngine:
    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def run(
        self,
        config: RetailConfig,
        dims: Mapping[str, pa.Table],
        units: list[Unit],
        carry: dict[int, RegionCarry],
        deliver: Callable[[UnitResult], None],
        cancelled: Callable[[], bool] = lambda: False,
        history_start: date | None = None,
        disruptions: Sequence[Any] = (),
    ) -> None:
        """Compute ``units`` (canonical order) and deliver each result in that order; ``carry``
        seeds region state, and a delivered result that completes a region's day carries its
        persisted state.

        ``history_start`` is the dataset's first day (see :func:`build_context`).
        """
        start = history_start or config.historical.start_date
        if self.workers == 1 or len(units) <= 1:

            def check() -> None:
                if cancelled():
                    raise Cancelled
                release_when_above()  # the previous unit's tables, once written

            ctx = build_context(config, dims, start, disruptions)
            run_serial(ctx, units, carry, deliver, check)
            return
        self._run_parallel(config, dims, units, carry, deliver, cancelled, start, disruptions)

    def _run_parallel(
        self,
        config: RetailConfig,
        dims: Mapping[str, pa.Table],
        units: list[Unit],
        carry: dict[int, RegionCarry],
        deliver: Callable[[UnitResult], None],
        cancelled: Callable[[], bool],
        history_start: date,
        disruptions: Sequence[Any],
    ) -> None:
        first_day = units[0].day
        stores = region_stores(dims)
        state = EngineState(stores, carry, dims["dim_stores"].sort_by("ID")["ID"].to_numpy())
        persisted = Persisted(stores)
        done: set[Unit] = set()
        submitted: set[int] = set()
        limit = IN_FLIGHT_PER_WORKER * self.workers
        futures: dict[Future[UnitResult], int] = {}
        ready: dict[int, UnitResult] = {}
        next_deliver = 0
        context = multiprocessing.get_context("spawn")
        spool = _spool_dir()
        release_unused_memory()  # e.g. what building the dimensions left in this process
        with ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(config.model_dump_json(), [dict(dims)], history_start, tuple(disruptions)),
        ) as pool:
            try:
                while next_deliver < len(units):
                    # list scheduling over a window ahead of the writer: every unit whose
                    # dependencies are done is submitted, earliest (canonical) first
                    for i in range(next_deliver, min(len(units), next_deliver + limit)):
                        unit = units[i]
                        if i in submitted or not all(
                            d in done for d in dependencies(unit, first_day, stores)
                        ):
                            continue
                        future = pool.submit(_run_in_worker, unit, state.inputs(unit), spool)
                        futures[future] = i
                        submitted.add(i)
                    finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                    for future in finished:
                        index = futures.pop(future)
                        result = future.result()
                        state.absorb(result)
                        done.add(result.unit)
                        ready[index] = result
                    while next_deliver in ready:
                        _deliver_spooled(persisted.delivered(ready.pop(next_deliver)), deliver)
                        submitted.discard(next_deliver)
                        next_deliver += 1
                        release_when_above()  # the writer's encoding buffers
                    if cancelled():
                        raise Cancelled
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
                shutil.rmtree(spool, ignore_errors=True)
