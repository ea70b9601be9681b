"""Generate dimensions and facts (as tasks) and show the generation state."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import (
    LOCAL_DATE_PATTERN,
    FactFormat,
    GenerateDimensionsRequest,
    GenerateFactsRequest,
    GenerationEstimate,
    StateResponse,
    TaskInfo,
)
from retail_datagen.api.services import data, generation
from retail_datagen.dates import parse_day
from retail_datagen.services.generation import plan_facts

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
    plan = plan_facts(
        config,
        body.start,
        None if body.until_now else body.end,
        body.days,
        body.format,
        body.csv_daily,
        names=generation.API_NAMES,
    )
    workers = body.workers or services.settings.workers
    work = generation.facts_work(config, plan, workers)
    params = body.model_dump(mode="json")
    task = services.tasks.submit("generate_facts", work, params=params)
    return TaskInfo.model_validate(task.to_dict())


@router.get("/generation/estimate", response_model=GenerationEstimate)
def estimate_facts(
    services: ServicesDep,
    start: Annotated[
        str | None,
        Query(pattern=LOCAL_DATE_PATTERN, description="first day, as for POST /api/generate/facts"),
    ] = None,
    end: Annotated[
        str | None,
        Query(pattern=LOCAL_DATE_PATTERN, description="last day, inclusive; none: yesterday"),
    ] = None,
    days: Annotated[int | None, Query(ge=1, le=36_600)] = None,
    workers: Annotated[int | None, Query(ge=1, le=256)] = None,
    format: Annotated[FactFormat | None, Query(description="fact file format")] = None,
) -> GenerationEstimate:
    """Rows, disk and time of the fact run these fields would start; nothing is written."""
    estimate = generation.estimate_facts(
        services.config.config,
        _day(start, "start"),
        _day(end, "end"),
        days,
        format,
        workers or services.settings.workers,
    )
    return GenerationEstimate.model_validate(estimate.to_dict())


def _day(text: str | None, name: str) -> date | None:
    return parse_day(text, name) if text is not None else None


@router.get("/state", response_model=StateResponse)
def state(services: ServicesDep) -> StateResponse:
    """Continuation state (SPEC §8) of the server's data folder."""
    return StateResponse.model_validate(data.generation_state(services.root))
