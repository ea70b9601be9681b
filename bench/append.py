"""Benchmark: appending days to a month that already has many costs what the new days cost.

Usage: python bench/append.py [--config FILE] [--workers 2] [--repeat 3]
       (bench/append_medium.json is the medium chain used in docs/PERFORMANCE.md)

One history of 18 days (2024-04-01 → 04-18), then the same 2-day append (04-19 → 04-20) twice,
so both runs generate exactly the same rows:

- into the month with 18 days: the history as it is;
- into an empty month: the same history with its April fact files removed (a run reads only
  the carried state and the state file, so it generates the same rows; only what the writer
  finds in the month differs).

Each append runs ``--repeat`` times on a fresh copy; the median time is used. Prints both
medians and the ratio (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator

HISTORY = (date(2024, 4, 1), date(2024, 4, 18))
APPEND_END = date(2024, 4, 20)
CASES = ("empty month", "month with 18 days")


def _config(path: str | None, root: Path) -> RetailConfig:
    cfg = RetailConfig.from_file(path) if path else RetailConfig.model_validate({})
    return cfg.with_data_dir(root)


def _append(
    config_path: str | None, history: Path, scratch: Path, end: date, workers: int
) -> tuple[float, int]:
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(history, scratch)
    generator = FactDataGenerator(_config(config_path, scratch), workers=workers)
    began = time.perf_counter()
    result = generator.generate_historical_data(None, end)
    return time.perf_counter() - began, result.total_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="configuration JSON (default: built-in defaults)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-append-") as tmp:
        base = Path(tmp)
        dims = base / "dims"
        MasterDataGenerator(_config(args.config, dims)).generate_all_master_data()
        history = base / "history"
        shutil.copytree(dims, history)
        FactDataGenerator(
            _config(args.config, history), workers=args.workers
        ).generate_historical_data(*HISTORY)
        empty_month = base / "empty_month"
        shutil.copytree(history, empty_month)
        for part in empty_month.glob("export/fact_*/*_2024-04*"):
            part.unlink()
        results: dict[str, dict[str, float]] = {}
        for name, source in zip(CASES, (empty_month, history), strict=True):
            runs = [
                _append(args.config, source, base / "scratch", APPEND_END, args.workers)
                for _ in range(args.repeat)
            ]
            seconds = statistics.median(s for s, _ in runs)
            rows = runs[0][1]
            results[name] = {"seconds": round(seconds, 2), "rows": rows}
            print(f"{name:>20}: {seconds:6.2f} s median of {args.repeat}, {rows:,} rows appended")
        empty, full = results["empty month"], results["month with 18 days"]
        ratio = full["seconds"] / empty["seconds"]
        print(f"ratio (18-day month / empty month): {ratio:.2f} (target <= 1.3)")
        print(
            json.dumps(
                {
                    "machine": f"{platform.processor() or platform.machine()}, "
                    f"{platform.python_version()}",
                    "workers": args.workers,
                    "results": results,
                    "ratio": round(ratio, 3),
                }
            )
        )


if __name__ == "__main__":
    main()
