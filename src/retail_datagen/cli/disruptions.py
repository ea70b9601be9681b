"""``disruptions list|add|remove|clear``: manage the supply-chain disruptions of the data folder."""

from __future__ import annotations

import json
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
from retail_datagen.dates import parse_time
from retail_datagen.errors import UserError

__all__ = ["HELP", "disruptions_add", "disruptions_clear", "disruptions_list", "disruptions_remove"]

HELP = (
    "Supply-chain disruptions (dc_outage, inventory_shortage, truck_breakdown, "
    "weather_delay, supplier_delay) that shape the generated data while active."
)


@cli_errors
def disruptions_list(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    active_at: Annotated[
        str | None,
        typer.Option(
            "--active-at", metavar="TIME", help="Only those active at TIME.", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the disruptions of the data folder."""
    from retail_datagen.disruptions import DisruptionService

    cfg = load_config(config, data_dir)
    moment = parse_time(active_at, "--active-at") if active_at else None
    items = DisruptionService(data_root(cfg)).list(active_at=moment)
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in items], indent=2))
        return
    out = stdout()
    if not items:
        out.print("no disruptions")
        return
    from rich.table import Table as RichTable

    table = RichTable()
    table.add_column("id", no_wrap=True, min_width=max(len(d.id) for d in items))
    for column in ("kind", "target", "start", "end", "severity", "note"):
        table.add_column(column, overflow="fold")  # wrap on a narrow terminal, never cut
    for d in items:
        table.add_row(
            d.id,
            d.kind,
            d.target,
            d.start.isoformat(timespec="minutes"),
            d.end.isoformat(timespec="minutes"),
            f"{d.severity:g}",
            d.note,
        )
    out.print(table)


@cli_errors
def disruptions_add(
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="dc_outage, inventory_shortage, truck_breakdown, weather_delay or supplier_delay.",
        ),
    ],
    target_type: Annotated[
        str, typer.Option("--target-type", help="dc, store, product, truck or network.")
    ],
    start: Annotated[str, typer.Option("--start", metavar="TIME", help="Local start time.")],
    end: Annotated[str, typer.Option("--end", metavar="TIME", help="Local end time.")],
    target_id: Annotated[
        int | None,
        typer.Option(
            "--target-id", metavar="ID", help="Required unless network.", show_default=False
        ),
    ] = None,
    severity: Annotated[float, typer.Option("--severity", help="0..1.")] = 0.5,
    note: Annotated[str, typer.Option("--note", help="Free text.")] = "",
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a disruption (it changes days generated or streamed while it is active)."""
    from retail_datagen.disruptions import DisruptionService

    cfg = load_config(config, data_dir)
    created = DisruptionService(data_root(cfg)).create(
        kind=kind,
        target_type=target_type,
        target_id=target_id,
        start=parse_time(start, "--start"),
        end=parse_time(end, "--end"),
        severity=severity,
        note=note,
    )
    stdout().print(
        f"added {created.id}: {created.kind} on {created.target} "
        f"{created.start.isoformat()} → {created.end.isoformat()}"
    )


@cli_errors
def disruptions_remove(
    disruption_id: Annotated[
        str, typer.Argument(metavar="ID", help="Disruption id, or any unique start of it.")
    ],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Remove one disruption."""
    from retail_datagen.disruptions import DisruptionService

    cfg = load_config(config, data_dir)
    service = DisruptionService(data_root(cfg))
    removed = service.delete(service.resolve(disruption_id))
    stdout().print(f"removed {removed.id}")


@cli_errors
def disruptions_clear(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm.")] = False,
) -> None:
    """Remove every disruption."""
    from retail_datagen.disruptions import DisruptionService

    cfg = load_config(config, data_dir)
    if not yes:
        raise UserError("this removes every disruption; re-run with --yes to confirm")
    count = DisruptionService(data_root(cfg)).clear()
    stdout().print(f"removed {count} disruption(s)")
