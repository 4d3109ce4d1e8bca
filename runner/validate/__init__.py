"""A value + a bundled JSON Schema → findings at file:line:col, each error explained in one sentence.
Reads the bundled schemas.
"""

from __future__ import annotations

from runner.validate.messages import Problem, explain
from runner.validate.saved_query import SAVED_QUERY_KEYS
from runner.validate.schemas import (
    SchemaResult,
    SchemaSet,
    Validator,
    drop_repeated,
    exceptions_validator,
    load_schema_set,
    schema_check,
    schema_findings,
    schema_problems,
)

__all__ = [
    "SAVED_QUERY_KEYS",
    "Problem",
    "SchemaResult",
    "SchemaSet",
    "Validator",
    "drop_repeated",
    "exceptions_validator",
    "explain",
    "load_schema_set",
    "schema_check",
    "schema_findings",
    "schema_problems",
]
