"""Export (a task), validation (direct or a task) and clearing all data."""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import (
    CLEAR_CONFIRMATION,
    ClearRequest,
    ClearResponse,
    ExportRequest,
    TaskInfo,
    ValidationReportModel,
)
from retail_datagen.api.services import data
from retail_datagen.api.services.errors import Busy
from retail_datagen.api.services.paths import checked_export_dir
from retail_datagen.errors import UserError
from retail_datagen.services.data_folder import clear_data

router = APIRouter(prefix="/api", tags=["data"])
CANCEL_TIMEOUT = 30.0


@router.post("/export", response_model=TaskInfo, status_code=status.HTTP_202_ACCEPTED)
def export(services: ServicesDep, body: ExportRequest) -> TaskInfo:
    """Start an export task; ``out_dir`` must lie inside the data folder."""
    out_dir = checked_export_dir(body.out_dir, services.root)
    work = data.export_work(services.root, body.format, body.tables, body.csv_daily, out_dir)
    task = services.tasks.submit("export", work, params=body.model_dump())
    return TaskInfo.model_validate(task.to_dict())


@router.post("/validate", response_model=ValidationReportModel)
def validate(services: ServicesDep) -> ValidationReportModel:
    """Run every invariant check now and return the report (``passed`` false on failures)."""
    services.tasks.refuse_while_changing("validate")
    return ValidationReportModel.model_validate(data.validate_data(services.root))


@router.post("/validate/task", response_model=TaskInfo, status_code=status.HTTP_202_ACCEPTED)
def validate_task(services: ServicesDep) -> TaskInfo:
    """The same as a task (for large datasets); the report is the task's result."""
    task = services.tasks.submit("validate", data.validate_work(services.root), data_changing=False)
    return TaskInfo.model_validate(task.to_dict())


@router.post("/data/clear", response_model=ClearResponse)
async def clear(services: ServicesDep, body: ClearRequest) -> ClearResponse:
    """Delete the generated data of the data folder (and nothing outside it).

    Needs ``confirm`` = "DELETE ALL DATA". Refused (409) while a task or the streamer runs,
    unless ``cancel_running`` is true: then they are cancelled / stopped first.
    """
    if body.confirm != CLEAR_CONFIRMATION:  # the model already demands it; never skip it
        raise UserError(f"confirm: type exactly {CLEAR_CONFIRMATION!r} to delete all data")
    active = services.tasks.active()
    if (active or services.stream.running) and not body.cancel_running:
        what = "a task" if active else "the streamer"
        raise Busy(
            f"{what} is running; wait, stop it, or send cancel_running=true to stop it first"
        )
    stopped = False
    if services.stream.running:
        await services.stream.stop()
        stopped = True
    if active and not await run_in_threadpool(services.tasks.cancel_all, CANCEL_TIMEOUT):
        raise Busy(f"running tasks did not stop within {CANCEL_TIMEOUT:.0f} s; try again")
    removed = await run_in_threadpool(
        services.tasks.exclusive,
        "clear",
        clear_data,
        services.config.config,
    )
    return ClearResponse(
        data_dir=str(services.root),
        removed=removed,
        cancelled_tasks=[t.id for t in active],
        stream_stopped=stopped,
    )
