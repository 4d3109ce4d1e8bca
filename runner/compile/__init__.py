"""Query files → rendered `QueryUnit`s, typed `Query` values and findings: load → template per matrix row →
validate → rules, with the signed per-file lint cache. Reads the query repository.
"""

from __future__ import annotations

from runner.compile.repository import Compiled, compile_repository, discover_query_files
from runner.compile.scope import LintScope, lint_scope, scoped_findings

__all__ = [
    "Compiled",
    "LintScope",
    "compile_repository",
    "discover_query_files",
    "lint_scope",
    "scoped_findings",
]
