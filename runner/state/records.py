"""The journal's vocabulary: query states and the moves between them, run statuses, and the records read back.

Frozen values and enums, no I/O; `state/journal.py` stores them in SQLite.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from runner.errors import InternalError
from runner.model import RunStatus


class JournalError(InternalError):
    """The journal cannot be opened or an impossible state change was asked for (a bug in the caller)."""


class QueryState(enum.Enum):
    PENDING = "pending"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    FETCHING = "fetching"
    DONE = "done"
    FAILED = "failed"


_S = QueryState
# Moves the engine may make. Sharing one submit between identical queries lets pending jump ahead; on resume a
# failed query starts again and an expired query_result_id sends submitted/fetching back to submitting.
ALLOWED: Mapping[QueryState | None, frozenset[QueryState]] = {
    None: frozenset({_S.PENDING}),
    _S.PENDING: frozenset({_S.PENDING, _S.SUBMITTING, _S.SUBMITTED, _S.FETCHING, _S.DONE, _S.FAILED}),
    _S.SUBMITTING: frozenset({_S.SUBMITTING, _S.SUBMITTED, _S.FAILED}),
    _S.SUBMITTED: frozenset({_S.SUBMITTED, _S.SUBMITTING, _S.FETCHING, _S.DONE, _S.FAILED}),
    _S.FETCHING: frozenset({_S.FETCHING, _S.SUBMITTING, _S.DONE, _S.FAILED}),
    _S.FAILED: frozenset({_S.PENDING, _S.SUBMITTING, _S.FAILED}),
    _S.DONE: frozenset(),
}
TEXT_FIELDS = frozenset({"spec_hash", "file", "query_result_id", "cache_id", "last_completed_cache_id", "mode",
                          "sha256", "error_category", "error_detail", "request_id"})
INT_FIELDS = frozenset({"rows", "attempts"})
ERROR_FIELDS = ("error_category", "error_detail")


@dataclass(frozen=True, kw_only=True)
class HistoryKey:
    """Whose history a lookup reads: runs of this environment against this target (a normalised URL, or
    `embedded/graph-<digest>`, the embedded sandbox named by its graph). Rows a journal kept from before targets
    were recorded have none, so no key matches them."""

    env: str
    target: str


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    run_id: str
    env: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    target: str | None = None  # None: a run recorded before journals kept targets (schema 1)


@dataclass(frozen=True, kw_only=True)
class QueryRecord:
    run_id: str
    name: str
    spec_hash: str
    file: str | None
    state: QueryState
    query_result_id: str | None
    cache_id: str | None
    last_completed_cache_id: str | None
    mode: str | None
    rows: int | None
    sha256: str | None
    error_category: str | None
    error_detail: str | None
    request_id: str | None
    attempts: int
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class HistoryRecord:
    name: str
    spec_hash: str
    run_id: str
    cache_id: str | None
    row_count: int | None
    result_path: str | None
    finished_at: datetime
    sha256: str | None = None  # of the result file, as the run that wrote it recorded
    env: str | None = None  # the run's environment and target: the key it was found by
    target: str | None = None
