"""The root ``retail-datagen`` Typer app: its options and every command, registered in the order
``--help`` lists them. Each command is a plain function in the module of its group."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from retail_datagen import __version__
from retail_datagen.cli import data, disruptions, generate, maintenance, serve, stream
from retail_datagen.cli.common import EXIT_INTERRUPTED, set_debug
from retail_datagen.cli.help import FlagGroup

__all__ = ["app", "main"]

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
    set_debug(debug)


app.command()(generate.generate)
app.command()(data.export)
app.command()(data.validate)
app.command()(data.status)
app.command()(data.clear)
app.command()(serve.serve)
app.command("stream")(stream.stream)
app.command("dead-letters")(stream.dead_letters)
app.command("replay-dead-letters")(stream.replay_dead_letters)

disruptions_app = typer.Typer(help=disruptions.HELP, no_args_is_help=True)
disruptions_app.command("list")(disruptions.disruptions_list)
disruptions_app.command("add")(disruptions.disruptions_add)
disruptions_app.command("remove")(disruptions.disruptions_remove)
disruptions_app.command("clear")(disruptions.disruptions_clear)
app.add_typer(disruptions_app, name="disruptions")

app.command()(maintenance.compact)
app.command()(maintenance.repair)
app.command()(maintenance.digest)


def main() -> None:
    """Console-script entry point (``retail-datagen``)."""
    try:
        app()
    except KeyboardInterrupt:  # outside a command (e.g. while starting up)
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
