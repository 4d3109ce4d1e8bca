"""A JSON value + variables → rendered value + findings, in a sandboxed, time- and size-budgeted Jinja; every
undefined name reported; one `LintBudget` shared by every value of a lint. Pure.
"""

from __future__ import annotations

from runner.template.budget import LintBudget, LintLimits
from runner.template.render import BUDGET_RULE, NOT_CHECKED_RULE, Renderer

__all__ = [
    "BUDGET_RULE",
    "NOT_CHECKED_RULE",
    "LintBudget",
    "LintLimits",
    "Renderer",
]
