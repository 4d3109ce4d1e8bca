"""One budget per lint, shared by every value it renders: template time, rendered bytes and matrix combinations.

In: `LintLimits` (the defaults below are the only place these limits are set). Out: a `LintBudget` that the renderer
and the compiler charge as they go; the first part to run out is recorded once as `Spent` (what, and where), after
which nothing more is rendered or expanded and the rest is reported as not checked. Pure, no I/O, never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.model import Position

# Generous for any real repository (1,000 templated files render in well under a second), small enough that a pull
# request cannot keep CI busy: the per-value limits of `limits.py` bound one value, these bound their sum.
LINT_SECONDS = 10.0  # template time (compile and render) summed over one lint
LINT_OUTPUT_BYTES = 64 * 1024 * 1024  # rendered text summed over one lint
LINT_COMBINATIONS = 20_000  # queries one lint may expand, each matrix combination counted
MATRIX_COMBINATIONS = 1_000  # combinations of one file's matrix
# Each combination binds every variable in scope (project, file, matrix) afresh: 999 combinations of 12,000 one-value
# matrix keys once took 24 s and 1.5 GB while counting as 999. 20,000 queries with 50 variables each fit.
LINT_BINDINGS = 1_000_000  # variable bindings summed over every combination of one lint


@dataclass(frozen=True, kw_only=True)
class LintLimits:
    seconds: float = LINT_SECONDS
    output_bytes: int = LINT_OUTPUT_BYTES
    combinations: int = LINT_COMBINATIONS
    matrix_combinations: int = MATRIX_COMBINATIONS
    bindings: int = LINT_BINDINGS


@dataclass(frozen=True, kw_only=True)
class Spent:
    """The part of the budget that ran out, and the value (or matrix) being checked when it did."""

    what: str  # "time" | "output" | "combinations" | "bindings"
    path: str
    where: Position

    def describe(self, limits: LintLimits) -> str:
        if self.what == "time":
            return f"the lint's template time budget ({limits.seconds:g} s)"
        if self.what == "output":
            size = limits.output_bytes
            shown = f"{size // (1024 * 1024):,} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"
            return f"the lint's rendered output budget ({shown})"
        if self.what == "bindings":
            return f"the lint's budget of {limits.bindings:,} variable bindings (combinations x variables in scope)"
        return f"the lint's budget of {limits.combinations:,} query combinations"

    @property
    def place(self) -> str:
        return f"{self.path}:{self.where.line}:{self.where.column}"


class LintBudget:
    """What one lint has used so far. Charges only grow; once `spent` is set it stays."""

    def __init__(self, limits: LintLimits | None = None) -> None:
        self.limits = limits or LintLimits()
        self.seconds = 0.0
        self.output_bytes = 0
        self.combinations = 0
        self.bindings = 0
        self.spent: Spent | None = None

    def remaining_seconds(self) -> float:
        return self.limits.seconds - self.seconds

    def charge_time(self, seconds: float) -> None:
        self.seconds += max(seconds, 0.0)

    def charge_output(self, size: int, *, path: str, where: Position) -> bool:
        """Add `size` rendered bytes; False (and the budget spent here) when that takes the lint over its limit."""
        self.output_bytes += size
        if self.output_bytes <= self.limits.output_bytes:
            return True
        self.spend("output", path=path, where=where)
        return False

    def take_combinations(self, count: int, *, variables: int = 0, path: str, where: Position) -> bool:
        """Reserve `count` combinations of `variables` bindings each; False (and the budget spent here) when fewer
        are left, or none are because they already ran out (a smaller file after a refused one is not checked
        either: the lint stopped there). Counted before anything is expanded."""
        out = self.spent is not None and self.spent.what in ("combinations", "bindings")
        bindings = count * max(variables, 1)
        if out or self.combinations + count > self.limits.combinations:
            self.spend("combinations", path=path, where=where)
            return False
        if self.bindings + bindings > self.limits.bindings:
            self.spend("bindings", path=path, where=where)
            return False
        self.combinations += count
        self.bindings += bindings
        return True

    def spend(self, what: str, *, path: str, where: Position) -> None:
        if self.spent is None:
            self.spent = Spent(what=what, path=path, where=where)

    def spent_message(self) -> str:
        """Said where the budget ran out."""
        assert self.spent is not None
        return (f"{self.spent.describe(self.limits)} is spent here; this value and every templated value after it "
                "are not checked")

    def not_checked_message(self, what: str = "this file's templated values from here on are not rendered") -> str:
        """Said once per file that could not be checked after the budget ran out; `what` says what was skipped."""
        assert self.spent is not None
        return f"not checked: {self.spent.describe(self.limits)} was spent at {self.spent.place}; {what}"
