"""Maintenance of a data folder: ``compact`` merges a month's part files, ``repair`` fixes a
damaged folder, ``digest`` prints content digests to compare datasets."""

from __future__ import annotations

from typing import Annotated

import typer

from retail_datagen.cli.common import (
    ConfigOption,
    DataDirOption,
    cli_errors,
    data_root,
    load_config,
    stdout,
)

__all__ = ["compact", "digest", "repair"]


@cli_errors
def compact(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    month: Annotated[
        list[str] | None,
        typer.Option(
            "--month",
            metavar="YYYY-MM",
            help="Compact only this month (repeatable); default: every month with parts.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Merge each month's part files into one file per table (same rows, same order).

    Runs that continue a month add part files; compact merges them atomically.

    Run it while no generation or stream writes the folder.
    """
    from retail_datagen.errors import UserError
    from retail_datagen.storage.compact import compact as compact_months

    for value in month or []:
        if len(value) != 7 or value[4] != "-" or not value.replace("-", "").isdigit():
            raise UserError(f"--month {value!r}: use YYYY-MM")
    cfg = load_config(config, data_dir)
    done = compact_months(data_root(cfg), month or None)
    if not done:
        stdout().print("nothing to compact: every month is one file per table")
        return
    for item in done:
        stdout().print(f"{item.table} {item.month}: {item.parts} files → {item.target.name}")
    stdout().print(f"{len(done)} months compacted")


@cli_errors
def repair(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Repair a damaged data folder without losing committed data.

    Rebuilds generation_state.json from the fact files and the carried engine state.

    Rebuilds retail.duckdb from the dimension exports, and those from retail.duckdb.

    Removes the leftovers of an interrupted run. Lost fact files need a backup.
    """
    from retail_datagen.engine.repair import repair as repair_folder

    cfg = load_config(config, data_dir)
    root = data_root(cfg)
    actions = repair_folder(root)
    if not actions:
        stdout().print(f"nothing to repair in {root}")
        return
    for line in actions:
        stdout().print(line)


@cli_errors
def digest(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            help="Digest only this table (repeatable); default: every table.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print a content digest of each table: equal digests mean equal rows.

    Row order, file layout, output format and engine do not change a digest, so two runs,
    worker counts or engines that made the same data print the same lines.
    """
    from retail_datagen.storage.digest import table_digests

    cfg = load_config(config, data_dir)
    for name, value in table_digests(data_root(cfg), table or None).items():
        stdout().print(f"{name:<32} {value}")
