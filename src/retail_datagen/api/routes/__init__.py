"""One router per resource; ``ROUTERS`` is the order they are mounted in."""

from __future__ import annotations

from fastapi import APIRouter

from retail_datagen.api.routes import (
    config,
    dashboard,
    data,
    generation,
    resilience,
    streaming,
    system,
    tables,
    tasks,
    ui,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    config.router,
    generation.router,
    tasks.router,
    tables.router,
    dashboard.router,
    data.router,
    streaming.router,
    resilience.router,
    ui.router,
)
