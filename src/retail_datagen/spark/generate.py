"""Generating facts on Spark: the notebook API and what ``generate --engine spark`` calls.

The driver plans the range exactly as the local engine does (continuation, carried state, period
commits through :class:`HistoryAppender`), builds the dimensions once and ships them to the
executors; the units run there (:mod:`retail_datagen.spark.engine`). The output is the data
folder the local engine writes, so ``digest``, ``validate``, ``status`` and DuckDB work on it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.fact_generator import GenerationResult, plan_days
from retail_datagen.engine.history import History, end_of, remove_leftovers
from retail_datagen.errors import UserError
from retail_datagen.spark.engine import SparkEngine, SparkRunStats
from retail_datagen.storage.duckdb_store import has_dimensions, refresh_fact_views

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["FORMATS", "generate", "generate_on_master", "local_session"]

FORMATS = ("parquet", "csv", "delta")


def generate(
    spark: SparkSession,
    config: RetailConfig,
    *,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    path: str | Path | None = None,
    format: str = "parquet",
    csv_daily: bool = False,
    on_day: Callable[[date], None] = lambda day: None,
    stats: SparkRunStats | None = None,
) -> GenerationResult:
    """Generate the facts of ``start`` → ``end`` (inclusive; defaults as ``generate``) with
    ``spark`` into the data folder ``path`` (default: ``config.paths.data``).

    ``path`` must be a file system path that the driver and every executor see (a Databricks
    ``/Volumes/...`` or ``/dbfs/...`` path, a Fabric lakehouse mount, or any path in
    ``local[N]``). The dimensions are generated first when the folder has none. ``format``
    "delta" writes the Parquet files and commits them as Delta tables (delta-rs) where this
    install supports Delta output.
    ``on_day`` is called as each day is computed; ``stats``, when given, receives the run's
    timings (bench/spark.py).
    """
    if format not in FORMATS:
        raise UserError(f"format = {format!r}: use one of {', '.join(FORMATS)}")
    if csv_daily and format != "csv":
        raise UserError("csv_daily only applies to format 'csv'")
    began = time.monotonic()
    if path is not None:
        config = config.with_data_dir(Path(path))
    root = config.paths.data
    if not has_dimensions(root):
        from retail_datagen.engine.master_generator import MasterDataGenerator

        MasterDataGenerator(config).generate_all_master_data()
    # Delta (issue 13 item 3): the period files are Parquet and the appender's final commit
    # publishes them as one Delta append per table (delta-rs), as on the local engine
    history = History.open(str(root), format, csv_daily)
    if getattr(history, "output_url", None):
        raise UserError(
            "the Spark engine writes to a file system path shared by its executors, not to a "
            "storage URL; generate into a mounted path (see Running on Fabric / Databricks)"
        )
    first, last = plan_days(config, history.last_generated, start, end, date.today())
    if first > last:
        remove_leftovers(history.layout, history.last_day)
        return GenerationResult(
            {}, None, None, 0.0, message=f"facts are up to date through {last.isoformat()}"
        )
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    appender = history.appender(first, seed=config.seed)
    try:
        stats = SparkEngine(spark, stats).run(
            config,
            history.dimensions(),
            days,
            appender,
            history.first_day_of_dataset(first),
            history.disruptions(),
            on_day,
        )
    finally:
        refresh_fact_views(history.layout.root)
    return GenerationResult(
        rows=stats.rows,
        start=datetime.combine(first, datetime.min.time()),
        end=end_of(last),
        seconds=time.monotonic() - began,
        files=stats.files,
    )


def local_session(master: str = "local[2]") -> SparkSession:
    """A SparkSession for ``master`` whose Python workers run this interpreter (so they
    import this retail_datagen), quiet and without a web UI."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError(
            "--engine spark needs pyspark: pip install 'retail-datagen[spark]'"
        ) from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master(master)
        .appName("retail-datagen")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")
        .config("spark.driver.memory", os.environ.get("RETAIL_DATAGEN_SPARK_DRIVER_MEMORY", "1g"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def generate_on_master(
    config: RetailConfig,
    start: date | None,
    end: date | None,
    master: str,
    format: str,
    csv_daily: bool,
) -> GenerationResult:
    """``generate --engine spark``: a session for ``master`` (stopped after the run unless it
    was already running); each finished day and a run with nothing to do go to stderr."""
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    spark = local_session(master)
    try:
        result = generate(
            spark,
            config,
            start=start,
            end=end,
            format=format,
            csv_daily=csv_daily,
            on_day=lambda day: print(f"facts {day.isoformat()} done", file=sys.stderr),
        )
    finally:
        if running is None:
            spark.stop()
    if result.message:
        print(result.message, file=sys.stderr)
    return result
