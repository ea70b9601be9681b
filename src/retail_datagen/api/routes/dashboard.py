"""Figures for the dashboard tab."""

from __future__ import annotations

from fastapi import APIRouter

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import Dashboard
from retail_datagen.api.services import data

router = APIRouter(prefix="/api", tags=["dashboard"])
RECENT_EVENTS = 20


@router.get("/dashboard", response_model=Dashboard)
def dashboard(services: ServicesDep) -> Dashboard:
    """Table counts, daily sales, foot traffic by hour of day and the stream's recent events."""
    running = services.stream.running
    events = services.stream.recent_events(RECENT_EVENTS) if running else []
    return Dashboard.model_validate({**data.dashboard(services.root, events), "streaming": running})
