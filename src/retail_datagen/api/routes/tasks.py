"""Tasks: list, status, cancel, and their progress as server-sent events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import TaskInfo, TaskList

router = APIRouter(prefix="/api/tasks", tags=["tasks"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get("", response_model=TaskList)
def list_tasks(services: ServicesDep) -> TaskList:
    return TaskList(tasks=[TaskInfo.model_validate(t.to_dict()) for t in services.tasks.all()])


@router.get("/{task_id}", response_model=TaskInfo)
def get_task(services: ServicesDep, task_id: str) -> TaskInfo:
    return TaskInfo.model_validate(services.tasks.get(task_id).to_dict())


@router.post("/{task_id}/cancel", response_model=TaskInfo)
def cancel_task(services: ServicesDep, task_id: str) -> TaskInfo:
    """Ask the task to stop; it ends as cancelled (committed data stays intact)."""
    return TaskInfo.model_validate(services.tasks.cancel(task_id).to_dict())


@router.get(
    "/{task_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`progress` events (throttled ≥ 100 ms, percent, table_counter, "
            "tables_in_progress, estimated_seconds_remaining, progress_rate, "
            "last_update_timestamp), then one `done` event with the task (result or error)",
        }
    },
)
async def task_events(
    services: ServicesDep,
    task_id: str,
    last_event_id: Annotated[int, Header(ge=0)] = 0,
) -> StreamingResponse:
    services.tasks.get(task_id)  # 404 before the stream starts
    return StreamingResponse(
        services.tasks.events(task_id, last_event_id),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
