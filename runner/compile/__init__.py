"""Query files → rendered `QueryUnit`s, typed `Query` values and findings: load → template per matrix row →
validate → rules, with the signed per-file lint cache; `vqr lint` compiles per environment and merges the findings.
Reads the query repository.
"""

from __future__ import annotations

from runner.compile.environments import (
    EnvironmentsCompiled,
    compile_contexts,
    compile_environments,
    lint_environments,
)
from runner.compile.repository import Compiled, compile_repository, discover_query_files
from runner.compile.scope import LintScope, lint_scope, scoped_findings

__all__ = [
    "Compiled",
    "EnvironmentsCompiled",
    "LintScope",
    "compile_contexts",
    "compile_environments",
    "compile_repository",
    "discover_query_files",
    "lint_environments",
    "lint_scope",
    "scoped_findings",
]
