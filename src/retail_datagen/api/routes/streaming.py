"""The live stream (start/stop/status/statistics/recent events/event types, a live SSE feed)
and connection checks. 503 when streaming is not part of this build."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import (
    ConnectionTestRequest,
    ConnectionTestResult,
    ConnectionValidateRequest,
    ConnectionValidation,
    EventTypes,
    RecentEvents,
    StreamStartRequest,
    StreamStatistics,
    StreamStatus,
)
from retail_datagen.api.routes.tasks import SSE_HEADERS
from retail_datagen.api.services import Services

router = APIRouter(prefix="/api", tags=["streaming"])
LIVE_INTERVAL = 1.0


@router.get("/stream/status", response_model=StreamStatus)
def stream_status(services: ServicesDep) -> StreamStatus:
    return services.stream.status()


@router.post("/stream/start", response_model=StreamStatus)
async def stream_start(services: ServicesDep, body: StreamStartRequest) -> StreamStatus:
    """Start streaming from the end of the history; 409 while a task or a stream runs."""
    return await services.stream.start(body)


@router.post("/stream/stop", response_model=StreamStatus)
async def stream_stop(services: ServicesDep) -> StreamStatus:
    """Stop gracefully (pending events are flushed); harmless when nothing runs."""
    return await services.stream.stop()


@router.get("/stream/statistics", response_model=StreamStatistics)
def stream_statistics(services: ServicesDep) -> StreamStatistics:
    """Events sent/failed per type, events per second, bytes, batches, circuit state, DLQ."""
    return StreamStatistics(
        running=services.stream.running, statistics=services.stream.statistics()
    )


@router.get("/stream/events", response_model=RecentEvents)
def stream_events(
    services: ServicesDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> RecentEvents:
    return RecentEvents(
        running=services.stream.running, events=services.stream.recent_events(limit)
    )


@router.get("/stream/event-types", response_model=EventTypes)
def event_types(services: ServicesDep) -> EventTypes:
    return EventTypes(event_types=services.stream.event_types())


async def _live(
    request: Request, services: Services, count: int, events: int
) -> AsyncIterator[str]:
    sent = 0
    while count == 0 or sent < count:
        if await request.is_disconnected():
            return
        payload = {
            "status": services.stream.status().model_dump(mode="json"),
            "statistics": services.stream.statistics() or {},
            "events": services.stream.recent_events(events) if events else [],
        }
        sent += 1
        yield f"id: {sent}\nevent: stats\ndata: {json.dumps(payload, default=str)}\n\n"
        if count == 0 or sent < count:
            await asyncio.sleep(LIVE_INTERVAL)


@router.get(
    "/stream/live",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "one `stats` event per second: status, statistics, recent events",
        }
    },
)
async def stream_live(
    request: Request,
    services: ServicesDep,
    count: Annotated[int, Query(ge=0, le=100_000, description="events, 0 = endless")] = 0,
    events: Annotated[int, Query(ge=0, le=100, description="recent events per update")] = 10,
) -> StreamingResponse:
    """Live statistics pushed to the page (the UI's events-per-second chart)."""
    return StreamingResponse(
        _live(request, services, count, events),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


@router.post("/connection/validate", response_model=ConnectionValidation)
def validate_connection(
    services: ServicesDep, body: ConnectionValidateRequest
) -> ConnectionValidation:
    """Parse a connection string (or the configured one): metadata only, never the key."""
    return services.stream.validate_connection(body.connection_string)


@router.post("/connection/test", response_model=ConnectionTestResult)
async def test_connection(
    services: ServicesDep, body: ConnectionTestRequest
) -> ConnectionTestResult:
    """Contact the destination within 5 s (Kafka: a metadata request; Event Hubs: the hub's
    properties; file: a writable folder): ``ok`` only when it answered, else the redacted
    error."""
    return await services.stream.test_connection(body.sink)
