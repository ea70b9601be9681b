"""Benchmark: historical facts end to end (Parquet written, tables queryable in DuckDB).

Usage: python bench/facts.py [--days 7] [--workers 2] [--config FILE] [--start 2024-03-04]

Prints rows per table, rows per second end to end, peak RSS of the whole process tree, and the
ratio of our total time to the time pyarrow alone needs to write the same tables from memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import shutil
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psutil
import pyarrow.parquet as pq

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.storage.layout import DataLayout


class PeakRss:
    """Samples the RSS of this process and its children every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bare_pyarrow_write_seconds(export: Path, scratch: Path) -> float:
    """Time pyarrow needs to write the generated fact tables from memory (default options)."""
    tables = [pq.read_table(p) for p in sorted(export.glob("fact_*/*.parquet"))]
    scratch.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    for i, table in enumerate(tables):
        pq.write_table(table, scratch / f"t{i}.parquet")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--start", default="2024-03-04")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()

    base = RetailConfig.from_file(args.config) if args.config else RetailConfig()
    root = Path(tempfile.mkdtemp(prefix="bench-facts-"))
    config = base.with_data_dir(root / "data")
    MasterDataGenerator(config).generate_all_master_data()
    start = date.fromisoformat(args.start)
    end = start + timedelta(days=args.days - 1)

    with PeakRss() as rss:
        began = time.perf_counter()
        result = FactDataGenerator(config, workers=args.workers).generate_historical_data(
            start, end
        )
        seconds = time.perf_counter() - began
    con = duckdb.connect(str(root / "data" / "retail.duckdb"), read_only=True)
    queried = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in result.rows}
    con.close()
    layout = DataLayout.of(root / "data")
    for t in queried:  # the views also show the orders still in flight at the range end
        if layout.in_flight_file(t).exists():
            queried[t] -= pq.read_metadata(layout.in_flight_file(t)).num_rows
    assert queried == result.rows, "DuckDB does not see what was written"
    bare = bare_pyarrow_write_seconds(root / "data" / "export", root / "bare")

    report = {
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "days": args.days,
        "workers": args.workers,
        "rows": result.rows,
        "total_rows": result.total_rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(result.total_rows / seconds),
        "peak_rss_mb": round(rss.peak / 2**20),
        "bare_pyarrow_write_seconds": round(bare, 2),
        "ratio_to_bare_write": round(seconds / bare, 2),
    }
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
