"""Dead letters (list, replay) and supply-chain disruptions (create, list, delete, clear)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import (
    DISRUPTIONS_CLEAR_CONFIRMATION,
    LOCAL_TIME_PATTERN,
    DeadLetterList,
    DisruptionCreate,
    DisruptionInfo,
    DisruptionList,
    DisruptionsClearRequest,
    RemovedResponse,
    ReplayRequest,
    ReplayResponse,
)
from retail_datagen.api.services.errors import InvalidInput
from retail_datagen.dates import parse_time

router = APIRouter(prefix="/api", tags=["resilience"])
ISO_LOCAL_TIME = LOCAL_TIME_PATTERN


@router.get("/dead-letters", response_model=DeadLetterList)
def dead_letters(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
) -> DeadLetterList:
    return services.stream.dead_letters(limit, offset, event_type)


@router.post("/dead-letters/replay", response_model=ReplayResponse)
async def replay(services: ServicesDep, body: ReplayRequest) -> ReplayResponse:
    """Send dead letters (all, or ``ids``) to a sink; delivered ones leave the queue."""
    return await services.stream.replay(body.sink, body.ids)


@router.get("/disruptions", response_model=DisruptionList)
def list_disruptions(
    services: ServicesDep,
    active_at: Annotated[
        str | None,
        Query(pattern=ISO_LOCAL_TIME, description="only those active then (local, ISO-8601)"),
    ] = None,
) -> DisruptionList:
    items = services.stream.list_disruptions(
        parse_time(active_at, "active_at") if active_at else None
    )
    return DisruptionList(disruptions=items)


@router.post("/disruptions", response_model=DisruptionInfo, status_code=status.HTTP_201_CREATED)
def create_disruption(services: ServicesDep, body: DisruptionCreate) -> DisruptionInfo:
    """Store a disruption; while active it changes the generated data (delays, shortages)."""
    return services.stream.create_disruption(body)


@router.delete("/disruptions/{disruption_id}", response_model=DisruptionInfo)
def delete_disruption(services: ServicesDep, disruption_id: str) -> DisruptionInfo:
    return services.stream.delete_disruption(disruption_id)


@router.post("/disruptions/clear", response_model=RemovedResponse)
def clear_disruptions(services: ServicesDep, body: DisruptionsClearRequest) -> RemovedResponse:
    """Remove every disruption; needs ``confirm`` = "DELETE ALL DISRUPTIONS"."""
    if body.confirm != DISRUPTIONS_CLEAR_CONFIRMATION:  # the model demands it; never skip it
        raise InvalidInput(
            f"confirm: type exactly {DISRUPTIONS_CLEAR_CONFIRMATION!r} to remove every disruption"
        )
    return RemovedResponse(removed=services.stream.clear_disruptions())
