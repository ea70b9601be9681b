"""Seed import path of the fact-generation driver, which lives in
:mod:`retail_datagen.engine.fact_generator` (it drives the engine, so it sits above it)."""

from retail_datagen.engine.fact_generator import (
    FactDataGenerator,
    GenerationResult,
    plan_days,
)

__all__ = ["FactDataGenerator", "GenerationResult", "plan_days"]
