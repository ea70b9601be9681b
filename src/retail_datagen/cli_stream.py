"""The `stream` command (registered on the main CLI app by ``retail_datagen.cli``)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the `stream` command to ``app`` (filled in by the stream feature)."""
