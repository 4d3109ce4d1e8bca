"""Expectations (`expect:` entries) evaluated after a query ran: `rows`, `new_rows`/`removed_rows` (drift), and
`max_age_days` (finding lifecycle: no entity may stay in the result longer than N days).

`evaluate_expectations(entries, rows=..., drift=..., lifecycle=...)` is pure, no I/O: each entry becomes an
`Outcome` (passed, failed or skipped, with its message). Drift itself is counted from the result files by
`assess/drift.py`, the lifecycle by `assess/lifecycle.py`.
"""

from __future__ import annotations

from runner.model import Drift, ExpectSeverity, JSONObject, JSONValue, Outcome, Verdict
from runner.model.lifecycle import Lifecycle

METRICS = ("rows", "new_rows", "removed_rows", "max_age_days")


def _describe(bounds: JSONObject) -> str:
    parts = [f"{name} {bounds[name]}" for name in ("eq", "min", "max") if name in bounds]
    return ", ".join(parts) or "no bound"


def _violated(actual: int, bounds: JSONObject) -> bool:
    def number(name: str) -> float | None:
        value = bounds.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    eq, low, high = number("eq"), number("min"), number("max")
    return ((eq is not None and actual != eq) or (low is not None and actual < low)
            or (high is not None and actual > high))


def _age(lifecycle: Lifecycle | None, days: JSONValue, severity: ExpectSeverity) -> Outcome:
    limit = days if isinstance(days, int) and not isinstance(days, bool) else 0
    bounds: JSONObject = {"max": limit}
    if lifecycle is None:
        return Outcome(metric="max_age_days", bounds=bounds, severity=severity, verdict=Verdict.SKIPPED, actual=None,
                       message="skipped: no finding lifecycle (the result file could not be read)")
    actual = lifecycle.max_age_days
    first = lifecycle.oldest[0].first_seen if lifecycle.oldest else None
    oldest = f", the oldest open entity first seen {first:%Y-%m-%d}" if first else ""
    failed = actual > limit
    return Outcome(metric="max_age_days", bounds=bounds, severity=severity,
                   verdict=Verdict.FAILED if failed else Verdict.PASSED, actual=actual,
                   message=f"max_age_days = {actual}{oldest} (expected at most {limit} days)")


def evaluate_one(entry: JSONObject, *, rows: int, drift: Drift | None, no_drift: str | None = None,
                 lifecycle: Lifecycle | None = None) -> Outcome | None:
    """One `expect:` entry; None when it names no metric (the linter reports that). Without `drift`, a drift
    metric is skipped (not failed) with `no_drift` as its message; without `lifecycle`, `max_age_days` is."""
    metric = next((m for m in METRICS if m in entry), None)
    if metric is None:
        return None
    raw = entry.get(metric)
    bounds: JSONObject = dict(raw) if isinstance(raw, dict) else {}
    severity = ExpectSeverity.WARN if entry.get("severity") == "warn" else ExpectSeverity.ERROR
    custom = entry.get("message")
    if metric == "max_age_days":
        outcome = _age(lifecycle, raw, severity)
        if outcome.verdict is Verdict.FAILED and isinstance(custom, str) and custom:
            return Outcome(metric=outcome.metric, bounds=outcome.bounds, severity=severity, verdict=outcome.verdict,
                           actual=outcome.actual, message=f"{custom}: {outcome.message}")
        return outcome
    since = ""
    if metric == "rows":
        actual = rows
    elif drift is None:
        return Outcome(metric=metric, bounds=bounds, severity=severity, verdict=Verdict.SKIPPED, actual=None,
                       message=no_drift or "skipped: no previous run")
    else:
        actual = drift.added if metric == "new_rows" else drift.removed
        since = f" since run {drift.previous_run}"
    failed = _violated(actual, bounds)
    summary = f"{metric} = {actual}{since} (expected {_describe(bounds)})"
    message = f"{custom}: {summary}" if failed and isinstance(custom, str) and custom else summary
    return Outcome(metric=metric, bounds=bounds, severity=severity,
                   verdict=Verdict.FAILED if failed else Verdict.PASSED, actual=actual, message=message)


def evaluate_expectations(entries: JSONValue, *, rows: int, drift: Drift | None, no_drift: str | None = None,
                          lifecycle: Lifecycle | None = None) -> tuple[Outcome, ...]:
    """Every entry of a query's `expect:` list, in order."""
    if not isinstance(entries, list):
        return ()
    found = (evaluate_one(e, rows=rows, drift=drift, no_drift=no_drift, lifecycle=lifecycle)
             for e in entries if isinstance(e, dict))
    return tuple(o for o in found if o is not None)
