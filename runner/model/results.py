"""What became of each query of a batch (`QueryResult`, with its cache use and error) and of the batch as a whole
(`BatchOutcome`, `StopReason`).

Frozen dataclasses and enums, no I/O. `execute` produces them, `artifact` turns them into run.json.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from runner.errors import ExitCode
from runner.model.assessment import DriftResult, Outcome
from runner.model.exceptions import Excepted
from runner.model.lifecycle import Lifecycle
from runner.model.values import JSONValue


class ResultSink(Protocol):
    """A report made from one query's rows while the run fetches them (the CSV beside its results file).

    `feed` gets each page's rows as they are written; once the results file is committed, `prepare()` runs on the
    event loop (CPU only: the rows are in memory, and a worker thread would only contend with the loop for the GIL)
    and `save()` in a worker thread (the file's write and fsync). Either may raise OSError: the query stays done and
    the after-run step writes the report again."""

    def feed(self, rows: Sequence[JSONValue]) -> None: ...

    def prepare(self) -> None: ...

    def save(self) -> None: ...


class QueryStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_RUN = "not_run"  # never started: --fail-fast, an aborted run, or an interrupt before its turn
    INTERRUPTED = "interrupted"  # started, then stopped by Ctrl-C; `--resume` continues it


class CacheUse(enum.Enum):
    """Whether the result came from Veza's cache. Rule (documented in run.schema.json): `hit` when the create mode
    was `cached_result_context`, or the reply's `cache_id` equals its `last_completed_cache_id` (the result handed
    back is the latest completed one, so nothing new ran); `miss` when the reply names a `cache_id` that is not the
    latest completed one (a new or still-running execution); without ids, `hit` when the first poll, sent right after
    the submit, already found the job DONE; else `unknown`."""

    HIT = "hit"
    MISS = "miss"
    UNKNOWN = "unknown"


def cache_use(*, mode: str | None, cache_id: str | None, last_completed_cache_id: str | None,
              done_at_first_poll: bool) -> CacheUse:
    if mode == "cached_result_context":
        return CacheUse.HIT
    if cache_id:
        return CacheUse.HIT if cache_id == last_completed_cache_id else CacheUse.MISS
    return CacheUse.HIT if done_at_first_poll else CacheUse.UNKNOWN


class ErrorCategory(enum.Enum):
    AUTH = "auth"  # 401/403: the key is refused (the run aborts)
    NOT_FOUND = "not_found"  # an expired or unknown cache_id or query_result_id
    INVALID_REQUEST = "invalid_request"  # 400: the spec was refused
    TRANSIENT = "transient"  # retries or the run's retry budget ran out
    DEADLINE = "deadline"  # the query's or the run's deadline passed
    RESPONSE = "response"  # the API broke its contract (repeated page token, row count mismatch...)
    JOB_FAILED = "job_failed"  # the async job ended with a failure status
    CACHE_CONTEXT = "cache_context"  # `cache_id: previous` with nothing recorded
    API = "api"  # any other API refusal
    IO = "io"  # writing the result file failed


@dataclass(frozen=True, kw_only=True)
class QueryError:
    category: ErrorCategory
    message: str
    request_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class QueryResult:
    name: str
    file: str
    spec_hash: str
    status: QueryStatus
    mode: str | None = None  # the create mode last sent
    query_result_id: str | None = None
    cache_id: str | None = None
    last_completed_cache_id: str | None = None
    cache: CacheUse = CacheUse.UNKNOWN
    result_age_seconds: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    polls: int = 0
    rows: int | None = None
    sha256: str | None = None
    results_file: str | None = None  # relative to the run directory
    expectations: tuple[Outcome, ...] = ()
    drift: DriftResult | None = None
    lifecycle: Lifecycle | None = None  # new, persisting and resolved entities, the oldest open (assess/lifecycle)
    exceptions: Excepted | None = None  # what the accepted exceptions covering it did (assess/exceptions)
    error: QueryError | None = None
    shared_submit: bool = False  # its create body was identical to another query's: one submit served both
    kept: bool = field(default=False)  # done in an earlier attempt of this run (`--resume`): not fetched again

    @property
    def error_expectation_failed(self) -> bool:
        return any(o.is_error_failure for o in self.expectations)


class RunStatus(enum.Enum):
    """A run's status, the one vocabulary of the journal, run.json and the summary line."""

    RUNNING = "running"  # also what a killed run is left at (journal only)
    INTERRUPTED = "interrupted"
    ABORTED = "aborted"  # could not go on at all (auth refused, retry budget spent)
    COMPLETED = "completed"  # every query reached done or failed; the only status `--resume` skips


class StopReason(enum.Enum):
    FAIL_FAST = "fail_fast"
    AUTH = "auth_refused"
    RETRY_BUDGET = "retry_budget_exhausted"
    RUN_DEADLINE = "run_deadline"


@dataclass(frozen=True, kw_only=True)
class ConcurrencyReport:
    """The adaptive concurrency of a run (`execute/aimd.py`): the configured ceiling, where it started (capped by
    the last run's converged value), where it ended, its converged value (None: nothing throttled), the limit over
    time as (seconds since the batch began, limit) at each change, and the throttling that happened: attempts
    refused with 429/503 or `Retry-After`, and the seconds waited on `Retry-After`."""

    configured: int
    start: int
    final: int
    converged: float | None
    series: tuple[tuple[float, int], ...]
    throttled: int
    retry_after_seconds: float

    @property
    def learnt_cap(self) -> float | None:
        """What the next run starts under: the converged value after throttling; the limit reached while still
        climbing back from an earlier cap; None when the configured concurrency was reached unthrottled."""
        if self.converged is not None:
            return self.converged
        return float(self.final) if self.final < self.configured else None

    def to_json(self) -> dict[str, JSONValue]:
        return {"configured": self.configured, "start": self.start, "final": self.final,
                "converged": self.converged, "series": [[t, limit] for t, limit in self.series],
                "throttled": self.throttled, "retry_after_seconds": self.retry_after_seconds}


@dataclass(frozen=True, kw_only=True)
class BatchOutcome:
    results: tuple[QueryResult, ...]
    interrupted: bool
    stopped: StopReason | None
    concurrency: ConcurrencyReport | None = None

    def count(self, status: QueryStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def status(self) -> RunStatus:
        if self.interrupted:
            return RunStatus.INTERRUPTED
        if self.stopped in (StopReason.AUTH, StopReason.RETRY_BUDGET):
            return RunStatus.ABORTED
        return RunStatus.COMPLETED

    @property
    def exit_code(self) -> ExitCode:
        """README: Exit codes. 130 interrupted; 3 when the run aborted and nothing succeeded; 1 when a query failed,
        did not run, or an error-severity expectation failed; else 0."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        succeeded = self.count(QueryStatus.SUCCEEDED)
        if self.status is RunStatus.ABORTED and succeeded == 0:
            return ExitCode.INTERNAL
        if succeeded < len(self.results) or any(r.error_expectation_failed for r in self.results):
            return ExitCode.FINDINGS
        return ExitCode.OK
