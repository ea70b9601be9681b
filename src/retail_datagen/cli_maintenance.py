"""The `compact`, `repair` and `digest` commands (registered on the main CLI app by
``retail_datagen.cli``).

No ``from __future__ import annotations`` here: typer evaluates the annotations of commands
defined inside ``register`` (see cli_serve.py).
"""

from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `compact` (merge a month's part files), `repair` (fix a damaged folder) and
    `digest` (compare datasets)."""
    from retail_datagen.cli import (
        ConfigOption,
        DataDirOption,
        _cli_errors,
        _data_root,
        _load_config,
        _stdout,
    )

    @app.command()
    @_cli_errors
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
        cfg = _load_config(config, data_dir)
        done = compact_months(_data_root(cfg), month or None)
        if not done:
            _stdout().print("nothing to compact: every month is one file per table")
            return
        for item in done:
            _stdout().print(f"{item.table} {item.month}: {item.parts} files → {item.target.name}")
        _stdout().print(f"{len(done)} months compacted")

    @app.command()
    @_cli_errors
    def repair(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
        """Repair a damaged data folder without losing committed data.

        Rebuilds generation_state.json from the fact files and the carried engine state.

        Rebuilds retail.duckdb from the dimension exports, and those from retail.duckdb.

        Removes the leftovers of an interrupted run. Lost fact files need a backup.
        """
        from retail_datagen.engine.repair import repair as repair_folder

        cfg = _load_config(config, data_dir)
        root = _data_root(cfg)
        actions = repair_folder(root)
        if not actions:
            _stdout().print(f"nothing to repair in {root}")
            return
        for line in actions:
            _stdout().print(line)

    @app.command()
    @_cli_errors
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

        cfg = _load_config(config, data_dir)
        for name, value in table_digests(_data_root(cfg), table or None).items():
            _stdout().print(f"{name:<32} {value}")
