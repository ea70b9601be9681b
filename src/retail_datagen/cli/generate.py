"""``generate``: dimensions (when missing) and historical facts, with an estimate first.

The window rules (``--start/--end/--days``) and the stored-format default come from
:mod:`retail_datagen.services.generation`, the same code the API's generation tasks use.
"""

from __future__ import annotations

import sys
import threading
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

from retail_datagen.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ConfigOption,
    DataDirOption,
    cli_errors,
    data_root,
    load_config,
    print_counts,
    stderr,
    stdout,
)
from retail_datagen.config.models import RetailConfig
from retail_datagen.dates import parse_day
from retail_datagen.engine.estimate import CONFIRM_LIMITS, GenerationEstimate
from retail_datagen.errors import UserError
from retail_datagen.services.generation import continued_format, estimate_run, plan_window

__all__ = ["generate"]


class Engine(StrEnum):
    local = "local"
    spark = "spark"


class FactFormat(StrEnum):
    """Formats ``generate`` writes facts in (``export`` converts to Parquet or CSV only)."""

    parquet = "parquet"
    csv = "csv"
    delta = "delta"


def _generate_dimensions(cfg: RetailConfig, force: bool) -> dict[str, int]:
    from retail_datagen.engine.master_generator import MasterDataGenerator

    with stderr().status("generating dimensions…") as status:

        def progress(name: str, index: int, total: int) -> None:
            status.update(f"generating dimensions… {index}/{total} ({name})")

        return MasterDataGenerator(cfg, progress=progress).generate_all_master_data(force=force)


def _note_stale_dimensions(cfg: RetailConfig, root: Path) -> None:
    """Facts always use the stored dimensions; say so when the configuration asks for others."""
    from retail_datagen.storage.duckdb_store import open_store
    from retail_datagen.storage.sql import fetch_scalar

    with open_store(root) as con:
        stores = int(fetch_scalar(con, "SELECT count(*) FROM dim_stores") or 0)
    if stores != cfg.volume.stores:
        typer.echo(
            f"note: the dimensions in {root} have {stores} stores but the configuration asks for "
            f"{cfg.volume.stores}; the existing dimensions are used (regenerate them with "
            "`generate --dims-only --force`, which removes the facts)",
            err=True,
        )


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA --:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours}:{minutes:02d}:{secs:02d}" if hours else f"ETA {minutes:02d}:{secs:02d}"


def _speed(rows_per_second: float | None) -> str:
    if rows_per_second is None:
        return ""
    if rows_per_second >= 1e6:
        return f"{rows_per_second / 1e6:.1f} M rows/s"
    return f"{rows_per_second / 1e3:.0f} k rows/s"


