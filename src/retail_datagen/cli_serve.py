"""The `serve` command (registered on the main CLI app by ``retail_datagen.cli``).

No ``from __future__ import annotations`` here: the command's annotations use names imported
inside ``register`` (``retail_datagen.cli`` imports this module while it is being defined), and
typer evaluates them, so they must be real objects, not strings.
"""

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `serve` command to ``app``: the web UI and REST API over one data folder."""
    # imported here: retail_datagen.cli imports this module while it is being defined
    from retail_datagen.api.settings import (
        ALLOWED_HOSTS_ENV,
        DEFAULT_HOST,
        DEFAULT_PORT,
        TOKEN_ENV,
    )
    from retail_datagen.cli import ConfigOption, DataDirOption, _cli_errors

    @app.command()
    @_cli_errors
    def serve(
        host: Annotated[
            str,
            typer.Option(
                "--host",
                help=f"Address to bind; anything but loopback needs {TOKEN_ENV}.",
            ),
        ] = DEFAULT_HOST,
        port: Annotated[
            int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
        ] = DEFAULT_PORT,
        config: ConfigOption = None,
        data_dir: DataDirOption = None,
        allowed_host: Annotated[
            list[str] | None,
            typer.Option(
                "--allowed-host",
                metavar="NAME",
                help="Another host name clients may use to reach the server (repeatable; "
                "'*' allows any). Loopback names and the bound address are always allowed; "
                f"also read from {ALLOWED_HOSTS_ENV} (comma-separated).",
            ),
        ] = None,
    ) -> None:
        """Serve the web UI (/) and the REST API (/api, docs at /docs).

        Configuration edits are saved to --config (default: <data-dir>/config.json).
        Requests whose Host header names another host get 400 (protection against DNS
        rebinding); add names with --allowed-host.
        """
        from retail_datagen.api.server import run_server
        from retail_datagen.api.settings import ServerSettings

        settings = ServerSettings.from_env(
            host=host,
            port=port,
            config_file=Path(config) if config is not None else None,
            data_dir=Path(data_dir) if data_dir is not None else None,
            allowed_hosts=tuple(allowed_host or ()),
        )
        run_server(settings)
