"""Read a run directory's `run.json` (validated against `schemas/run.schema.json` by `run_check.read_run_json`)
into frozen values for reporting.

`load_run(run_dir) -> RunArtifact`, or `ArtifactError` (exit 2) naming what is wrong. Renderers use only these
values (and result files named by them), never the engine's live objects. Reads files; no other I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.artifact import RUN_FILE
from runner.artifact.jsonread import read_streamed
from runner.model import JSONObject, JSONValue
from runner.model.shared import Shared
from runner.report.load_exceptions import AppliedException, ExceptionsFigures, exceptions_figures, unmatched
from runner.report.load_pacing import Pacing, pacing_of
from runner.report.run_check import ArtifactError as ArtifactError  # load_run raises it: its callers catch it here
from runner.report.run_check import read_run_json


@dataclass(frozen=True, kw_only=True, slots=True)
class Expectation:
    metric: str
    bounds: JSONObject
    severity: str  # error | warn
    outcome: str  # passed | failed | skipped
    actual: int | None
    message: str

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Entity:
    id: str
    name: str | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftFigures:
    """Drift against `previous_run`; `changed` and the samples exist only when run.json carries them."""

    previous_run: str
    added: int
    removed: int
    changed: int | None = None
    added_sample: tuple[Entity, ...] = ()
    removed_sample: tuple[Entity, ...] = ()
    changed_sample: tuple[Entity, ...] = ()
    ignored: tuple[str, ...] = ()
    previous_env: str = ""  # empty in a run.json from before history was keyed by environment and target
    previous_target: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenFigure:
    id: str
    name: str | None
    first_seen: str
    age_days: int


@dataclass(frozen=True, kw_only=True, slots=True)
class LifecycleFigures:
    """A query's `lifecycle` in run.json: entities new since `previous_run` (None: its first run), resolved,
    persisting, and the oldest open ones."""

    previous_run: str | None
    new: int
    persisting: int
    resolved: int
    new_sample: tuple[Entity, ...] = ()
    resolved_sample: tuple[Entity, ...] = ()
    oldest: tuple[OpenFigure, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryError:
    category: str
    message: str
    request_id: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryRun:
    name: str
    file: str | None
    spec_hash: str
    status: str  # succeeded | failed | not_run | interrupted
    mode: str | None
    cache: str  # hit | miss | unknown
    result_age_seconds: float | None
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    polls: int
    rows: int | None
    sha256: str | None
    results_file: str | None  # relative to the run directory
    query_result_id: str | None
    cache_id: str | None
    expectations: tuple[Expectation, ...]
    drift: DriftFigures | None
    error: QueryError | None
    spec: JSONObject | None = None
    description: str | None = None
    owner: str | None = None
    lifecycle: LifecycleFigures | None = None  # absent in run.json files from before lifecycles were kept
    owners: tuple[str, ...] | None = None  # None: a run.json from before owners were recorded
    exceptions: ExceptionsFigures | None = None  # None: no accepted exception covers it (or an older run.json)

    @property
    def failed_expectations(self) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.failed)


@dataclass(frozen=True, kw_only=True)
class RunArtifact:
    path: Path  # the run directory
    run_id: str
    status: str  # completed | interrupted | aborted
    stopped_because: str | None
    exit_code: int
    env: str
    target: str
    resumed: bool
    started_at: str
    finished_at: str
    seconds: float
    vqr_version: str
    queries: tuple[QueryRun, ...]
    exceptions_unmatched: tuple[AppliedException, ...] = ()  # active exceptions that matched no row of the run
    pacing: Pacing | None = None  # the adaptive concurrency, throttling and polls; None before they were recorded

    def count(self, status: str) -> int:
        return sum(1 for q in self.queries if q.status == status)

    @property
    def cache_hits(self) -> int:
        return sum(1 for q in self.queries if q.cache == "hit")

    @property
    def total_rows(self) -> int:
        return sum(q.rows or 0 for q in self.queries)

    def failed_expectations(self, severity: str) -> list[tuple[QueryRun, Expectation]]:
        return [(q, e) for q in self.queries for e in q.failed_expectations if e.severity == severity]


def load_run(run_dir: Path, *, validate: bool = True) -> RunArtifact:
    """`validate=False` is for the run.json this very process just wrote (checked against its schema by the test
    suite); an artifact read back later, possibly by another vqr version, is always validated."""
    path = run_dir / RUN_FILE
    if validate:
        data = read_run_json(path)
        return _artifact(run_dir, data, tuple(_query(_obj(q)) for q in _list(data.get("queries"))))
    try:  # each query entry parsed and converted in turn: never the whole tree in memory
        fields, queries = read_streamed(path, "queries", lambda q: _query(_obj(q)))
    except FileNotFoundError:
        raise ArtifactError(f"{path} does not exist: not a run directory, or the run never finished") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ArtifactError(f"cannot read {path}: {error}") from None
    return _artifact(run_dir, fields, tuple(queries or ()))


def _str(value: JSONValue) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: JSONValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: JSONValue) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _obj(value: JSONValue) -> JSONObject:
    return value if isinstance(value, dict) else {}


def _list(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []


def _artifact(run_dir: Path, data: JSONObject, queries: tuple[QueryRun, ...]) -> RunArtifact:
    return RunArtifact(
        path=run_dir, run_id=str(data["run_id"]), status=str(data["status"]),
        stopped_because=_str(data.get("stopped_because")), exit_code=_int(data.get("exit_code")) or 0,
        env=str(data.get("env", "")), target=str(data.get("target", "")), resumed=data.get("resumed") is True,
        started_at=str(data.get("started_at", "")), finished_at=str(data.get("finished_at", "")),
        seconds=_float(data.get("seconds")) or 0.0, vqr_version=str(data.get("vqr_version", "")),
        queries=queries,
        exceptions_unmatched=unmatched(data.get("exceptions_unmatched")), pacing=pacing_of(data))


def _query(data: JSONObject) -> QueryRun:
    timings = _obj(data.get("timings"))
    error = data.get("error")
    spec = data.get("spec")
    return QueryRun(
        name=str(data["name"]), file=_str(data.get("file")), spec_hash=str(data.get("spec_hash", "")),
        status=str(data["status"]), mode=_str(data.get("mode")), cache=_str(data.get("cache")) or "unknown",
        result_age_seconds=_float(data.get("result_age_seconds")), started_at=_str(timings.get("started_at")),
        finished_at=_str(timings.get("finished_at")), seconds=_float(timings.get("seconds")),
        polls=_int(timings.get("polls")) or 0, rows=_int(data.get("rows")), sha256=_str(data.get("sha256")),
        results_file=_str(data.get("results_file")), query_result_id=_str(data.get("query_result_id")),
        cache_id=_str(data.get("cache_id")),
        expectations=tuple(_expectation(_obj(e)) for e in _list(data.get("expectations"))),
        drift=_drift(data.get("drift")),
        error=QueryError(category=str(_obj(error).get("category", "")), message=str(_obj(error).get("message", "")),
                         request_id=_str(_obj(error).get("request_id"))) if isinstance(error, dict) else None,
        spec=spec if isinstance(spec, dict) else None, description=_str(data.get("description")),
        owner=_str(data.get("owner")), lifecycle=_lifecycle(data.get("lifecycle")),
        owners=tuple(str(o) for o in _list(data.get("owners"))) if "owners" in data else None,
        exceptions=exceptions_figures(data.get("exceptions")))


def _expectation(data: JSONObject) -> Expectation:
    return Expectation(metric=str(data.get("metric", "")), bounds=_obj(data.get("bounds")),
                       severity=str(data.get("severity", "error")), outcome=str(data.get("outcome", "")),
                       actual=_int(data.get("actual")), message=str(data.get("message", "")))


_entity_table: Shared[tuple[str, str | None, tuple[str, ...]], Entity] = Shared()
_open_table: Shared[tuple[str, str | None, str, int], OpenFigure] = Shared()


def _entity(id_: str, name: str | None, fields: tuple[str, ...]) -> Entity:
    """Equal samples (immutable) are one object: 10,000 queries' samples name the same entities over. Bounded."""
    found = _entity_table.get((id_, name, fields))
    return found if found is not None else _entity_table.add((id_, name, fields),
                                                             Entity(id=id_, name=name, fields=fields))


