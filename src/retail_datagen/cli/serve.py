"""``serve``: the web UI and the REST API over one data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retail_datagen.api.settings import ALLOWED_HOSTS_ENV, DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV
from retail_datagen.cli.common import ConfigOption, DataDirOption, cli_errors

__all__ = ["serve"]


@cli_errors
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
