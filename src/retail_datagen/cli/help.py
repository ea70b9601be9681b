"""Help text details of the ``retail-datagen`` command line shared by all its commands."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

__all__ = ["FlagGroup"]


class FlagGroup(TyperGroup):
    """Lists boolean flags without a value in help (typer 0.29 shows ``<bool>`` after each).

    Applied to every command and sub-group reached from the root, ``--help`` included.
    """

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags_below(command, ctx)
        return command


def _plain_flags(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
    return params


def _plain_flags_below(command: Any, ctx: Any) -> None:
    _plain_flags(command.get_params(ctx))
    for name in getattr(command, "list_commands", lambda _ctx: [])(ctx):
        sub = command.get_command(ctx, name)
        if sub is not None:
            _plain_flags_below(sub, ctx)
