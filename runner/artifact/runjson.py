"""run.json, the run artifact (version 1, `schemas/run.schema.json`), built from the batch's results.

Pure: `build_artifact(...)` returns a `RunDocument` (its status and exit code are the `BatchOutcome`'s own) whose
query entries are built one at a time as `artifact/rundir.py` writes the file (`to_json()`: the whole value).
Nothing here may ever hold the API key: run.json is an output, so every string in it is redacted here (the
journal keeps ids verbatim; a server may echo the key in any of them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from runner import __version__
from runner.artifact.jsonstream import RunDocument
from runner.model import BatchOutcome, JSONObject, JSONValue, QueryPlan, QueryResult, QueryStatus
from runner.model.exceptions import ExceptionRule
from runner.resources import RUN_SCHEMA_FILE, SCHEMA_BASE_URL
from runner.sanitize import redact

ARTIFACT_VERSION = 1
SCHEMA_ID = SCHEMA_BASE_URL + RUN_SCHEMA_FILE


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    run_id: str
    env: str
    # The API's base URL (no credentials in it), or "embedded/graph-<digest>": the embedded sandbox, named by its graph.
    target: str
    started_at: datetime
    finished_at: datetime
    resumed: bool
    options: JSONObject
    as_of: datetime | None = None  # the run's reference time: the tenant's clock if it sent one (`clock`)
    clock: str = "local"


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def query_json(result: QueryResult, plan: QueryPlan | None = None) -> JSONObject:
    """One query's entry; with its plan, also the rendered spec sent, its description and owner (for reports)."""
    seconds = ((result.finished_at - result.started_at).total_seconds()
               if result.finished_at and result.started_at else None)
    error: JSONValue = None
    if result.error is not None:
        error = {"category": result.error.category.value, "message": result.error.message,
                 "request_id": result.error.request_id}
    entry: JSONObject = {
        "name": result.name, "file": result.file, "spec_hash": result.spec_hash, "status": result.status.value,
        "mode": result.mode, "query_result_id": result.query_result_id, "cache_id": result.cache_id,
        "last_completed_cache_id": result.last_completed_cache_id, "cache": result.cache.value,
        "result_age_seconds": round(result.result_age_seconds, 3) if result.result_age_seconds is not None else None,
        "timings": {"started_at": _stamp(result.started_at), "finished_at": _stamp(result.finished_at),
                    "seconds": round(seconds, 3) if seconds is not None else None, "polls": result.polls},
        "rows": result.rows, "sha256": result.sha256, "results_file": result.results_file,
        "shared_submit": result.shared_submit, "kept_from_earlier_attempt": result.kept,
        "expectations": [o.to_json() for o in result.expectations],
        "drift": result.drift.to_json() if result.drift is not None else None, "error": error,
    }
    if result.lifecycle is not None:
        entry["lifecycle"] = result.lifecycle.to_json()
    if result.exceptions is not None:
        entry["exceptions"] = result.exceptions.to_json()
    if plan is not None:
        entry["spec"] = plan.spec
        entry["severity"] = plan.severity
        if plan.body is not None:
            entry["body"], entry["body_hash"] = plan.body, plan.body_hash
        for key, value in (("description", plan.description), ("owner", plan.owner)):
            if value is not None:
                entry[key] = value
        entry["owners"] = list(plan.owners)  # resolved when the run was planned: re-rendering needs no CODEOWNERS
    return entry


