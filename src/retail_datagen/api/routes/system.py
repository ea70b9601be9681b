"""Health, version, Prometheus metrics and what the UI needs to know about the server."""

from __future__ import annotations

from fastapi import APIRouter, Response

from retail_datagen import __version__
from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import Health, Info, SimulatedClock, Version
from retail_datagen.api.services.clock import simulated_now

router = APIRouter(tags=["system"])
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health(version=__version__)


@router.get("/version", response_model=Version)
def version() -> Version:
    return Version(version=__version__)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {PROMETHEUS_TEXT: {}}, "description": "Prometheus text"}},
)
def metrics(services: ServicesDep) -> Response:
    """Tasks, rows generated and, while streaming, the streamer's statistics."""
    return Response(services.metrics.render(), media_type=PROMETHEUS_TEXT)


@router.get("/api/info", response_model=Info)
def info(services: ServicesDep) -> Info:
    return Info(
        version=__version__,
        data_dir=str(services.root),
        config_file=str(services.config.file),
        auth_required=services.settings.token_required,
    )


@router.get("/api/clock", response_model=SimulatedClock)
def clock(services: ServicesDep) -> SimulatedClock:
    """Where the simulated clock stands (the UI's default disruption time); reads only the
    state files, never the store."""
    start = services.config.config.historical.start_date
    return SimulatedClock(simulated_now=simulated_now(services.root, start))
