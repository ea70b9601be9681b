"""Benchmark: build every dimension (``build_dimensions``) and save it (DuckDB + Parquet).

Usage: python bench/dims.py [--customers 400000 ...] [--profile]

Each scenario runs in a fresh subprocess (cold dictionary cache, honest peak RSS) and prints the
wall time per table, the total, the import time, and the peak RSS (``ru_maxrss``) of that
process. Targets on a 2-core machine: default volumes ≤ 2 s, 400,000 customers ≤ 6 s, ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

DEFAULT_SCENARIOS: tuple[tuple[str, dict[str, int]], ...] = (
    ("default", {}),
    ("400k customers", {"total_customers": 400_000}),
)
TARGET_SECONDS = {"default": 2.0, "400k customers": 6.0}
TARGET_RSS_MB = 1024


def run_child(volume: dict[str, int], profile: bool) -> dict[str, Any]:
    """Build the dimensions once in this process and report timings (JSON on stdout)."""
    started = time.perf_counter()
    from retail_datagen.config.models import RetailConfig
    from retail_datagen.generators.master_generator import build_dimensions

    imported = time.perf_counter()
    config = RetailConfig.from_mapping({"volume": volume})
    marks: list[tuple[str, float]] = []

    def progress(name: str, index: int, total: int) -> None:
        marks.append((name, time.perf_counter()))

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    begin = time.perf_counter()
    tables = build_dimensions(config, progress=progress)
    end = time.perf_counter()
    if profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)

    import tempfile
    from pathlib import Path

    from retail_datagen.storage.dimension_store import save_dimensions

    with tempfile.TemporaryDirectory() as folder:
        saved = time.perf_counter()
        save_dimensions(Path(folder) / "data", tables)  # DuckDB tables + Parquet exports
        save_seconds = time.perf_counter() - saved

    per_table, previous = [], begin
    for name, stamp in marks:
        per_table.append((name, tables[name].num_rows, stamp - previous))
        previous = stamp
    return {
        "import_seconds": imported - started,
        "build_seconds": end - begin,
        "save_seconds": save_seconds,
        "tables": per_table,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_scenario(name: str, volume: dict[str, int], profile: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", json.dumps(volume)]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    if profile:
        print(done.stderr, file=sys.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    result["name"] = name
    return result


def report(result: dict[str, Any]) -> bool:
    name = result["name"]
    print(f"\n== {name}")
    for table, rows, seconds in result["tables"]:
        print(f"  {table:<32} {rows:>10,} rows  {seconds * 1000:8.1f} ms")
    build, save = float(result["build_seconds"]), float(result["save_seconds"])
    total, rss = build + save, float(result["peak_rss_mb"])
    target = TARGET_SECONDS.get(name)
    ok = (target is None or total <= target) and rss <= TARGET_RSS_MB
    print(f"  {'build (in memory)':<32} {'':>15} {build * 1000:8.1f} ms")
    print(f"  {'save (DuckDB + Parquet)':<32} {'':>15} {save * 1000:8.1f} ms")
    print(f"  {'total':<32} {'':>15} {total * 1000:8.1f} ms  (target {target} s)")
    print(f"  {'imports (not in total)':<32} {'':>15} {result['import_seconds'] * 1000:8.1f} ms")
    print(f"  peak RSS {rss:.0f} MB (target {TARGET_RSS_MB} MB)  ->  {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, action="append", help="extra scenario(s)")
    parser.add_argument("--profile", action="store_true", help="cProfile each build (stderr)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(run_child(json.loads(args.child), args.profile)))
        return 0
    scenarios = list(DEFAULT_SCENARIOS)
    scenarios += [(f"{n:,} customers", {"total_customers": n}) for n in args.customers or ()]
    results = [run_scenario(name, volume, args.profile) for name, volume in scenarios]
    return 0 if all([report(r) for r in results]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
