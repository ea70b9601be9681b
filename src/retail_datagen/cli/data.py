"""The data-folder commands: ``status``, ``clear``, ``export`` and ``validate``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table as RichTable

from retail_datagen.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    DataDirOption,
    FileFormat,
    cli_errors,
    data_root,
    load_config,
    stdout,
)
from retail_datagen.errors import UserError

if TYPE_CHECKING:
    from retail_datagen.storage.duckdb_store import TableInfo
    from retail_datagen.storage.state import GenerationState

__all__ = ["clear", "export", "status", "validate"]


# ---------------------------------------------------------------- export
@cli_errors
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

    cfg = load_config(config, data_dir)
    names = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    root = data_root(cfg)
    written = export_data(root, fmt.value, names, csv_daily=csv_daily, out_dir=out)
    target = DataLayout.of(out) if out is not None else DataLayout.of(root)
    out_dir = target.root if out is not None else target.export_dir
    if not written:
        stdout().print(f"nothing to write: {out_dir} already holds these tables as {fmt.value}")
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
    stdout().print(listing)
    stdout().print(f"{len(written)} files written")


# ---------------------------------------------------------------- validate
@cli_errors
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

    cfg = load_config(config, data_dir)
    report = run_validation(data_root(cfg))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.render(only_failures=failures_only))
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


# ---------------------------------------------------------------- status
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@cli_errors
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

    cfg = load_config(config, data_dir)
    layout = DataLayout.of(cfg.paths.data)
    problems = inspect(layout)
    if not layout.duckdb_path.exists() and not problems:
        if as_json:
            typer.echo(json.dumps({"data_dir": str(layout.root), "exists": False}))
        else:
            stdout().print(
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
    from retail_datagen.storage.state import GenerationStateManager

    try:
        return GenerationStateManager(root).load()
    except DataStateError:
        return None


def _print_status(root: Path, state: GenerationState | None, tables: list[TableInfo]) -> None:
    from retail_datagen.storage.state import GenerationState

    state = state or GenerationState()
    out = stdout()
    out.print(f"data folder: {root}")
    stored: str = (
        "daily CSV" if state.output_format == "csv" and state.csv_daily else state.output_format
    )
    stored += f" in {state.output_url}" if state.output_url else ""
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
@cli_errors
def clear(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm the deletion.")] = False,
) -> None:
    """Delete the generated data (store, exports, state); dictionaries and configs stay."""
    from retail_datagen.services.data_folder import clear_data

    cfg = load_config(config, data_dir)
    root = data_root(cfg)
    if not yes:
        raise UserError(f"this deletes all generated data in {root}; re-run with --yes to confirm")
    removed = clear_data(cfg)
    if not removed:
        stdout().print(f"nothing to delete in {root}")
        return
    for path in removed:
        stdout().print(f"removed {path}")
