"""Generation as tasks: the same library calls and planning rules
(:mod:`retail_datagen.services.generation`) as ``retail-datagen generate``.

Everything a request can get wrong (dates, an overlapping start, dimensions under existing facts)
is checked before the task is created, so the client gets a 4xx at once instead of a failed task.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from retail_datagen.api.services.tasks import TaskCancelled, TaskContext, Work
from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.estimate import GenerationEstimate
from retail_datagen.engine.fact_generator import FactDataGenerator, GenerationResult
from retail_datagen.engine.master_generator import MasterDataGenerator
from retail_datagen.engine.progress import ProgressTracker
from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS
from retail_datagen.services.generation import FactPlan, estimate_run
from retail_datagen.storage.dimension_store import facts_exist
from retail_datagen.storage.duckdb_store import has_dimensions

__all__ = ["API_NAMES", "dimensions_work", "estimate_facts", "facts_work"]

API_NAMES = ("start", "end", "days")

FileFormat = Literal["parquet", "csv", "delta"]


def _dimensions(config: RetailConfig, force: bool, ctx: TaskContext | None) -> dict[str, int]:
    tracker = ProgressTracker(ctx.report if ctx else None, len(DIMENSIONS))

    def progress(name: str, index: int, total: int) -> None:
        if ctx is not None and ctx.cancelled:
            raise TaskCancelled  # dimensions are saved only after every table is built
        nxt = DIMENSIONS[index].name if index < total else ""
        tracker.update(
            index / total,
            tables_complete=index,
            tables_in_progress=(nxt,) if nxt else (),
            message=name,
        )

    return MasterDataGenerator(config, progress=progress).generate_all_master_data(force=force)


def dimensions_work(config: RetailConfig, force: bool) -> Work:
    """Generate (or with ``force`` regenerate, removing facts) every dimension."""
    root = Path(config.paths.data)
    if not force and facts_exist(root):
        raise DataStateError(
            f"facts exist in {root}; regenerating the dimensions needs force=true, which "
            "removes all fact data first"
        )

    def work(ctx: TaskContext) -> dict[str, Any]:
        rows = _dimensions(config, force, ctx)
        return {"rows": rows, "total_rows": sum(rows.values())}

    return work


def estimate_facts(
    config: RetailConfig,
    start: date | None,
    end: date | None,
    days: int | None,
    fmt: FileFormat | None,
    workers: int | None,
) -> GenerationEstimate:
    """What ``POST /api/generate/facts`` with the same fields would write (reads only)."""
    return estimate_run(
        config,
        start,
        end,
        days,
        workers=workers,
        output_format=fmt,
        names=API_NAMES,
    )


def _result(result: GenerationResult) -> dict[str, Any]:
    return {
        "rows": dict(result.rows),
        "total_rows": result.total_rows,
        "start": result.start.isoformat() if result.start else None,
        "end": result.end.isoformat() if result.end else None,
        "seconds": round(result.seconds, 3),
        "message": result.message,
        "files": len(result.files),
    }


def facts_work(config: RetailConfig, plan: FactPlan, workers: int | None) -> Work:
    """Dimensions when missing, then historical facts with throttled progress and cancel."""
    root = Path(config.paths.data)

    def work(ctx: TaskContext) -> dict[str, Any]:
        if not has_dimensions(root):
            _dimensions(config, False, None)
        generator = FactDataGenerator(
            config,
            workers=workers,
            output_format=plan.output_format,
            csv_daily=plan.csv_daily,
            progress=ctx.report,
            cancel_event=ctx.cancel_event,
        )
        result = generator.generate_historical_data(plan.start, plan.end)
        if result.cancelled:
            raise TaskCancelled(_result(result))
        return _result(result)

    return work
