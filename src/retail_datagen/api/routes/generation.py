"""Generate dimensions and facts (as tasks) and show the generation state."""

from __future__ import annotations

from fastapi import APIRouter, status

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import (
    GenerateDimensionsRequest,
    GenerateFactsRequest,
    StateResponse,
    TaskInfo,
)
from retail_datagen.api.services import data, generation

router = APIRouter(prefix="/api", tags=["generation"])


@router.post("/generate/dimensions", response_model=TaskInfo, status_code=status.HTTP_202_ACCEPTED)
def generate_dimensions(services: ServicesDep, body: GenerateDimensionsRequest) -> TaskInfo:
    """Start a task that (re)generates every dimension; 409 while data is being changed."""
    work = generation.dimensions_work(services.config.config, body.force)
    task = services.tasks.submit("generate_dimensions", work, params=body.model_dump())
    return TaskInfo.model_validate(task.to_dict())


@router.post("/generate/facts", response_model=TaskInfo, status_code=status.HTTP_202_ACCEPTED)
def generate_facts(services: ServicesDep, body: GenerateFactsRequest) -> TaskInfo:
    """Start a task for historical facts: a range, N days, or until now (yesterday)."""
    config = services.config.config
    plan = generation.plan_facts(
        config,
        body.start,
        None if body.until_now else body.end,
        body.days,
        body.format,
        body.csv_daily,
    )
    workers = body.workers or services.settings.workers
    work = generation.facts_work(config, plan, workers)
    params = body.model_dump(mode="json")
    task = services.tasks.submit("generate_facts", work, params=params)
    return TaskInfo.model_validate(task.to_dict())


@router.get("/state", response_model=StateResponse)
def state(services: ServicesDep) -> StateResponse:
    """Continuation state (SPEC §8) of the server's data folder."""
    return StateResponse.model_validate(data.generation_state(services.root))
