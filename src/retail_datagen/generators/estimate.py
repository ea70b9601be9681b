"""Former import path of the run estimate, which lives in :mod:`retail_datagen.engine.estimate`
(it plans a run as the fact driver does)."""

from retail_datagen.engine.estimate import (
    CONFIRM_ABOVE_BYTES,
    CONFIRM_ABOVE_SECONDS,
    CONFIRM_LIMITS,
    GenerationEstimate,
    estimate_days,
    fact_rows_per_day,
)

__all__ = [
    "CONFIRM_ABOVE_BYTES",
    "CONFIRM_ABOVE_SECONDS",
    "CONFIRM_LIMITS",
    "GenerationEstimate",
    "estimate_days",
    "fact_rows_per_day",
]
