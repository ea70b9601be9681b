"""Access control for state-changing requests (POST, PUT, DELETE, PATCH).

* With an API token (required when bound off loopback) the request must carry
  ``Authorization: Bearer <token>``; compared in constant time, never logged.
* Without one, when the bind address is unknown (``uvicorn retail_datagen.main:app``), only
  loopback clients may change anything.
* Always: a browser request from another site (``Sec-Fetch-Site: cross-site``, or an
  ``Origin`` that is neither this server's own origin nor one of the hosts it answers to,
  see ``retail_datagen.api.hosts``) is refused, so a web page cannot drive a local server.
  Requests without ``Origin`` (curl, scripts, the CLI) are not browsers' and pass.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request

from retail_datagen.api.hosts import HostPolicy
from retail_datagen.api.settings import TOKEN_ENV, ServerSettings, is_loopback

__all__ = ["SAFE_METHODS", "document_security", "guard_writes"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_METHODS = ("post", "put", "delete", "patch")


def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.services.settings
    return settings


def _same_origin(request: Request) -> bool:
    """False for a browser request from another site (no Origin header: not a browser's)."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if origin == "null" or parts.scheme not in ("http", "https"):
        return False
    if parts.netloc.lower() == request.headers.get("host", "").lower():
        return True
    policy: HostPolicy = request.app.state.host_policy
    return policy.trusts_origin(parts.netloc)


def _bearer_token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def guard_writes(request: Request) -> None:
    """A dependency of every route; GET/HEAD/OPTIONS pass, writes are checked.

    The header is read here rather than through ``HTTPBearer`` so that the schema does not
    claim every route (reads included) needs a token; see :func:`document_security`.
    """
    if request.method.upper() in SAFE_METHODS:
        return
    if not _same_origin(request):
        raise HTTPException(403, "cross-origin request refused")
    settings = _settings(request)
    token = settings.api_token
    if token:
        given = _bearer_token(request)
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise HTTPException(
                401,
                "this server requires an API token for POST/PUT/DELETE: send "
                "'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    if settings.loopback_clients_only:
        client = request.client.host if request.client else ""
        if not is_loopback(client):
            raise HTTPException(
                403,
                f"changes are accepted from this machine only; set {TOKEN_ENV} to allow "
                "remote clients",
            )


def document_security(app: FastAPI, settings: ServerSettings) -> None:
    """When a token is required, declare the bearer scheme on the state-changing operations
    of the OpenAPI schema (and only there)."""
    if not settings.token_required:
        return
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": f"the server's {TOKEN_ENV}",
        }
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                if method in WRITE_METHODS:
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
