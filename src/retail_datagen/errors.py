"""User-facing errors: one clear line that names what is wrong and how to fix it.

Anything raised as a :class:`UserError` is shown by the CLI and the API as its message alone,
never as a traceback.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataStateError",
    "DictionaryError",
    "InputError",
    "NotFoundError",
    "UserError",
]


class UserError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message."""


class ConfigError(UserError):
    """The configuration file or a configuration value is invalid."""


class DictionaryError(UserError):
    """A dictionary CSV file is missing or has a bad row."""


class InputError(UserError):
    """A value typed by the user (an option, a request field) is malformed."""


class NotFoundError(UserError):
    """A name that names nothing: no such table, task, dead letter or disruption."""


class DataStateError(UserError):
    """The data folder is not in a state that allows the requested operation."""
