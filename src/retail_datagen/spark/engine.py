"""The Spark engine: the local engine's units, run as Spark tasks in dependency waves.

Each day is two Spark jobs: the network's day with every region's night, then every store's
day (a store reads its region's night). A task computes its units on an executor and spools their
tables to the shared output path; only carried state (stock, velocity, returns, orders in
flight — small) comes back to the driver, which hands each unit its inputs exactly as the local
engine does (:class:`EngineState`). At the end of each period (month) one task per table writes
the period's file from the spooled parts in canonical order, through the local engine's writer;
the driver commits (carried state, then the state file) where the local engine does: at each
period boundary and once at the end. Output is therefore the local
engine's, file for file; fact rows never reach the driver.
"""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.history import HistoryAppender
from retail_datagen.engine.partitions import (
    NETWORK,
    RegionCarry,
    Unit,
    UnitResult,
    canonical_units,
)
from retail_datagen.engine.steps import EngineState, Persisted
from retail_datagen.errors import UserError
from retail_datagen.generators.facts.supply import region_stores
from retail_datagen.spark.executor import Shipped, merge_period, pack_dimensions, run_units

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["SPARK_SPOOL_PREFIX", "TASKS_PER_SLOT", "SparkEngine", "SparkRunStats", "day_waves"]

SPARK_SPOOL_PREFIX = ".spark-spool-"
# Spark tasks per slot in a wave: a task costs tens of milliseconds (hundreds on a busy
# machine) whatever it computes, so a wave's units are grouped; a few per slot still balance
# units of different sizes.
TASKS_PER_SLOT = 3


@dataclass
class SparkRunStats:
    """What a run wrote and how long its parts took (bench/spark.py)."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    wave_seconds: list[float] = field(default_factory=list)  # wall time of each compute job
    merge_seconds: list[float] = field(default_factory=list)  # wall time of each period merge
    unit_cpu: dict[Unit, float] = field(default_factory=dict)  # CPU seconds per unit


def day_waves(day: date, stores: Sequence[np.ndarray]) -> tuple[list[Unit], list[Unit]]:
    """A day's two waves: the network and every region's night, then every store's day."""
    nights = [Unit(day, NETWORK), *(Unit(day, r) for r in range(len(stores)))]
    days = [Unit(day, r, int(s)) for r, ss in enumerate(stores) for s in ss.tolist()]
    return nights, days


class SparkEngine:
    def __init__(self, spark: SparkSession, stats: SparkRunStats | None = None) -> None:
        self.spark = spark
        self.stats = stats if stats is not None else SparkRunStats()

    def run(
        self,
        config: RetailConfig,
        dims: Mapping[str, pa.Table],
        days: list[date],
        appender: HistoryAppender,
        history_start: date,
        disruptions: Sequence[Any] = (),
        on_day: Callable[[date], None] = lambda day: None,
    ) -> SparkRunStats:
        """Generate ``days`` and append them through ``appender`` (committing each period)."""
        history = appender.history
        root = str(history.layout.root)
        daily = history.csv_daily
        # a Delta output's files are Parquet; the appender's commit publishes them
        fmt = "parquet" if history.output_format == "delta" else history.output_format
        stores = region_stores(dims)
        store_ids = dims["dim_stores"].sort_by("ID")["ID"].to_numpy()
        state = EngineState(stores, appender.carry, store_ids)
        persisted = Persisted(stores)
        key = uuid.uuid4().hex
        spool = Path(root) / f"{SPARK_SPOOL_PREFIX}{key}"
        self._check_shared(history.layout.export_dir)
        sc = self.spark.sparkContext
        shipped = sc.broadcast(
            Shipped(
                key,
                config.model_dump_json(),
                pack_dimensions(dims),
                history_start,
                tuple(disruptions),
            )
        )
        stats = self.stats
        period_of = appender.writer.period_of
        try:
            for _, period in itertools.groupby(days, period_of):
                period_days = list(period)
                # the period boundary commits the previous period, as on the local engine
                appender.add(period_days[0], {}, {})
                parts: dict[str, list[tuple[date, str]]] = {}
                carried: dict[int, RegionCarry] = {}  # each region's state at its last day
                for day in period_days:
                    for done in self._day(day, stores, state, persisted, shipped, str(spool)):
                        carried.update(done.carry)
                        for table, path in done.spooled.items():
                            parts.setdefault(table, []).append((day, path))
                    on_day(day)
                began = time.monotonic()
                self._merge(root, fmt, daily, period_days, parts, stats)
                stats.merge_seconds.append(time.monotonic() - began)
                for day in period_days:  # the period's files are in place
                    appender.add(day, {}, carried if day == period_days[-1] else {})
                shutil.rmtree(spool, ignore_errors=True)
            appender.commit(days[-1])
        except BaseException:
            appender.abort()
            raise
        finally:
            shipped.unpersist()
            shutil.rmtree(spool, ignore_errors=True)
        return stats

    def _day(
        self,
        day: date,
        stores: Sequence[np.ndarray],
        state: EngineState,
        persisted: Persisted,
        shipped: Any,
        spool: str,
    ) -> list[UnitResult]:
        """Compute ``day`` (two waves); its results in canonical order, persisted carry set."""
        results: dict[Unit, UnitResult] = {}
        for wave in day_waves(day, stores):
            payloads = [pickle.dumps((u, state.inputs(u))) for u in wave]
            began = time.monotonic()
            for result in self._wave(shipped, spool, payloads):
                state.absorb(result)
                results[result.unit] = result
                self.stats.unit_cpu[result.unit] = result.cpu_seconds
            self.stats.wave_seconds.append(time.monotonic() - began)
        return [persisted.delivered(results[u]) for u in canonical_units([day], stores)]

    def _check_shared(self, folder: Path) -> None:
        """Refuse an output path the executors do not see (they write the rows there)."""
        seen = self.spark.sparkContext.parallelize([str(folder)], 1).map(os.path.isdir).collect()
        if not all(seen):
            raise UserError(
                f"the executors do not see {folder}; give a path shared by the driver and every "
                "executor (a Databricks /Volumes/ or /dbfs/ path, a mounted lakehouse)"
            )

    def _wave(self, shipped: Any, spool: str, payloads: list[bytes]) -> list[UnitResult]:
        """Run one wave's units, in up to ``TASKS_PER_SLOT`` tasks per slot; their results
        without tables."""
        sc = self.spark.sparkContext
        tasks = min(len(payloads), TASKS_PER_SLOT * max(1, sc.defaultParallelism))
        rdd = sc.parallelize(payloads, tasks)
        out = rdd.mapPartitions(lambda it: run_units(shipped.value, spool, it)).collect()
        return [pickle.loads(b) for b in out]

    def _merge(
        self,
        root: str,
        fmt: str,
        daily: bool,
        days: list[date],
        parts: dict[str, list[tuple[date, str]]],
        stats: SparkRunStats,
    ) -> None:
        """Write the period's files, one Spark task per table."""
        if not parts:
            return
        jobs = sorted(parts.items())
        rdd = self.spark.sparkContext.parallelize(jobs, len(jobs))
        written = rdd.map(
            lambda job: merge_period(root, fmt, daily, job[0], days, job[1])
        ).collect()
        for table, rows, files in written:
            stats.rows[table] = stats.rows.get(table, 0) + rows
            stats.files.extend(files)
