"""Results of the invariant checks (SPEC §9) and their readable and JSON forms."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CheckKind", "CheckResult", "ValidationReport"]

CheckKind = Literal["hard", "range"]


@dataclass(frozen=True)
class CheckResult:
    """One check: a hard invariant counts ``violations`` (0 passes); a range check compares
    ``measured`` with the ``accepted`` interval (an infinite bound means open-ended)."""

    name: str
    kind: CheckKind
    passed: bool
    violations: int | None = None
    measured: float | None = None
    accepted: tuple[float, float] | None = None
    detail: str = ""

    @classmethod
    def hard(cls, name: str, violations: int, detail: str = "") -> CheckResult:
        return cls(name, "hard", violations == 0, violations=violations, detail=detail)

    @classmethod
    def range(
        cls,
        name: str,
        measured: float | None,
        accepted: tuple[float, float],
        detail: str = "",
    ) -> CheckResult:
        """A measured value that must lie in ``accepted`` (None = nothing to measure: passes)."""
        ok = measured is None or accepted[0] <= measured <= accepted[1]
        return cls(name, "range", ok, measured=measured, accepted=accepted, detail=detail)

    @classmethod
    def skipped(cls, name: str, kind: CheckKind, reason: str) -> CheckResult:
        return cls(name, kind, True, detail=f"skipped: {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "passed": self.passed,
            "violations": self.violations,
            "measured": _finite(self.measured),
            "accepted": None if self.accepted is None else [_finite(v) for v in self.accepted],
            "detail": self.detail,
        }

    @property
    def outcome(self) -> str:
        """The measured side in a few characters, for the table."""
        if self.violations is not None:
            return f"{self.violations} violation{'s' if self.violations != 1 else ''}"
        if self.measured is not None:
            return f"{self.measured:.4g}"
        return "-"

    @property
    def expectation(self) -> str:
        if self.accepted is None:
            return "0 violations" if self.kind == "hard" else "-"
        low, high = self.accepted
        if math.isinf(high):
            return f">= {low:g}"
        if math.isinf(low):
            return f"<= {high:g}"
        return f"{low:g} .. {high:g}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class ValidationReport:
    """All check results of one validation run."""

    def __init__(self, results: Iterable[CheckResult] = (), seconds: float = 0.0) -> None:
        self.results = list(results)
        self.seconds = seconds

    def __repr__(self) -> str:
        return f"ValidationReport({len(self.results)} checks, {len(self.failures)} failed)"

    def result(self, name: str) -> CheckResult:
        """The result of the check called ``name`` (KeyError when there is none)."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": len(self.results),
            "failures": len(self.failures),
            "seconds": round(self.seconds, 3),
            "results": [r.to_dict() for r in self.results],
        }

    def render(self, *, only_failures: bool = False) -> str:
        """A fixed-width text table (status, check, outcome, expected, detail) and a summary."""
        shown = self.failures if only_failures else self.results
        verdict = "PASSED" if self.passed else "FAILED"
        summary = (
            f"{verdict}: {len(self.results) - len(self.failures)} of {len(self.results)} checks "
            f"passed, {len(self.failures)} failed ({self.seconds:.1f} s)"
        )
        if not shown:
            return summary
        rows = [("", "check", "outcome", "expected", "detail")]
        rows += [
            ("ok" if r.passed else "FAIL", r.name, r.outcome, r.expectation, r.detail)
            for r in shown
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
        lines += ["", summary]
        return "\n".join(line.rstrip() for line in lines)
