"""Invariant checks over a generated dataset (SPEC §9), returning a report."""

from retail_datagen.validation.report import CheckResult, ValidationReport
from retail_datagen.validation.runner import check, register, run_checks, validate

__all__ = ["CheckResult", "ValidationReport", "check", "register", "run_checks", "validate"]
