"""Benchmark: the Spark engine (local[N]) against the local engine, and how Spark scales.

Usage: python bench/spark.py [--days 7] [--start 2024-03-04] [--master local[2]] [--workers 2]
                             [--config FILE] [--no-local] [--no-digest] [--from FILE.jsonl]

Generates the same range of the default configuration (or ``--config``) with the local engine
(``--workers`` processes) and with the Spark engine (``--master``) into two data folders with
the same dimensions, prints both wall times, the ratio (target: Spark ≤ 2 × local) and whether
every table's digest is equal. From the Spark run it measures each unit's CPU time and each
wave's overhead (a wave's wall time minus the list-scheduled makespan of its units on the
master's slots), then replays the units — the Spark run's, or a ``bench/scaling.py`` recording
given with ``--from`` — on 1 … 256 workers two ways: the local engine's DAG list scheduling,
and Spark's two jobs per day (a barrier after the nights, another after the stores' days) with
the measured overhead per job.
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
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.partitions import NETWORK, Unit, dependencies
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.spark import generate, local_session
from retail_datagen.spark.engine import SparkRunStats
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


def wave_overhead(stats: SparkRunStats, slots: int) -> float:
    """Median Spark overhead per job: its wall time minus its units' makespan on ``slots``."""
    units = sorted(stats.unit_cpu)
    cpu = [stats.unit_cpu[u] for u in units]
    spans = [_makespan([cpu[i] for i in wave], slots) for wave in _waves(units)]
    extra = [wall - span for wall, span in zip(stats.wave_seconds, spans, strict=True)]
    return statistics.median(extra)


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


def spark_schedule(m: Measured, workers: int, overhead: float) -> float:
    """Two jobs per day, each waiting for the previous one, plus ``overhead`` per job."""
    return sum(_makespan([m.seconds[i] for i in w], workers) + overhead for w in _waves(m.units))


def simulate(m: Measured, overhead: float) -> None:
    total = sum(m.seconds)
    days = len({u.day for u in m.units})
    kinds = defaultdict(int)
    for u in m.units:
        kinds["network" if u.partition == NETWORK else "night" if u.store < 0 else "store"] += 1
    print(
        f"\nsimulation: {days} days, {len(m.units)} units ({dict(kinds)}), {total:.1f} CPU-s; "
        f"Spark overhead {overhead * 1000:.0f} ms per job, 2 jobs per day"
    )
    print(f"{'workers':>8} {'local DAG':>10} {'Spark waves':>12} {'Spark, no overhead':>19}")
    for n in WORKERS:
        local = total / list_schedule(m, n)
        spark = total / spark_schedule(m, n, overhead)
        bare = total / spark_schedule(m, n, 0.0)
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
        overhead = wave_overhead(stats, _slots(args.master))
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