def _generate_facts(
    cfg: RetailConfig,
    start: date | None,
    end: date | None,
    workers: int | None,
    fmt: str,
    csv_daily: bool,
    output: str | None = None,
) -> None:
    from retail_datagen.engine.fact_generator import FactDataGenerator
    from retail_datagen.engine.progress import ProgressUpdate

    cancel = threading.Event()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[counter]}"),
        TextColumn("{task.fields[speed]}"),
        TextColumn("{task.fields[eta]}"),
        console=stderr(),
        transient=False,
    )

    with progress:
        task = progress.add_task("facts", total=100.0, counter="", speed="", eta=_eta(None))

        def on_update(update: ProgressUpdate) -> None:
            progress.update(
                task,
                completed=update.percent,
                description=f"facts {update.message}".strip(),
                counter=update.counter,
                speed=_speed(update.rows_per_second),
                eta=_eta(update.estimated_seconds_remaining),
            )

        generator = FactDataGenerator(
            cfg,
            workers=workers,
            output_format=fmt,
            csv_daily=csv_daily,
            progress=on_update,
            cancel_event=cancel,
            output_url=output,
        )
        try:
            result = generator.generate_historical_data(start, end)
        except KeyboardInterrupt:
            cancel.set()
            raise
    if result.cancelled:
        typer.echo(result.message or "cancelled; committed data is intact", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    if not result.rows:
        stdout().print(result.message or "nothing to generate: facts are up to date")
        return
    span = ""
    if result.start is not None and result.end is not None:
        span = f" {result.start:%Y-%m-%d} → {result.end:%Y-%m-%d}"
    print_counts(f"Facts{span}", dict(result.rows), result.seconds)


@cli_errors
def generate(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    dims_only: Annotated[
        bool, typer.Option("--dims-only", help="Generate the dimensions only (no facts).")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            metavar="DATE",
            help="First day of facts (YYYY-MM-DD); default: the day after the last generated "
            "one, or historical.start_date on the first run.",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            metavar="DATE",
            help="Last day of facts, inclusive (YYYY-MM-DD); default: yesterday.",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, metavar="N", help="Generate N days (with --start, --end or alone)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, metavar="N", help="Worker processes; default: all CPUs."),
    ] = None,
    fmt: Annotated[
        FactFormat | None,
        typer.Option(
            "--format",
            help="Fact file format (delta: Parquet plus a Delta log per table, one commit a "
            "run); default: parquet, or the format of existing facts.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            metavar="URL",
            help="Write the fact tables as Delta tables to Azure storage: "
            "abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH (ADLS Gen2, OneLake) or "
            "az://CONTAINER/PATH; credentials from AZURE_STORAGE_* or Azure identity. State "
            "and retail.duckdb stay in the data folder.",
            show_default=False,
        ),
    ] = None,
    csv_daily: Annotated[
        bool,
        typer.Option("--csv-daily", help="With --format csv: Hive-style daily partitions."),
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option("--engine", help="Run the units here (local) or on Spark (pyspark needed)."),
    ] = Engine.local,
    spark_master: Annotated[
        str,
        typer.Option("--spark-master", metavar="URL", help="With --engine spark: the master."),
    ] = "local[2]",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Regenerate the dimensions even when facts exist (removes all fact data).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the estimate (days, rows, disk, time) and exit; writes nothing.",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Proceed without asking when the estimate is over 20 GB or 30 minutes.",
        ),
    ] = False,
) -> None:
    """Generate dimensions (if missing) and historical facts.

    Without a range: from historical.start_date (or after the last generated day) to yesterday.

    The estimate comes first; over 20 GB or 30 minutes a terminal is asked, else --yes is needed.
    """
    cfg = load_config(config, data_dir)
    first = parse_day(start, "--start") if start is not None else None
    last = parse_day(end, "--end") if end is not None else None
    window = days
    if dims_only and (first or last or window or fmt or csv_daily or workers or dry_run or output):
        raise UserError("--dims-only generates no facts; drop the fact options")
    if csv_daily and fmt is not FactFormat.csv:
        if fmt is not None:
            raise UserError("--csv-daily only applies to --format csv")
        fmt = FactFormat.csv
    if output and engine is Engine.spark:
        raise UserError(
            "--output is for the local engine; on Spark give the session a lakehouse path"
        )
    if output:  # a bad URL or missing credentials fail now, in one line
        from retail_datagen.storage.remote import check_output_url

        check_output_url(output)
        fmt = fmt or FactFormat.delta
    plan_start, plan_end = (None, None) if dims_only else plan_window(cfg, first, last, window)

    from retail_datagen.storage.duckdb_store import has_dimensions

    root = data_root(cfg)
    if not dims_only:
        kind = fmt.value if fmt else None
        # --force removes the facts first: the run starts over
        size = estimate_run(
            cfg, first, last, window, workers=workers, output_format=kind, fresh=force
        )
        _announce_estimate(size, dry_run=dry_run, yes=yes)
    if dims_only or force or not has_dimensions(root):
        counts = _generate_dimensions(cfg, force)
        print_counts(f"Dimensions in {root}", counts)
    else:
        _note_stale_dimensions(cfg, root)
    if dims_only:
        return
    # after the dimensions: --force has removed the facts whose format a run would continue
    kind, daily = continued_format(cfg, fmt.value if fmt else None, csv_daily)
    if engine is Engine.spark:
        from retail_datagen.spark.generate import generate_on_master

        result = generate_on_master(cfg, plan_start, plan_end, spark_master, kind, daily)
        print_counts("Facts (Spark)", dict(result.rows), result.seconds)
        return
    _generate_facts(cfg, plan_start, plan_end, workers, kind, daily, output)


def _announce_estimate(size: GenerationEstimate, *, dry_run: bool, yes: bool) -> None:
    """Print the estimate; stop after it (``--dry-run``) or unless a large run is confirmed."""
    if dry_run:
        stdout().print(f"estimate: {size.describe()}")
        raise typer.Exit(0)
    ask = size.needs_confirmation and not yes
    limits = f"over {CONFIRM_LIMITS}"
    if ask and not sys.stdin.isatty():
        raise UserError(
            f"estimated {size.describe()} — {limits}; re-run with --yes to proceed, or "
            "generate fewer days (--days N or --end DATE)"
        )
    typer.echo(f"estimate: {size.describe()}", err=True)
    if ask and not typer.confirm(f"This run is {limits}. Start it?", default=False, err=True):
        typer.echo("not started; nothing was written", err=True)
        raise typer.Exit(EXIT_FAILED)