def build_artifact(info: RunInfo, outcome: BatchOutcome, plans: Mapping[str, QueryPlan] | None = None, *,
                   bodies: Mapping[str, str] | None = None, shard: JSONObject | None = None,
                   shards: JSONObject | None = None) -> RunDocument:
    """`bodies`: the `body_hash` of every query the repository held in this run's environment, run or not (what
    `--state DIR` compares a later change with). `shard`: this run is one shard of a split (`vqr run --shard`);
    `shards`: this run is the merge of a split's shards (`vqr report merge`)."""
    results: Sequence[QueryResult] = outcome.results
    expectation_failures = {"error": 0, "warn": 0}
    for result in results:
        for o in result.expectations:
            if o.verdict.value == "failed":
                expectation_failures[o.severity.value] += 1
    summary: JSONObject = {
        "queries": len(results),
        "succeeded": outcome.count(QueryStatus.SUCCEEDED),
        "failed": outcome.count(QueryStatus.FAILED),
        "not_run": outcome.count(QueryStatus.NOT_RUN),
        "interrupted": outcome.count(QueryStatus.INTERRUPTED),
        "cache_hits": sum(1 for r in results if r.cache.value == "hit"),
        "rows": sum(r.rows or 0 for r in results),
        "expectations_failed": dict(expectation_failures),
        "excepted_rows": sum(r.exceptions.excepted_rows for r in results if r.exceptions is not None),
    }
    artifact: JSONObject = {
        "$schema": SCHEMA_ID,
        "version": ARTIFACT_VERSION,
        "vqr_version": __version__,
        "run_id": info.run_id,
        "status": outcome.status.value,
        "stopped_because": outcome.stopped.value if outcome.stopped else None,
        "exit_code": int(outcome.exit_code),
        "env": info.env,
        "target": info.target,
        "resumed": info.resumed,
        "started_at": _stamp(info.started_at),
        "finished_at": _stamp(info.finished_at),
        "as_of": _stamp(info.as_of or info.started_at),
        "clock": info.clock,
        "seconds": round((info.finished_at - info.started_at).total_seconds(), 3),
        "polls": sum(r.polls for r in results),  # a timing, like `seconds`: not a summary count
        "options": info.options,
        "summary": summary,
        "concurrency": outcome.concurrency.to_json() if outcome.concurrency is not None else None,
        "queries": None,  # streamed: `entries` below
    }
    if bodies is not None:
        artifact["bodies"] = dict(sorted(bodies.items()))
    if any(r.exceptions is not None for r in results):
        artifact["exceptions_unmatched"] = unmatched_exceptions(results, repository=bodies)
    for field, value in (("shard", shard), ("shards", shards)):
        if value is not None:
            artifact[field] = value
    known = plans or {}
    return RunDocument(_redacted(artifact), "queries",
                       lambda: (_redacted(query_json(r, known.get(r.name))) for r in results))


def unmatched_exceptions(results: Sequence[QueryResult], *,
                         repository: Mapping[str, str] | None = None) -> list[JSONValue]:
    """The active exceptions that matched no row, in a run where every query they cover succeeded: a query that
    failed, or (with `repository`, every query name of the repository) one this run did not select or shard, may
    hold its match. `vqr report` and `vqr lint` warn about them."""
    matched: dict[str, int] = {}
    seen: dict[str, ExceptionRule] = {}
    succeeded = {r.name for r in results if r.status is QueryStatus.SUCCEEDED}
    for result in results:
        if result.exceptions is None or result.name not in succeeded:
            continue
        for match in result.exceptions.active:
            matched[match.rule.id] = matched.get(match.rule.id, 0) + match.matched
            seen.setdefault(match.rule.id, match.rule)
    names = set(repository or ()) | {r.name for r in results}
    return [seen[rule_id].to_json() for rule_id in sorted(seen) if matched[rule_id] == 0
            and all(name in succeeded for name in names if seen[rule_id].covers(name))]


def _redacted(value: JSONObject) -> JSONObject:
    out = _redact_in(value)
    assert isinstance(out, dict)
    return out


def _redact_in(item: JSONValue) -> JSONValue:
    """`item` with every string redacted, copied only where a string changed (the rare case): the walk over each
    query entry allocates nothing when no key is in it."""
    if isinstance(item, str):
        return redact(item)
    if isinstance(item, dict):
        changed: dict[str, JSONValue] | None = None
        for key, inner in item.items():
            new = _redact_in(inner)
            if new is not inner:
                changed = changed if changed is not None else dict(item)
                changed[key] = new
        return item if changed is None else changed
    if isinstance(item, list):
        copied: list[JSONValue] | None = None
        for at, inner in enumerate(item):
            new = _redact_in(inner)
            if new is not inner:
                copied = copied if copied is not None else list(item)
                copied[at] = new
        return item if copied is None else copied
    return item
