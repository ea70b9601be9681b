"""Benchmark: how far the region-step / store-step split lets generation scale.

Usage: python bench/scaling.py [--stores 400] [--dcs 8] [--days 14] [--start 2024-03-04]
                               [--workers 2] [--record FILE.jsonl] [--from FILE.jsonl]

Computes every unit of the range once (on ``--workers`` processes of the local engine, which
changes nothing but the wall time), records each unit's compute (CPU) time and the units it
depends on (``engine.partitions.dependencies``), then replays the DAG with list scheduling —
whenever a worker is free it takes the earliest ready unit in canonical order, as the local
engine does — on 1, 2, 4, ..., 256 workers and prints the makespan and the speed-up.
``--from`` analyses a recording again (whole days of a partial one). Target (issue 11):
speed-up ≥ 0.6 × N up to N = 64.
"""

from __future__ import annotations

import argparse
import heapq
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.local import LocalEngine
from retail_datagen.engine.partitions import (
    NETWORK,
    Unit,
    UnitResult,
    canonical_units,
    dependencies,
)
from retail_datagen.generators.facts.supply import region_stores
from retail_datagen.generators.master_generator import build_dimensions

WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
TARGET_EFFICIENCY, TARGET_UP_TO = 0.6, 64


@dataclass(frozen=True)
class Measured:
    units: list[Unit]
    seconds: list[float]
    deps: list[list[int]]  # indices into units


def record(args: argparse.Namespace, out: Path) -> None:
    """Compute every unit once and append (unit, CPU seconds, dependencies) to ``out``."""
    config = RetailConfig.from_mapping({"volume": {"stores": args.stores, "dcs": args.dcs}})
    dims = build_dimensions(config)
    start = date.fromisoformat(args.start)
    stores = region_stores(dims)
    units = canonical_units([start + timedelta(days=i) for i in range(args.days)], stores)
    with out.open("w") as sink:

        def deliver(result: UnitResult) -> None:
            u = result.unit
            deps = [
                [d.day.isoformat(), d.partition, d.store] for d in dependencies(u, start, stores)
            ]
            row = [u.day.isoformat(), u.partition, u.store, result.cpu_seconds, deps]
            sink.write(json.dumps(row) + "\n")
            sink.flush()

        LocalEngine(args.workers).run(config, dims, units, {}, deliver, history_start=start)


def load(path: Path) -> Measured:
    """A recording, cut to its whole days."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    per_day: dict[str, int] = defaultdict(int)
    for row in rows:
        per_day[row[0]] += 1
    full = max(per_day.values(), default=0)
    rows = [r for r in rows if per_day[r[0]] == full]
    units = [Unit(date.fromisoformat(r[0]), r[1], r[2]) for r in rows]
    index = {u: i for i, u in enumerate(units)}
    deps = [[index[Unit(date.fromisoformat(d[0]), d[1], d[2])] for d in r[4]] for r in rows]
    return Measured(units, [float(r[3]) for r in rows], deps)


def list_schedule(m: Measured, workers: int) -> float:
    """Makespan of greedy list scheduling (earliest canonical unit first) on ``workers``."""
    waiting = [len(d) for d in m.deps]
    dependents: dict[int, list[int]] = defaultdict(list)
    for i, deps in enumerate(m.deps):
        for d in deps:
            dependents[d].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []  # (finish time, unit)
    now, idle = 0.0, workers
    while ready or running:
        while ready and idle:
            i = heapq.heappop(ready)
            heapq.heappush(running, (now + m.seconds[i], i))
            idle -= 1
        now, i = heapq.heappop(running)
        idle += 1
        for j in dependents[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    return now


def critical_path(m: Measured) -> float:
    finish = [0.0] * len(m.units)
    for i in range(len(m.units)):  # canonical order is a topological order
        finish[i] = m.seconds[i] + max((finish[d] for d in m.deps[i]), default=0.0)
    return max(finish, default=0.0)


def report(m: Measured) -> None:
    total = sum(m.seconds)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for unit, s in zip(m.units, m.seconds, strict=True):
        kind = "network" if unit.partition == NETWORK else "region" if unit.store < 0 else "store"
        by_kind[kind].append(s)
    days = len({u.day for u in m.units})
    print(f"{days} days, {len(m.units)} units (CPU seconds)")
    for kind, times in sorted(by_kind.items()):
        times.sort()
        print(
            f"  {kind:8s} {len(times):5d} units  total {sum(times):8.1f} s  "
            f"median {times[len(times) // 2]:.3f} s  max {times[-1]:.3f} s"
        )
    print(f"  total work {total:.1f} s, critical path {critical_path(m):.1f} s")
    print(f"\n{'workers':>8} {'makespan s':>11} {'speed-up':>9} {'÷ N':>6}  target")
    ok = True
    for n in WORKERS:
        span = list_schedule(m, n)
        speedup = total / span
        met = speedup >= TARGET_EFFICIENCY * n
        ok = ok and (met or n > TARGET_UP_TO)
        flag = ("ok" if met else "MISSED") if n <= TARGET_UP_TO else ""
        print(f"{n:8d} {span:11.1f} {speedup:9.1f} {speedup / n:6.2f}  {flag}")
    print(f"\nspeed-up ≥ {TARGET_EFFICIENCY} × N up to N = {TARGET_UP_TO}: {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=400)
    parser.add_argument("--dcs", type=int, default=8)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start", default="2024-03-04")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--record", type=Path, default=Path("scaling-units.jsonl"))
    parser.add_argument("--from", dest="source", type=Path, help="analyse this recording")
    args = parser.parse_args()
    if args.source is None:
        record(args, args.record)
    report(load(args.source or args.record))


if __name__ == "__main__":
    main()
