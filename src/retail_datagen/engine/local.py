"""The local engine: units on worker processes, results delivered in canonical order.

A store's day waits for its previous day (it needs the carried state); everything else runs in
parallel. Results are handed to ``deliver`` in the canonical order whatever order workers finish
in, so the written rows do not depend on the number of workers. At most ``2 × workers`` units are
in flight or waiting to be delivered, which bounds memory.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import timedelta

import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.partitions import NETWORK, Unit, UnitResult, run_unit
from retail_datagen.generators.facts.context import FactContext, build_context

__all__ = ["Cancelled", "LocalEngine"]

_WORKER_CTX: FactContext | None = None


class Cancelled(Exception):
    """Raised when the caller asked to stop; delivered results stay valid."""


def _init_worker(config_json: str, dims: Mapping[str, pa.Table]) -> None:
    global _WORKER_CTX
    _WORKER_CTX = build_context(RetailConfig.from_json(config_json), dims)


def _run_in_worker(unit: Unit, carry: pa.Table | None) -> UnitResult:
    assert _WORKER_CTX is not None, "worker not initialised"
    return run_unit(_WORKER_CTX, unit, carry)


class LocalEngine:
    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def run(
        self,
        config: RetailConfig,
        dims: Mapping[str, pa.Table],
        units: list[Unit],
        carry: dict[int, pa.Table],
        deliver: Callable[[UnitResult], None],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Compute ``units`` and deliver each result in list order; ``carry`` seeds store state."""
        if self.workers == 1 or len(units) <= 1:
            ctx = build_context(config, dims)
            state = dict(carry)
            for unit in units:
                if cancelled():
                    raise Cancelled
                result = run_unit(ctx, unit, state.get(unit.partition))
                if result.carry is not None:
                    state[unit.partition] = result.carry
                deliver(result)
            return
        self._run_parallel(config, dims, units, carry, deliver, cancelled)

    def _run_parallel(
        self,
        config: RetailConfig,
        dims: Mapping[str, pa.Table],
        units: list[Unit],
        carry: dict[int, pa.Table],
        deliver: Callable[[UnitResult], None],
        cancelled: Callable[[], bool],
    ) -> None:
        first_day = units[0].day
        latest = dict(carry)  # carry after the last *completed* day of each store
        done_through: dict[int, object] = {}
        limit = 2 * self.workers
        futures: dict[Future[UnitResult], int] = {}
        ready: dict[int, UnitResult] = {}
        next_submit = next_deliver = 0
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(config.model_dump_json(), dict(dims)),
        ) as pool:
            try:
                while next_deliver < len(units):
                    while next_submit < len(units) and next_submit - next_deliver < limit:
                        unit = units[next_submit]
                        if unit.partition != NETWORK and unit.day != first_day:
                            if done_through.get(unit.partition) != unit.day - timedelta(days=1):
                                break  # its previous day is still running
                        future = pool.submit(_run_in_worker, unit, latest.get(unit.partition))
                        futures[future] = next_submit
                        next_submit += 1
                    finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                    for future in finished:
                        index = futures.pop(future)
                        result = future.result()
                        if result.carry is not None:
                            latest[result.unit.partition] = result.carry
                            done_through[result.unit.partition] = result.unit.day
                        ready[index] = result
                    while next_deliver in ready:
                        deliver(ready.pop(next_deliver))
                        next_deliver += 1
                    if cancelled():
                        raise Cancelled
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
