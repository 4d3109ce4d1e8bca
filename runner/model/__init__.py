"""Frozen values that cross stages: findings and documents, the typed `Query` with its `CachePolicy`, the batch's
`QueryPlan`/`Member`, and what became of them (`QueryResult`, `BatchOutcome`, `RunStatus`). Pure, no I/O.
"""

from __future__ import annotations

from runner.model.assessment import Drift, DriftResult, EntityRef, ExpectSeverity, Outcome, Verdict
from runner.model.plans import MAX_CONCURRENCY, Member, QueryPlan, Shard
from runner.model.query import (
    CACHE_MODES,
    PREVIOUS_CACHE_ID,
    CachePolicy,
    Context,
    IfAvailable,
    Immediate,
    Query,
    cache_policy,
    with_mode,
)
from runner.model.results import (
    BatchOutcome,
    CacheUse,
    ConcurrencyReport,
    ErrorCategory,
    QueryError,
    QueryResult,
    QueryStatus,
    ResultSink,
    RunStatus,
    StopReason,
    cache_use,
)
from runner.model.values import (
    CharMap,
    Document,
    Finding,
    JSONObject,
    JSONPath,
    JSONValue,
    Position,
    QueryUnit,
    Severity,
)

__all__ = [
    "CACHE_MODES",
    "MAX_CONCURRENCY",
    "PREVIOUS_CACHE_ID",
    "BatchOutcome",
    "CachePolicy",
    "CacheUse",
    "CharMap",
    "ConcurrencyReport",
    "Context",
    "Document",
    "Drift",
    "DriftResult",
    "EntityRef",
    "ErrorCategory",
    "ExpectSeverity",
    "Finding",
    "IfAvailable",
    "Immediate",
    "JSONObject",
    "JSONPath",
    "JSONValue",
    "Member",
    "Outcome",
    "Position",
    "Query",
    "QueryError",
    "QueryPlan",
    "QueryResult",
    "QueryStatus",
    "QueryUnit",
    "ResultSink",
    "RunStatus",
    "Severity",
    "Shard",
    "StopReason",
    "Verdict",
    "cache_policy",
    "cache_use",
    "with_mode",
]
