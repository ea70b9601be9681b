"""Benchmark: how far the region-step / store-step split lets generation scale.

Usage: python bench/scaling.py [--stores 400] [--dcs 8] [--days 14] [--start 2024-03-04]
                               [--json FILE]

Runs every unit of the range once in this process (one worker), records each unit's compute
(CPU) time and the units it depends on (``engine.partitions.dependencies``), then replays the DAG
with list scheduling — whenever a worker is free it takes the earliest ready unit in canonical
order, as the local engine does — on 1, 2, 4, ..., 256 workers and prints the makespan and the
speed-up. Target (issue 11): speed-up ≥ 0.6 × N up to N = 64.
"""

from __future__ import annotations

import argparse
import heapq
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.partitions import NETWORK, Unit, canonical_units, dependencies, run_unit
from retail_datagen.engine.steps import EngineState
from retail_datagen.generators.facts.context import build_context
from retail_datagen.generators.master_generator import build_dimensions

WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
TARGET_EFFICIENCY, TARGET_UP_TO = 0.6, 64


@dataclass(frozen=True)
class Measured:
    units: list[Unit]
    seconds: list[float]
    deps: list[list[int]]  # indices into units


def _kind(unit: Unit) -> str:
    if unit.partition == NETWORK:
        return "network"
    return "region" if unit.store < 0 else "store"


def measure(stores: int, dcs: int, days: int, start: date) -> Measured:
    config = RetailConfig.from_mapping({"volume": {"stores": stores, "dcs": dcs}})
    dims = build_dimensions(config)
    ctx = build_context(config, dims, start)
    region_stores = ctx.supply.region_stores
    units = canonical_units([start + timedelta(days=i) for i in range(days)], region_stores)
    index = {u: i for i, u in enumerate(units)}
    state = EngineState(region_stores, {})
    seconds: list[float] = []
    for unit in units:
        began = time.process_time()  # CPU time: other processes on the machine do not count
        result = run_unit(ctx, unit, state.inputs(unit))
        seconds.append(time.process_time() - began)
        state.absorb(result)
    deps = [[index[d] for d in dependencies(u, start, region_stores)] for u in units]
    return Measured(units, seconds, deps)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=400)
    parser.add_argument("--dcs", type=int, default=8)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start", default="2024-03-04")
    parser.add_argument("--json", type=Path, help="also write the measured units here")
    args = parser.parse_args()
    m = measure(args.stores, args.dcs, args.days, date.fromisoformat(args.start))
    total = sum(m.seconds)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for unit, s in zip(m.units, m.seconds, strict=True):
        by_kind[_kind(unit)].append(s)
    print(f"{args.stores} stores, {args.dcs} DCs, {args.days} days: {len(m.units)} units")
    for kind, times in sorted(by_kind.items()):
        times.sort()
        print(
            f"  {kind:8s} {len(times):5d} units  total {sum(times):8.1f} s  "
            f"median {times[len(times) // 2]:.3f} s  max {times[-1]:.3f} s"
        )
    print(f"  total work {total:.1f} s, critical path {critical_path(m):.1f} s")
    print(f"\n{'workers':>8} {'makespan s':>11} {'speed-up':>9} {'× N':>6}  target")
    ok = True
    for n in WORKERS:
        span = list_schedule(m, n)
        speedup = total / span
        target = n <= TARGET_UP_TO
        met = speedup >= TARGET_EFFICIENCY * n
        ok = ok and (met or not target)
        flag = ("ok" if met else "MISSED") if target else ""
        print(f"{n:8d} {span:11.1f} {speedup:9.1f} {speedup / n:6.2f}  {flag}")
    print(f"\ntarget speed-up ≥ {TARGET_EFFICIENCY} × N up to N = {TARGET_UP_TO}: {ok}")
    if args.json:
        rows = [
            {
                "day": u.day.isoformat(),
                "region": u.partition,
                "store": u.store,
                "seconds": s,
                "deps": d,
            }
            for u, s, d in zip(m.units, m.seconds, m.deps, strict=True)
        ]
        args.json.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
