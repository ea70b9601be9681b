"""The FastAPI application factory: settings → services → routers, error handlers, UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from retail_datagen import __version__
from retail_datagen.api.errors import install_error_handlers
from retail_datagen.api.hosts import HostGuard, HostPolicy
from retail_datagen.api.models import ErrorResponse
from retail_datagen.api.routes import ROUTERS
from retail_datagen.api.routes.ui import STATIC_DIR
from retail_datagen.api.security import document_security, guard_writes
from retail_datagen.api.services import Services
from retail_datagen.api.settings import ServerSettings

__all__ = ["create_app"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "bad request, or a Host this server does not answer to (see --allowed-host)"),
        (401, "API token missing or wrong"),
        (403, "refused (path outside the data folder, cross-origin, remote client)"),
        (404, "not found"),
        (409, "the data folder is busy or in the wrong state"),
        (422, "invalid input; the message names the field"),
        (503, "not available in this build"),
    )
}


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the app for one data folder. Refuses (``UserError``) off loopback without a token."""
    settings = settings or ServerSettings.from_env()
    settings.check()
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await services.shutdown()

    app = FastAPI(
        title="retail-datagen",
        version=__version__,
        summary="Synthetic retail data: generation tasks, tables, streaming and the web UI.",
        lifespan=lifespan,
        responses=_ERRORS,
        dependencies=[Depends(guard_writes)],
    )
    app.state.services = services
    app.state.host_policy = HostPolicy.of(settings)
    app.add_middleware(HostGuard, policy=app.state.host_policy)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    document_security(app, settings)
    return app
