"""Saved-query keys pasted inside a spec: which keys they are, and where each one's value belongs in a query file.

A saved query or a report entry carries its spec fields beside saved-query fields (veza-api.md §4, §9); pasted under
`spec:`, those are not spec fields. `saved_query_problem` turns the generic unknown-key problem of such a key at the
spec's top level into one that names the key and its home. Pure data and one function, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from runner.model import JSONPath
from runner.validate.messages import Problem

RULE: Final = "spec/saved-query-key"
# key -> the query file's key that holds its value, or None: vqr has no place for it (read-only or exported, or a
# saved-query setting vqr never sends). Writable [D createassessmentquery]: name, description, labels, visibility,
# risk_level, risk_explanation, risk_remediation, analysis_type, risk_suppressed_constraints, save_mode, vql_query,
# violation (deprecated). Read-only or exported [D][VZ]: id, created_at, updated_at, result_type, source_type,
# integration_types (top level; a NodeSpec's is a spec field); 2023 report files only [VZ]: category, level.
# `variables` is a saved-query field *and* a spec field, so it is not listed.
SAVED_QUERY_KEYS: Final[Mapping[str, str | None]] = {
    "name": "name", "description": "description", "labels": "tags",
    **dict.fromkeys(("visibility", "risk_level", "risk_explanation", "risk_remediation", "analysis_type",
                     "risk_suppressed_constraints", "save_mode", "vql_query", "violation", "id", "created_at",
                     "updated_at", "result_type", "source_type", "integration_types", "category", "level")),
}


def _message(key: str, home: str | None) -> str:
    where = "a saved-query field, not a spec field"
    if home == "name":
        return f"'{key}' is {where}: the query file's own `name:` names the query; move it there or remove it"
    if home is not None:
        return f"'{key}' is {where}: move its value to the query file's `{home}:`"
    return f"'{key}' is {where} (read-only, exported or a saved-query setting vqr never sends): remove it"


def saved_query_problem(problem: Problem, path: JSONPath, spec_path: JSONPath | None) -> Problem | None:
    """The targeted problem for an unknown `problem` found at `path` (document coordinates) when it is a saved-query
    key directly inside the spec at `spec_path`; None otherwise."""
    if problem.kind != "unknown-key" or spec_path is None or len(path) != len(spec_path) + 1:
        return None
    key = path[-1]
    if tuple(path[:-1]) != tuple(spec_path) or not isinstance(key, str) or key not in SAVED_QUERY_KEYS:
        return None
    return Problem(path=problem.path, kind="saved-query-key", key=True, rule=RULE,
                   message=_message(key, SAVED_QUERY_KEYS[key]))
