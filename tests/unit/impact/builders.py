"""Small builders of impact values for the runner.impact tests: a spec, its create body, a query change, a delta."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.model.assessment import EntityRef, ExpectSeverity, Outcome, Verdict
from runner.model.impact import Change, ImpactReport, QueryChange, Rendered, ResultDelta, SideResult, SpecDiff
from runner.model.values import JSONObject, JSONValue


def spec(node_type: str = "OktaUser", **extra: JSONValue) -> JSONObject:
    """A small SOURCE_TO_DESTINATION spec of `node_type`, with `extra` top-level fields."""
    return {"query_type": "SOURCE_TO_DESTINATION",
            "source_node_types": {"nodes": [{"node_type": node_type}]}, **extra}


def body(of: JSONValue) -> JSONObject:
    """The immediate-run create body of spec `of`."""
    return {"immediate_run": {"request": {"body": of}}}


def rendered(name: str, env: str, of: JSONObject, *, file: str | None = None) -> Rendered:
    return Rendered(name=name, file=file or f"queries/{name}.yaml", env=env, body=body(of), body_hash="")


def query_change(name: str, change: Change, *, base: Mapping[str, JSONObject] | None = None,
                 head: Mapping[str, JSONObject] | None = None, base_file: str | None = None) -> QueryChange:
    """A change of `name` whose sides render the given spec per environment."""
    return QueryChange(name=name, change=change,
                       base={env: rendered(name, env, s, file=base_file) for env, s in (base or {}).items()},
                       head={env: rendered(name, env, s) for env, s in (head or {}).items()})


def outcome(verdict: Verdict, *, severity: ExpectSeverity = ExpectSeverity.ERROR, actual: int | None = 3,
            message: str = "") -> Outcome:
    return Outcome(metric="rows", bounds={"min": 1}, severity=severity, verdict=verdict, actual=actual,
                   message=message)


def side(rows: int | None, *verdicts: Verdict, status: str = "succeeded", error: str | None = None) -> SideResult:
    return SideResult(status=status, source="ran", rows=rows, expectations=tuple(outcome(v) for v in verdicts),
                      error=error)


def entities(prefix: str, count: int, *, fields: Sequence[str] = ()) -> tuple[EntityRef, ...]:
    return tuple(EntityRef(key=f"{prefix}-{i}", name=f"{prefix} name {i}", fields=tuple(fields)) for i in range(count))


def delta(name: str, *, before: SideResult | None, after: SideResult | None, added: int = 0, removed: int = 0,
          changed: int = 0, sample: int = 0, env: str = "prod") -> ResultDelta:
    """A delta with `sample` entities (at most the count) in each of the three samples."""
    return ResultDelta(name=name, env=env, before=before, after=after, added=added, removed=removed,
                       changed=changed, added_sample=entities(f"{name}-added", min(sample, added)),
                       removed_sample=entities(f"{name}-removed", min(sample, removed)),
                       changed_sample=entities(f"{name}-changed", min(sample, changed), fields=("name",)))


def report(diffs: Sequence[SpecDiff], *, deltas: Sequence[ResultDelta] = (), notes: Sequence[str] = (),
           envs: Sequence[str] = ("prod", "dev")) -> ImpactReport:
    return ImpactReport(base="main (3f2c1a9)", head="work tree", envs=tuple(envs), diffs=tuple(diffs),
                        deltas={d.name: d for d in deltas}, notes=tuple(notes))
