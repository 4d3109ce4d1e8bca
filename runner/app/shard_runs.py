"""The shard runs `vqr report merge` reads: each DIR's run.json (validated against run.schema.json, less what the
merge recomputes and never reads: `_validator`; those parts are then dropped) as a `ShardRun`, the refusals that
need only those files (`check_plan`: one plan, each shard once, none missing unless allowed), and each recorded
query back as the `QueryResult` its shard had before assessment (`result_of`). Reads files only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from runner.app.shards import SHARD_FILE
from runner.artifact import RUN_FILE
from runner.errors import UsageError
from runner.model import CacheUse, ErrorCategory, JSONObject, QueryError, QueryResult, QueryStatus
from runner.model.plans import Shard
from runner.report import resolve_run_dir
from runner.report.run_check import ArtifactError, RunChecker, read_run_json, run_schema

# A shard's own assessment, which the merge computes again against the merged journal and never reads (nor copies):
# left unchecked (they are most of a large run.json's validation) and dropped once read.
_RECOMPUTED = ("expectations", "drift", "lifecycle", "exceptions", "spec", "body")


@dataclass(frozen=True, kw_only=True)
class ShardRun:
    path: Path  # the shard's run directory
    data: JSONObject  # its run.json, validated against run.schema.json
    shard: JSONObject  # run.json's `shard`

    @property
    def index(self) -> int:
        value = self.shard["index"]
        assert isinstance(value, int)
        return value

    @property
    def label(self) -> str:
        count = self.shard["count"]
        assert isinstance(count, int)
        return Shard(index=self.index, count=count).label


def read_shard(given: Path) -> ShardRun:
    """DIR is a shard's run directory, or its reports directory (then what its `latest` names)."""
    try:
        run_dir = given if (given / RUN_FILE).is_file() or (given / SHARD_FILE).is_file() else \
            resolve_run_dir(None, given)
    except ArtifactError:  # a reports directory without `latest`
        run_dir = given
    if not (run_dir / RUN_FILE).is_file():
        raise UsageError(f"{given} holds no finished shard run (no {RUN_FILE}: is the shard still running, or was "
                         "it interrupted? `vqr run --shard I/N --resume` finishes it)")
    data = read_run_json(run_dir / RUN_FILE, _checker())  # every field read below has its type
    queries = data.get("queries")
    for entry in queries if isinstance(queries, list) else []:
        for name in _RECOMPUTED:  # most of a shard's run.json: never held for the whole merge
            if isinstance(entry, dict):
                entry.pop(name, None)
    shard = data.get("shard")
    if not isinstance(shard, dict):
        raise UsageError(f"{run_dir} is not a shard run (its run.json has no `shard`: it ran without --shard)")
    run = ShardRun(path=run_dir, data=data, shard=shard)
    if data.get("status") == "interrupted":
        raise UsageError(f"shard {run.label} in {run_dir} was interrupted: `vqr run --shard {run.label} --resume` "
                         "finishes it, then merge")
    return run


@cache
def _checker() -> RunChecker:
    """run.schema.json with its `$defs` inlined (a `$ref` costs jsonschema a registry lookup per value checked: a
    third of the time) and each query's `_RECOMPUTED` fields accepted as any value; built once."""
    schema = run_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if not (isinstance(ref, str) and ref.startswith("#/$defs/")):  # another form is kept: see the fallback
            return {key: inline(value) for key, value in node.items()}
        rest = {key: inline(value) for key, value in node.items() if key != "$ref"}
        return {**rest, "allOf": [inline(defs[ref.removeprefix("#/$defs/")]), *rest.get("allOf", [])]}

    items = schema["properties"]["queries"]["items"]
    query = defs[items["$ref"].removeprefix("#/$defs/")] if "$ref" in items else items
    for name in _RECOMPUTED:
        query["properties"][name] = {}
    flat = inline(schema)
    if "$ref" in json.dumps(flat):  # a reference of another form: the schema as it is, still correct
        flat = {**schema, "$defs": defs}
    return RunChecker(flat)


def check_plan(shards: Sequence[ShardRun], *, allow_partial: bool) -> list[int]:
    """One plan, each shard once; returns the missing shard indexes (only with `allow_partial`)."""
    first = shards[0]
    identity = ("plan_hash", "count", "by")
    for other in shards[1:]:
        if any(other.shard[k] != first.shard[k] for k in identity) or \
                (other.data["env"], other.data["target"]) != (first.data["env"], first.data["target"]):
            raise UsageError(f"shards of different plans: {first.path} (shard {first.label}, plan "
                             f"{str(first.shard['plan_hash'])[:12]}) and {other.path} (shard {other.label}, plan "
                             f"{str(other.shard['plan_hash'])[:12]}); merge the shards of one `vqr plan`")
    seen: dict[int, Path] = {}
    for run in shards:
        if run.index in seen:
            raise UsageError(f"duplicate shard {run.label}: {seen[run.index]} and {run.path}")
        seen[run.index] = run.path
    count = first.shard["count"]
    assert isinstance(count, int)
    missing = [i for i in range(count) if i not in seen]
    if missing and not allow_partial:
        names = ", ".join(Shard(index=i, count=count).label for i in missing)
        raise UsageError(f"missing shard{'s' if len(missing) > 1 else ''} {names} (give every shard's "
                         "directory, or --allow-partial to merge without them)")
    return missing


def entries(run: ShardRun) -> list[JSONObject]:
    queries = run.data["queries"]
    assert isinstance(queries, list)
    return [q for q in queries if isinstance(q, dict)]


def moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


def result_of(entry: JSONObject) -> QueryResult:
    """A query's result as its shard recorded it (before drift, lifecycle and expectations, computed again)."""
    timings = entry["timings"]
    assert isinstance(timings, dict)
    error = entry.get("error")
    problem = None
    if isinstance(error, dict):
        request_id = error.get("request_id")
        problem = QueryError(category=ErrorCategory(error["category"]), message=str(error["message"]),
                             request_id=request_id if isinstance(request_id, str) else None)

    def text(key: str) -> str | None:
        value = entry.get(key)
        return value if isinstance(value, str) else None

    def number(value: object) -> int | None:
        return value if isinstance(value, int) else None

    age = entry.get("result_age_seconds")
    return QueryResult(name=str(entry["name"]), file=str(entry["file"]), spec_hash=str(entry["spec_hash"]),
                       status=QueryStatus(entry["status"]), mode=text("mode"), query_result_id=text("query_result_id"),
                       cache_id=text("cache_id"), last_completed_cache_id=text("last_completed_cache_id"),
                       cache=CacheUse(entry["cache"]), result_age_seconds=float(age) if isinstance(age, int | float)
                       else None, started_at=moment(timings.get("started_at")),
                       finished_at=moment(timings.get("finished_at")), polls=number(timings.get("polls")) or 0,
                       rows=number(entry.get("rows")), sha256=text("sha256"), results_file=text("results_file"),
                       error=problem, shared_submit=entry.get("shared_submit") is True,
                       kept=entry.get("kept_from_earlier_attempt") is True)
