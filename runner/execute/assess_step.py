"""The assessment every succeeded result goes through, in a run or in `vqr report merge`: drift against the query's
previous successful run, its finding lifecycle, its accepted exceptions, then its expectations.

`assess_result(journal=, key=, run_id=, as_of=, plan=, results=, result=)` returns the result with them; `scope(key,
plan)` names the query's lifecycle. Reads result files and the journal; writes the lifecycle's changes to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from runner.assess import (
    LifecycleScan,
    annotate,
    apply_exceptions,
    compare_results,
    counted,
    evaluate_expectations,
    track_lifecycle,
)
from runner.model import CacheUse, Drift, DriftResult, QueryPlan, QueryResult
from runner.model.exceptions import Excepted, ExceptionRule
from runner.model.lifecycle import LifecycleScope
from runner.state import HistoryKey, Journal


def _now() -> datetime:
    return datetime.now(UTC)


def scope(key: HistoryKey, plan: QueryPlan) -> LifecycleScope:
    return LifecycleScope(env=key.env, target=key.target, query=plan.name, spec_hash=plan.spec_hash)


def assess_result(*, journal: Journal, key: HistoryKey, run_id: str, as_of: datetime, plan: QueryPlan,
                  results: Path, result: QueryResult, exceptions: Sequence[ExceptionRule] = (),
                  scan: LifecycleScan | None = None) -> QueryResult:
    """Drift against this query's previous successful run with the same spec, its finding lifecycle, then its
    expectations: what every succeeded query goes through, in a run or in `vqr report merge` (whose results were
    fetched by the shards, and whose drift is computed here, once, against the merged history). `scan`: the
    lifecycle's pass over the rows, made as they were written (else the result file is read)."""
    previous = journal.previous_success(plan.name, plan.spec_hash, key=key, exclude_run=run_id)
    drift: DriftResult | None = None
    missing: str | None = None
    if previous is not None and previous.sha256 is not None and previous.sha256 == result.sha256:
        # The same bytes as last time: nothing was added, removed or changed, and nothing needs parsing.
        drift = DriftResult(previous_run=previous.run_id, added=0, removed=0, changed=0, unchanged=result.rows or 0,
                            ignored=tuple(plan.drift_ignore))
    elif previous is not None and previous.result_path:
        try:
            drift = compare_results(Path(previous.result_path), results, previous_run=previous.run_id,
                                    ignore=plan.drift_ignore)
        except (OSError, ValueError):
            missing = f"skipped: the results of run {previous.run_id} are no longer readable"
    if drift is not None and previous is not None:  # the report names whose run it was compared with
        drift = replace(drift, previous_env=previous.env or "", previous_target=previous.target or "")
    age = result.result_age_seconds
    if result.cache is CacheUse.HIT and age is None and previous is not None and previous.cache_id == result.cache_id:
        age = max(0.0, (_now() - previous.finished_at).total_seconds())
    counts = Drift(added=drift.added, removed=drift.removed, previous_run=drift.previous_run) if drift else None
    lifecycle = track_lifecycle(journal, scope(key, plan), results, run_id=run_id, as_of=as_of, drift=drift,
                                scan=scan)
    excepted = _excepted(exceptions, plan.name, as_of=as_of, current=results,
                         previous=previous.result_path if previous is not None else None, drift=drift)
    rows, counts = counted(excepted, rows=result.rows or 0, drift=counts)
    outcomes = annotate(evaluate_expectations(plan.expect, rows=rows, drift=counts, no_drift=missing,
                                              lifecycle=lifecycle), excepted)
    return replace(result, drift=drift, lifecycle=lifecycle, expectations=outcomes, result_age_seconds=age,
                   exceptions=excepted, finished_at=_now())


def _excepted(exceptions: Sequence[ExceptionRule], name: str, *, as_of: datetime, current: Path,
              previous: str | None, drift: DriftResult | None) -> Excepted | None:
    """The exceptions covering this query, applied on the run's date (`as_of`, the tenant's clock). A previous
    result that can no longer be read only loses the drift adjustment, which then counts every entity."""
    if not exceptions:
        return None
    on = as_of.date()
    try:
        return apply_exceptions(exceptions, name, on=on, current=current,
                                previous=Path(previous) if previous else None, drift=drift)
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError):
            return apply_exceptions(exceptions, name, on=on, current=current)
        return None
