"""Run every registered invariant check against a data folder's DuckDB store (SPEC §9).

Checks are plain functions ``(con) -> CheckResult`` registered with :func:`check` (or
:func:`register` for checks generated in a loop). Modules that hold checks register them on
import; :data:`CHECK_MODULES` lists them, and a module that does not exist yet is skipped.
A caller may run a chosen list of checks instead (``validate(..., checks=...)``): those of some
modules (:func:`registered_checks`), or its own, kept in a :class:`CheckRegistry` of its own.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import duckdb

from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS
from retail_datagen.storage.duckdb_store import open_store, table_exists
from retail_datagen.storage.integrity import Problem, ProblemArea, inspect
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.sql import literal
from retail_datagen.storage.state import GenerationStateManager
from retail_datagen.validation.report import CheckKind, CheckResult, ValidationReport

__all__ = [
    "CHECK_MODULES",
    "RANGE_VIEW",
    "CheckFn",
    "CheckRegistry",
    "RegisteredCheck",
    "check",
    "register",
    "registered_checks",
    "run_checks",
    "validate",
]

CheckFn = Callable[[duckdb.DuckDBPyConnection], CheckResult]
RANGE_VIEW = "generated_range"  # one row, RangeEnd: the last generated microsecond

CHECK_MODULES = (
    "retail_datagen.validation.key_checks",
    "retail_datagen.validation.dimension_checks",
    "retail_datagen.validation.fact_checks",
    "retail_datagen.validation.returns_checks",
    "retail_datagen.validation.cost_checks",
    "retail_datagen.validation.date_checks",
    "retail_datagen.validation.basket_checks",
    "retail_datagen.validation.shopper_checks",
    "retail_datagen.validation.price_checks",
    "retail_datagen.validation.stock_calendar_checks",
    "retail_datagen.validation.horizon_checks",
    "retail_datagen.validation.steady_state_checks",
)


@dataclass(frozen=True)
class RegisteredCheck:
    name: str
    kind: CheckKind
    fn: CheckFn


class CheckRegistry:
    """Named checks in registration order; names are unique."""

    def __init__(self) -> None:
        self._checks: dict[str, RegisteredCheck] = {}

    def register(self, name: str, kind: CheckKind, fn: CheckFn) -> None:
        """Add a check; registering the same name twice is a programming error."""
        existing = self._checks.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"a validation check called {name!r} is already registered")
        self._checks[name] = RegisteredCheck(name, kind, fn)

    def check(self, name: str, *, kind: CheckKind = "hard") -> Callable[[CheckFn], CheckFn]:
        """Decorator form of :meth:`register`."""

        def decorate(fn: CheckFn) -> CheckFn:
            self.register(name, kind, fn)
            return fn

        return decorate

    def checks(self) -> list[RegisteredCheck]:
        return list(self._checks.values())


_DEFAULT = CheckRegistry()  # what the check modules register into
register = _DEFAULT.register
check = _DEFAULT.check


def _load_check_modules() -> None:
    for module in CHECK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real missing dependency inside the module
                raise


def registered_checks(modules: Collection[str] | None = None) -> list[RegisteredCheck]:
    """Every check of every check module (or of ``modules`` only), in registration order."""
    _load_check_modules()
    found = _DEFAULT.checks()
    return found if modules is None else [c for c in found if c.fn.__module__ in modules]


def _run_one(entry: RegisteredCheck, con: duckdb.DuckDBPyConnection) -> CheckResult:
    try:
        result = entry.fn(con)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CheckResult(entry.name, entry.kind, False, detail=f"check failed to run: {first}")
    return dataclasses.replace(result, name=entry.name, kind=entry.kind)


def run_checks(
    con: duckdb.DuckDBPyConnection, checks: Iterable[RegisteredCheck] | None = None
) -> ValidationReport:
    """Run ``checks`` (default: all registered checks) on an open store connection."""
    chosen = registered_checks() if checks is None else checks
    return ValidationReport(_run_one(entry, con) for entry in chosen)


def _folder_results(problems: list[Problem]) -> list[CheckResult]:
    """One hard check per area of the data folder's integrity (see storage/integrity.py)."""
    results = []
    for area in get_args(ProblemArea):
        found = [p.message for p in problems if p.area == area]
        results.append(CheckResult.hard(f"data folder: {area}", len(found), "; ".join(found)))
    return results


def _record_range(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> None:
    """Expose the end of the generated range to the checks (view :data:`RANGE_VIEW`)."""
    state = GenerationStateManager(layout.root).load()
    end = state.last_generated_timestamp if state.has_fact_data else None
    if end is not None:
        stamp = literal(end.isoformat(sep=" "))
        con.execute(
            f'CREATE OR REPLACE TEMP VIEW {RANGE_VIEW} AS SELECT {stamp}::TIMESTAMP AS "RangeEnd"'
        )


def validate(
    data_dir: str | Path, *, checks: Sequence[RegisteredCheck] | None = None
) -> ValidationReport:
    """Validate the data folder; a folder without dimensions is a :class:`DataStateError`.

    ``checks`` chooses the invariants to run (default: all); the folder's integrity is always
    checked.

    The folder's integrity is checked first; when it is not whole (an interrupted run, a
    damaged store or state file) only those results are reported, with their fix, since the
    invariants would fail for that reason alone.
    """
    layout = DataLayout.of(data_dir)
    missing = DataStateError(
        f"no dimensions in {layout.root}; run `retail-datagen generate --dims-only` first"
    )
    began = time.monotonic()
    problems = inspect(layout)
    folder = _folder_results(problems)
    if any(p.blocking for p in problems):
        return ValidationReport(folder, time.monotonic() - began)
    if not layout.duckdb_path.exists():
        raise missing
    with open_store(layout.root, ordered=False) as con:  # checks aggregate: order is free
        if not all(table_exists(con, t.name) for t in DIMENSIONS):
            raise missing
        _record_range(con, layout)
        report = run_checks(con, checks)
    report.results[:0] = folder
    report.seconds = time.monotonic() - began
    return report
