"""Every error leaves the API as ``{"detail": "<one line>"}`` with a fitting status code —
never a traceback, never a secret (messages pass through ``redact``)."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from retail_datagen.api.services.errors import Busy, Forbidden, Unavailable
from retail_datagen.api.services.tasks import one_line_error
from retail_datagen.config.secrets import redact
from retail_datagen.errors import (
    ConfigError,
    DataStateError,
    InputError,
    NotFoundError,
    UserError,
)

__all__ = ["install_error_handlers", "status_for", "validation_detail"]

_log = logging.getLogger("retail_datagen.api")
_LOCATIONS = {"body", "query", "path", "header", "cookie"}
_HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}


def status_for(exc: UserError) -> int:
    """The HTTP status of a user error (most specific class first)."""
    for cls, status in (
        (NotFoundError, 404),
        (Forbidden, 403),
        (Unavailable, 503),
        (Busy, 409),
        (DataStateError, 409),
        (ConfigError, 422),
        (InputError, 422),
    ):
        if isinstance(exc, cls):
            return status
    return 400


def _one_line(text: str) -> str:
    return " ".join(redact(text).split())[:1000]


def validation_detail(errors: list[Any]) -> str:
    """``field: problem`` for each error of a request, on one line."""
    parts: list[str] = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if str(p) not in _LOCATIONS]
        field = ".".join(loc) or "body"
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
    return "; ".join(parts) or "invalid request"


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": _one_line(detail)}, status_code=status, headers=headers)


def _allowed_methods(app: FastAPI, path: str) -> str:
    """Every method the schema documents for ``path`` (plus HEAD with GET), for ``Allow``.

    Starlette's 405 names the methods of the first route of a path only (GET of
    ``/api/config`` but not its PUT), so the answer is derived from the OpenAPI paths. As in
    OpenAPI, a concrete path (``/api/disruptions/clear``) wins over a template matching it.
    """
    table: list[tuple[str, re.Pattern[str], set[str]]] | None = getattr(app.state, "allow", None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            methods = {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")
            table.append((template, compile_path(template)[0], methods))
        app.state.allow = table
    concrete = [methods for template, _, methods in table if template == path]
    found: set[str] = set()
    for methods in concrete or [m for _, pattern, m in table if pattern.match(path)]:
        found |= methods
    return ", ".join(sorted(found))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        return _json(status_for(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _json(422, validation_detail(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _model_invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return _json(422, validation_detail(list(exc.errors(include_url=False))))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(app, request.url.path) or headers.get("Allow", "")
        return _json(exc.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # one line here; the traceback is logged once, by the server (Starlette re-raises)
        _log.error(
            "unexpected error on %s %s: %s", request.method, request.url.path, one_line_error(exc)
        )
        return _json(500, one_line_error(exc) + " (see the server log)")
