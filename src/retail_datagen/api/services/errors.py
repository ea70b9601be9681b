"""Errors the API services raise; each maps to one HTTP status (see ``api/errors.py``).

They extend the library's :class:`UserError` family, so their message is shown as is.
"""

from __future__ import annotations

from retail_datagen.errors import DataStateError, InputError, NotFoundError, UserError

__all__ = ["Busy", "Forbidden", "InvalidInput", "NotFound", "Unavailable"]


class NotFound(NotFoundError):
    """No such task, table, dead letter or disruption (404)."""


class Busy(DataStateError):
    """Another data-changing task or the streamer owns the data folder (409)."""


class Forbidden(UserError):
    """A path or sink outside what the server may touch (403)."""


class Unavailable(UserError):
    """A feature that this build or this moment cannot provide (503)."""


class InvalidInput(InputError):
    """A request value a library model rejected (422), e.g. a disruption's window."""
