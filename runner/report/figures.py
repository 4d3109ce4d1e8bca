"""Wording and figures shared by the report formats: durations, ages, status words, bounds, slowest queries.

Pure functions of the loaded run artifact; no I/O. Every format says the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.model import JSONObject
from runner.report.load import Expectation, QueryError, QueryRun, RunArtifact

STATUSES = ("succeeded", "failed", "not_run", "interrupted")
STATUS_WORDS = {"succeeded": "succeeded", "failed": "failed", "not_run": "not run", "interrupted": "interrupted"}
SLOWEST = 5


def when_text(stamp: str | None) -> str:
    """An RFC 3339 UTC stamp as people read it: `2025-03-01 02:00:31 UTC` (sub-seconds dropped)."""
    if not stamp:
        return "—"
    day, _, rest = stamp.partition("T")
    return f"{day} {rest[:8]} UTC" if len(rest) >= 8 else stamp


def run_time_text(run_id: str) -> str:
    """When a run started, from its id (`20250301T020000Z-a1b2` -> `2025-03-01 02:00`)."""
    if len(run_id) < 13 or run_id[8] != "T":
        return run_id
    return f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]} {run_id[9:11]}:{run_id[11:13]}"


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def age_text(seconds: float | None) -> str:
    """How old the result handed back was (a cached result can be hours old; a fresh one is `fresh`)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return "fresh" if seconds < 1 else f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def result_age_text(query: QueryRun) -> str:
    """A cache miss ran anew: its result is fresh whatever the second or two the job took (not "1 s old")."""
    return "fresh" if query.cache == "miss" else age_text(query.result_age_seconds)


def signed(count: int, sign: str) -> str:
    """`+3`, `−2`; zero has no sign (a "−0" reads as a change)."""
    return f"{sign}{count:,}" if count else "0"


def request_message(error: QueryError) -> str:
    """The error's message without the request id the client already appended to it: reports show the id once,
    on its own."""
    if not error.request_id:
        return error.message
    for suffix in (f" (request_id {error.request_id})", f" (request id {error.request_id})"):
        if suffix in error.message:
            return error.message.replace(suffix, "", 1)
    return error.message


def rows_text(rows: int | None) -> str:
    return "—" if rows is None else f"{rows:,}"


def bounds_text(bounds: JSONObject) -> str:
    names = {"eq": "=", "min": "≥", "max": "≤"}
    parts = [f"{names[key]} {bounds[key]}" for key in ("eq", "min", "max") if key in bounds]
    return ", ".join(parts) or "no bound"


def drift_text(query: QueryRun) -> str:
    drift = query.drift
    if drift is None:
        return "—"
    text = f"{signed(drift.added, '+')} {signed(drift.removed, '−')}"
    return text + (f" {signed(drift.changed, '~')}" if drift.changed is not None else "")


def slowest(run: RunArtifact, limit: int = SLOWEST) -> list[QueryRun]:
    timed = [q for q in run.queries if q.seconds is not None]
    return sorted(timed, key=lambda q: (-(q.seconds or 0.0), q.name))[:limit]


def status_counts(run: RunArtifact) -> list[tuple[str, int]]:
    return [(status, run.count(status)) for status in STATUSES]


def expectation_summary(query: QueryRun) -> str:
    """`2 passed, 1 failed (error)`-style text for a query's expectations."""
    if not query.expectations:
        return "—"
    passed = sum(1 for e in query.expectations if e.outcome == "passed")
    skipped = sum(1 for e in query.expectations if e.outcome == "skipped")
    errors = sum(1 for e in query.expectations if e.failed and e.severity == "error")
    warns = sum(1 for e in query.expectations if e.failed and e.severity != "error")
    parts = [f"{passed} passed"] if passed else []
    parts += [f"{errors} failed"] if errors else []
    parts += [f"{warns} warned"] if warns else []
    parts += [f"{skipped} skipped"] if skipped else []
    return ", ".join(parts)


def drifted(run: RunArtifact) -> list[QueryRun]:
    return [q for q in run.queries if q.drift is not None]


_NOT_SUCCEEDED = {"failed": 0, "interrupted": 1, "not_run": 2}


def failed_queries(run: RunArtifact) -> list[QueryRun]:
    """Queries that did not succeed, the worst first: failed, interrupted, not run (then in run order)."""
    return sorted((q for q in run.queries if q.status != "succeeded"), key=lambda q: _NOT_SUCCEEDED.get(q.status, 0))


def attention(run: RunArtifact) -> list[tuple[QueryRun, Expectation | None]]:
    """What needs attention, by severity: queries that did not succeed (expectation None), then failed
    error-severity expectations, then warnings."""
    return [*((q, None) for q in failed_queries(run)), *run.failed_expectations("error"),
            *run.failed_expectations("warn")]


def headline(run: RunArtifact) -> str:
    """One line: what happened overall."""
    parts = [f"{count} {STATUS_WORDS[status]}" for status, count in status_counts(run) if count or status ==
             "succeeded"]
    return (f"{len(run.queries)} queries: " + ", ".join(parts) + f"; {run.cache_hits} from cache; "
            f"{run.total_rows:,} rows in {seconds_text(run.seconds)}")


def queries_in_order(queries: Sequence[QueryRun]) -> list[QueryRun]:
    """Problems first (failed, interrupted, not run, then failed expectations), then by name."""
    def rank(query: QueryRun) -> tuple[int, str]:
        order = {"failed": 0, "interrupted": 1, "not_run": 2}
        if query.status in order:
            return order[query.status], query.name
        if any(e.severity == "error" for e in query.failed_expectations):
            return 3, query.name
        return (4 if query.failed_expectations else 5), query.name

    return sorted(queries, key=rank)
