"""The ``retail-datagen`` command line: generate, export, validate, status, clear.

Each command is a thin shell over a library call (see README "CLI reference"). Every
:class:`UserError` becomes one line ``error: <message>`` on stderr with exit code 2; Ctrl-C exits
130; an unexpected exception prints one line and a hint to use ``--debug`` (exit 1).
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table as RichTable

from retail_datagen import __version__
from retail_datagen.cli_help import FlagGroup
from retail_datagen.config.models import RetailConfig
from retail_datagen.config.secrets import install_redaction, redact
from retail_datagen.errors import UserError
from retail_datagen.generators.estimate import CONFIRM_LIMITS, GenerationEstimate, estimate_run
from retail_datagen.generators.fact_generator import plan_window

if TYPE_CHECKING:
    from retail_datagen.generators.generation_state import GenerationState
    from retail_datagen.storage.duckdb_store import TableInfo

__all__ = ["app", "main"]

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USER_ERROR = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


app = typer.Typer(
    cls=FlagGroup,
    name="retail-datagen",
    help=(
        "Generate realistic, entirely synthetic retail data (dimensions + facts) into an "
        "embedded DuckDB store and Parquet/CSV files."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_DEBUG = False
_log = logging.getLogger("retail_datagen")


class FileFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


class Engine(StrEnum):
    local = "local"
    spark = "spark"


# ---------------------------------------------------------------- shared options
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration JSON (see config.example.json); built-in defaults when omitted.",
        dir_okay=False,
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        "-d",
        help="Data folder (retail.duckdb, export/); default: the config's paths.data ('data').",
        file_okay=False,
        show_default=False,
    ),
]


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _one_line(text: str) -> str:
    return " ".join(redact(text).split())


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise typer.Exit(code)


_DISK_FULL = (
    "no space left on device; free some space (or use another --data-dir) and run the command "
    "again: data already committed is intact"
)


def _is_disk_full(exc: BaseException | None) -> bool:
    """ENOSPC anywhere in the exception chain (DuckDB and Arrow only keep the message)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if "no space left on device" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn exceptions of a command into one clear line and the documented exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except UserError as exc:
            _fail(str(exc), EXIT_USER_ERROR)
        except KeyboardInterrupt:
            typer.echo("interrupted; data already committed is intact", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if _DEBUG:
                raise
            if _is_disk_full(exc):
                _fail(_DISK_FULL, EXIT_USER_ERROR)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
            _fail(f"unexpected {reason} (run with --debug for details)", EXIT_FAILED)

    return wrapper


def _load_config(config: Path | None, data_dir: Path | None) -> RetailConfig:
    """The validated configuration (before anything touches the data folder)."""
    cfg = RetailConfig.from_file(config) if config is not None else RetailConfig.model_validate({})
    return cfg.with_data_dir(data_dir) if data_dir is not None else cfg


def _data_root(cfg: RetailConfig) -> Path:
    from retail_datagen.storage.layout import DataLayout

    return DataLayout.of(cfg.paths.data).root


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _setup_logging(debug: bool) -> None:
    """Log to stderr through the redacting filter (once per process)."""
    if not any(getattr(h, "_retail_datagen", False) for h in _log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._retail_datagen = True  # type: ignore[attr-defined]
        _log.addHandler(handler)
        install_redaction(_log)
    _log.setLevel(logging.DEBUG if debug else logging.WARNING)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"retail-datagen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks and debug logs.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Options placed before the command apply to every command."""
    global _DEBUG
    _DEBUG = debug
    _setup_logging(debug)


# ---------------------------------------------------------------- generate
def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{option} {value!r}: not a date (use YYYY-MM-DD)") from None


def _print_counts(title: str, counts: dict[str, int], seconds: float | None = None) -> None:
    table = RichTable(title=title, title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("total", f"{sum(counts.values()):,}", style="bold")
    _stdout().print(table)
    if seconds is not None:
        _stdout().print(f"in {seconds:.1f} s")


def _generate_dimensions(cfg: RetailConfig, force: bool) -> dict[str, int]:
    from retail_datagen.generators.master_generator import MasterDataGenerator

    with _stderr().status("generating dimensions…") as status:

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
) -> None:
    from retail_datagen.engine.progress import ProgressUpdate
    from retail_datagen.generators.fact_generator import FactDataGenerator

    cancel = threading.Event()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[counter]}"),
        TextColumn("{task.fields[speed]}"),
        TextColumn("{task.fields[eta]}"),
        console=_stderr(),
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
        _stdout().print(result.message or "nothing to generate: facts are up to date")
        return
    span = ""
    if result.start is not None and result.end is not None:
        span = f" {result.start:%Y-%m-%d} → {result.end:%Y-%m-%d}"
    _print_counts(f"Facts{span}", dict(result.rows), result.seconds)


@app.command()
@_cli_errors
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
        FileFormat | None,
        typer.Option(
            "--format",
            help="Fact file format; default: parquet, or the format of existing facts.",
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
    cfg = _load_config(config, data_dir)
    first, last, window = _parse_day(start, "--start"), _parse_day(end, "--end"), days
    if dims_only and (first or last or window or fmt or csv_daily or workers or dry_run):
        raise UserError("--dims-only generates no facts; drop the fact options")
    if csv_daily and fmt is not FileFormat.csv:
        if fmt is not None:
            raise UserError("--csv-daily only applies to --format csv")
        fmt = FileFormat.csv
    plan_start, plan_end = (None, None) if dims_only else plan_window(cfg, first, last, window)

    from retail_datagen.generators.generation_state import GenerationStateManager
    from retail_datagen.storage.duckdb_store import has_dimensions

    root = _data_root(cfg)
    if not dims_only:
        kind = fmt.value if fmt else None
        # --force removes the facts first: the run starts over
        size = estimate_run(
            cfg, first, last, window, workers=workers, output_format=kind, fresh=force
        )
        _announce_estimate(size, dry_run=dry_run, yes=yes)
    if dims_only or force or not has_dimensions(root):
        counts = _generate_dimensions(cfg, force)
        _print_counts(f"Dimensions in {root}", counts)
    else:
        _note_stale_dimensions(cfg, root)
    if dims_only:
        return
    state = GenerationStateManager(root).load()
    if fmt is None:
        fmt = FileFormat(state.output_format) if state.has_fact_data else FileFormat.parquet
        csv_daily = csv_daily or (state.has_fact_data and state.csv_daily)
    if engine is Engine.spark:
        from retail_datagen.spark.generate import generate_on_master

        result = generate_on_master(cfg, plan_start, plan_end, spark_master, fmt.value, csv_daily)
        _print_counts("Facts (Spark)", dict(result.rows), result.seconds)
        return
    _generate_facts(cfg, plan_start, plan_end, workers, fmt.value, csv_daily)


def _announce_estimate(size: GenerationEstimate, *, dry_run: bool, yes: bool) -> None:
    """Print the estimate; stop after it (``--dry-run``) or unless a large run is confirmed."""
    if dry_run:
        _stdout().print(f"estimate: {size.describe()}")
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


# ---------------------------------------------------------------- export
@app.command()
@_cli_errors
def export(
    fmt: Annotated[FileFormat, typer.Option("--format", help="Output format.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    tables: Annotated[
        str | None,
        typer.Option(
            "--tables", metavar="A,B", help="Comma-separated table names; default: all tables."
        ),
    ] = None,
    csv_daily: Annotated[
        bool, typer.Option("--csv-daily", help="CSV facts as Hive-style daily partitions.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            file_okay=False,
            help="Output folder; default: <data-dir>/export.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export tables as Parquet or CSV files (atomic writes)."""
    from retail_datagen.storage.export import export_data
    from retail_datagen.storage.layout import DataLayout

    cfg = _load_config(config, data_dir)
    names = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    root = _data_root(cfg)
    written = export_data(root, fmt.value, names, csv_daily=csv_daily, out_dir=out)
    target = DataLayout.of(out) if out is not None else DataLayout.of(root)
    out_dir = target.root if out is not None else target.export_dir
    if not written:
        _stdout().print(f"nothing to write: {out_dir} already holds these tables as {fmt.value}")
        return
    per_table: dict[str, int] = {}
    for path in written:
        table = path.relative_to(out_dir).parts[0]
        per_table[table] = per_table.get(table, 0) + 1
    listing = RichTable(title=f"Exported to {out_dir}", title_justify="left")
    listing.add_column("table")
    listing.add_column("files", justify="right")
    for table, count in per_table.items():
        listing.add_row(table, str(count))
    _stdout().print(listing)
    _stdout().print(f"{len(written)} files written")


# ---------------------------------------------------------------- validate
@app.command()
@_cli_errors
def validate(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    failures_only: Annotated[
        bool, typer.Option("--failures-only", help="List failed checks only.")
    ] = False,
) -> None:
    """Check every invariant of the data (exit 1 when any check fails)."""
    from retail_datagen.validation import validate as run_validation

    cfg = _load_config(config, data_dir)
    report = run_validation(_data_root(cfg))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.render(only_failures=failures_only))
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


# ---------------------------------------------------------------- status
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@app.command()
@_cli_errors
def status(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show the generation state, the row count of every table and any problem of the folder.

    Each problem of a damaged or incomplete folder is one line on stderr, with its fix.
    """
    from retail_datagen.storage.duckdb_store import list_tables
    from retail_datagen.storage.integrity import inspect
    from retail_datagen.storage.layout import DataLayout

    cfg = _load_config(config, data_dir)
    layout = DataLayout.of(cfg.paths.data)
    problems = inspect(layout)
    if not layout.duckdb_path.exists() and not problems:
        if as_json:
            typer.echo(json.dumps({"data_dir": str(layout.root), "exists": False}))
        else:
            _stdout().print(
                f"no data in {layout.root} yet; run `retail-datagen generate` to create it"
            )
        return
    state = _state_or_none(layout.root)
    readable = layout.duckdb_path.exists() and not any(p.area == "store" for p in problems)
    tables = list_tables(layout.root) if readable else []
    if as_json:
        data: dict[str, Any] = {
            "data_dir": str(layout.root),
            "exists": True,
            "state": None if state is None else state.model_dump(mode="json"),
            "tables": [{"name": t.name, "kind": t.kind, "rows": t.rows} for t in tables],
            "problems": [{"area": p.area, "message": p.message} for p in problems],
        }
        typer.echo(json.dumps(data, indent=2))
        return
    _print_status(layout.root, state, tables)
    for problem in problems:
        typer.echo(f"problem: {problem.message}", err=True)


def _state_or_none(root: Path) -> GenerationState | None:
    """The state, or None when the file is damaged (reported as a problem instead)."""
    from retail_datagen.errors import DataStateError
    from retail_datagen.generators.generation_state import GenerationStateManager

    try:
        return GenerationStateManager(root).load()
    except DataStateError:
        return None


def _print_status(root: Path, state: GenerationState | None, tables: list[TableInfo]) -> None:
    from retail_datagen.generators.generation_state import GenerationState

    state = state or GenerationState()
    out = _stdout()
    out.print(f"data folder: {root}")
    stored = (
        "daily CSV" if state.output_format == "csv" and state.csv_daily else state.output_format
    )
    facts = (
        f"{_iso(state.historical_start_date)} → {_iso(state.last_generated_timestamp)} ({stored})"
        if state.has_fact_data
        else "none yet"
    )
    out.print(f"facts: {facts}")
    out.print(f"last historical run: {_iso(state.last_historical_run) or '-'}")
    out.print(f"last real-time run: {_iso(state.last_realtime_run) or '-'}")
    listing = RichTable()
    listing.add_column("table")
    listing.add_column("kind")
    listing.add_column("rows", justify="right")
    for t in tables:
        listing.add_row(t.name, t.kind, "-" if t.rows is None else f"{t.rows:,}")
    out.print(listing)


# ---------------------------------------------------------------- clear
@app.command()
@_cli_errors
def clear(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm the deletion.")] = False,
) -> None:
    """Delete the generated data (store, exports, state); dictionaries and configs stay."""
    from retail_datagen.generators.generation_state import GenerationStateManager

    cfg = _load_config(config, data_dir)
    root = _data_root(cfg)
    if not yes:
        raise UserError(f"this deletes all generated data in {root}; re-run with --yes to confirm")
    manager = GenerationStateManager(root)
    legacy = {  # the seeds' legacy CSV folders, only when they live inside the data folder
        key: value
        for key, value in (("master", cfg.paths.master), ("facts", cfg.paths.facts))
        if manager.layout.owns(Path(value).expanduser()) and Path(value).resolve() != root
    }
    result = manager.clear_all_data(legacy)
    removed = result["removed"]
    if not removed:
        _stdout().print(f"nothing to delete in {root}")
        return
    for path in removed:
        _stdout().print(f"removed {path}")


# ---------------------------------------------------------------- serve, stream
# The web UI (`serve`) and live streaming (`stream`) commands live in their own modules, which
# use the shared options and error handling above and register themselves on ``app``.
from retail_datagen import cli_maintenance, cli_serve, cli_stream  # noqa: E402

cli_serve.register(app)
cli_stream.register(app)
cli_maintenance.register(app)


def main() -> None:
    """Console-script entry point (``retail-datagen``)."""
    try:
        app()
    except KeyboardInterrupt:  # outside a command (e.g. while starting up)
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