def _open_figure(id_: str, name: str | None, first_seen: str, age_days: int) -> OpenFigure:
    found = _open_table.get((id_, name, first_seen, age_days))
    if found is None:
        found = _open_table.add((id_, name, first_seen, age_days),
                                OpenFigure(id=id_, name=name, first_seen=first_seen, age_days=age_days))
    return found


def _entities(value: JSONValue) -> tuple[Entity, ...]:
    return tuple(_entity(str(_obj(e).get("id", "")), _str(_obj(e).get("name")),
                         tuple(str(f) for f in _list(_obj(e).get("fields"))))
                 for e in _list(value))


def _drift(value: JSONValue) -> DriftFigures | None:
    if not isinstance(value, dict):
        return None
    return DriftFigures(previous_run=str(value.get("previous_run", "")),
                        previous_env=str(value.get("previous_env", "")),
                        previous_target=str(value.get("previous_target", "")), added=_int(value.get("added")) or 0,
                        removed=_int(value.get("removed")) or 0, changed=_int(value.get("changed")),
                        added_sample=_entities(value.get("added_sample")),
                        removed_sample=_entities(value.get("removed_sample")),
                        changed_sample=_entities(value.get("changed_sample")),
                        ignored=tuple(str(f) for f in _list(value.get("ignored"))))


def _lifecycle(value: JSONValue) -> LifecycleFigures | None:
    if not isinstance(value, dict):
        return None
    oldest = tuple(_open_figure(str(o.get("id", "")), _str(o.get("name")), str(o.get("first_seen", "")),
                                _int(o.get("age_days")) or 0) for o in map(_obj, _list(value.get("oldest"))))
    return LifecycleFigures(previous_run=_str(value.get("previous_run")), new=_int(value.get("new")) or 0,
                            persisting=_int(value.get("persisting")) or 0, resolved=_int(value.get("resolved")) or 0,
                            new_sample=_entities(value.get("new_sample")),
                            resolved_sample=_entities(value.get("resolved_sample")), oldest=oldest)
