"""Benchmark: the Spark engine (local[N]) against the local engine, and how Spark scales.

Usage: python bench/spark.py [--days 7] [--start 2024-03-04] [--master local[2]] [--workers 2]
                             [--config FILE] [--no-local] [--no-digest] [--from FILE.jsonl]

Generates the same range of the default configuration (or ``--config``) with the local engine
(``--workers`` processes) and with the Spark engine (``--master``) into two data folders with
the same dimensions, prints both wall times, the ratio (target: Spark ≤ 2 × local) and whether
every table's digest is equal. It takes each unit's CPU time from the Spark run and Spark's own
cost per job and per round of tasks from empty jobs of the same sizes, then replays the units —
the Spark run's, or a ``bench/scaling.py`` recording given with ``--from`` — on 1 … 256 workers
two ways: the local engine's DAG list scheduling, and Spark's two jobs per day (a barrier after
the nights, another after the stores' days) with the measured overhead.
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.partitions import NETWORK, Unit, dependencies
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.spark import generate, local_session
from retail_datagen.spark.engine import TASKS_PER_SLOT, SparkRunStats
from retail_datagen.storage.digest import table_digests
from scaling import WORKERS, Measured, list_schedule, load


def _slots(master: str) -> int:
    match = re.fullmatch(r"local\[(\d+|\*)\]", master)
    if match is None:
        return 2
    return os.cpu_count() or 1 if match.group(1) == "*" else int(match.group(1))


def _makespan(seconds: Sequence[float], workers: int) -> float:
    """Independent tasks, longest first on the first free worker (a wave of Spark tasks)."""
    finish = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + s)
    return max(finish)


def _waves(units: Sequence[Unit]) -> list[list[int]]:
    """Indices of each day's two waves: the network and the nights, then the stores' days."""
    waves: dict[tuple[date, int], list[int]] = defaultdict(list)
    for i, u in enumerate(units):
        waves[(u.day, 0 if u.store < 0 else 1)].append(i)
    return [waves[k] for k in sorted(waves)]


@dataclass(frozen=True)
class Overhead:
    """Spark's cost of a job apart from its units: ``job`` seconds fixed, ``task`` seconds per
    round of tasks on the slots (measured with empty tasks, so the units' work is not in it)."""

    job: float
    task: float

    def of(self, tasks: int, workers: int) -> float:
        return self.job + self.task * -(-tasks // workers)


def measure_overhead(spark: Any, slots: int, tasks: int, repeats: int = 5) -> Overhead:
    """Time empty jobs of one task and of ``tasks`` tasks (medians of ``repeats``)."""
    sc = spark.sparkContext

    def job(n: int) -> float:
        began = time.monotonic()
        sc.parallelize(range(n), n).map(lambda x: x).collect()
        return time.monotonic() - began

    one = statistics.median(job(1) for _ in range(repeats))
    many = statistics.median(job(tasks) for _ in range(repeats))
    rounds = -(-tasks // slots)
    return Overhead(one, max(0.0, (many - one) / max(1, rounds - 1)))


def measured_from(stats: SparkRunStats) -> Measured:
    units = sorted(stats.unit_cpu)
    first = units[0].day
    stores: dict[int, list[int]] = defaultdict(list)
    for u in units:
        if u.day == first and u.store >= 0:
            stores[u.partition].append(u.store)
    region_stores = [np.array(stores[r]) for r in range(max(stores, default=-1) + 1)]
    index = {u: i for i, u in enumerate(units)}
    deps = [[index[d] for d in dependencies(u, first, region_stores)] for u in units]
    return Measured(units, [stats.unit_cpu[u] for u in units], deps)


def spark_schedule(m: Measured, workers: int, overhead: Overhead) -> float:
    """Two jobs per day, each waiting for the previous one, each with Spark's overhead (its
    units in up to ``TASKS_PER_SLOT`` tasks per worker)."""
    return sum(
        _makespan([m.seconds[i] for i in w], workers)
        + overhead.of(min(len(w), TASKS_PER_SLOT * workers), workers)
        for w in _waves(m.units)
    )


def simulate(m: Measured, overhead: Overhead) -> None:
    total = sum(m.seconds)
    days = len({u.day for u in m.units})
    kinds = defaultdict(int)
    for u in m.units:
        kinds["network" if u.partition == NETWORK else "night" if u.store < 0 else "store"] += 1
    print(
        f"\nsimulation: {days} days, {len(m.units)} units ({dict(kinds)}), {total:.1f} CPU-s; "
        f"Spark overhead {overhead.job * 1000:.0f} ms per job + {overhead.task * 1000:.0f} ms "
        "per round of tasks, 2 jobs per day"
    )
    print(f"{'workers':>8} {'local DAG':>10} {'Spark waves':>12} {'Spark, no overhead':>19}")
    for n in WORKERS:
        local = total / list_schedule(m, n)
        spark = total / spark_schedule(m, n, overhead)
        bare = total / spark_schedule(m, n, Overhead(0.0, 0.0))
        print(f"{n:8d} {local:9.1f}× {spark:11.1f}× {bare:18.1f}×")


def run(args: argparse.Namespace) -> None:
    config = RetailConfig.from_file(args.config) if args.config else RetailConfig()
    first = date.fromisoformat(args.start)
    last = first + timedelta(days=args.days - 1)
    base = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    try:
        dims = base / "dims"
        MasterDataGenerator(config.with_data_dir(dims)).generate_all_master_data()
        print(f"load average at the start: {os.getloadavg()}")
        local_s = None
        if not args.no_local:
            shutil.copytree(dims, base / "local")
            began = time.monotonic()
            result = FactDataGenerator(
                config.with_data_dir(base / "local"), workers=args.workers
            ).generate_historical_data(first, last)
            local_s = time.monotonic() - began
            print(
                f"local engine, {args.workers} workers: {args.days} days, "
                f"{result.total_rows:,} rows in {local_s:.1f} s"
            )
        shutil.copytree(dims, base / "spark")
        began = time.monotonic()
        spark = local_session(args.master)
        started = time.monotonic() - began
        stats = SparkRunStats()
        began = time.monotonic()
        result = generate(spark, config, start=first, end=last, path=base / "spark", stats=stats)
        spark_s = time.monotonic() - began
        print(
            f"Spark engine, {args.master}: {result.total_rows:,} rows in {spark_s:.1f} s "
            f"(+ {started:.1f} s to start the session); compute jobs "
            f"{sum(stats.wave_seconds):.1f} s, period merges "
            f"{sum(stats.merge_seconds):.1f} s"
        )
        print(f"load average at the end: {os.getloadavg()}")
        if local_s is not None:
            ratio = spark_s / local_s
            print(f"Spark / local: {ratio:.2f}× (target ≤ 2×): {'met' if ratio <= 2 else 'MISSED'}")
        if not args.no_digest and not args.no_local:
            same = table_digests(base / "local") == table_digests(base / "spark")
            print(f"every table's digest equal: {same}")
        slots = _slots(args.master)
        overhead = measure_overhead(spark, slots, TASKS_PER_SLOT * slots)
        print(
            f"empty Spark jobs: {overhead.job * 1000:.0f} ms per job, "
            f"{overhead.task * 1000:.0f} ms per round of tasks on {slots} slots"
        )
        spark.stop()
        simulate(load(args.source) if args.source else measured_from(stats), overhead)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--start", default="2024-03-04")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--no-local", action="store_true", help="run the Spark engine only")
    parser.add_argument("--no-digest", action="store_true", help="skip the digest comparison")
    parser.add_argument("--from", dest="source", type=Path, help="simulate this recording")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
