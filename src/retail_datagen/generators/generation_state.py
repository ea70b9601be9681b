"""Seed import path of the continuation state, which lives in :mod:`retail_datagen.storage.state`
(the state of a data folder is kept with the rest of its storage)."""

from retail_datagen.storage.state import GenerationState, GenerationStateManager, OutputFormat

__all__ = ["GenerationState", "GenerationStateManager", "OutputFormat"]
