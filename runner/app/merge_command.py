"""`vqr report merge DIR... [--out DIR] [--allow-partial]`: the shard runs of one plan (`vqr run --shard I/N`) →
one run, as an unsharded run of the same batch would have written it (timings aside): run.json (with `shards`),
every report, one run in the project's journal, drift, lifecycles and expectations computed once, here, against
the previous run of that journal. The shards fetched the rows; nothing is sent.

Refused with one line and exit 2, before anything is written: a DIR that is no shard run (or an interrupted one,
which `--resume` finishes), shards of different plans, a duplicate shard, a missing one (unless `--allow-partial`:
the run is then marked partial and exits 1), and a repository whose queries differ from those the shards ran.
Reads the shard directories; writes a run directory and the journal.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runner.app.boundary import file_error
from runner.app.commands import Common, compile_clean
from runner.app.progress import summary
from runner.app.run_command import JOURNAL
from runner.app.shards import SHARD_FILE
from runner.artifact import RUN_FILE, RunDir, RunInfo, RunLock, build_artifact, link_verified, new_run_id
from runner.artifact.rundir import RESULTS_DIR, result_file_name
from runner.errors import ExitCode, UsageError
from runner.execute import assess_result
from runner.model import (
    BatchOutcome,
    CacheUse,
    ErrorCategory,
    JSONObject,
    QueryError,
    QueryPlan,
    QueryResult,
    QueryStatus,
    StopReason,
)
from runner.model.plans import Shard
from runner.plan import build_groups, build_plans, plan_hash
from runner.report import resolve_run_dir
from runner.report.load import ArtifactError, load_run
from runner.sanitize import terminal_line
from runner.settings import Project
from runner.state import HistoryKey, Journal, QueryState, open_journal

_USAGE = "usage: vqr report merge DIR... [--out DIR] [--allow-partial]"


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


def _read_shard(given: Path) -> ShardRun:
    """DIR is a shard's run directory, or its reports directory (then what its `latest` names)."""
    try:
        run_dir = given if (given / RUN_FILE).is_file() or (given / SHARD_FILE).is_file() else \
            resolve_run_dir(None, given)
    except ArtifactError:  # a reports directory without `latest`
        run_dir = given
    if not (run_dir / RUN_FILE).is_file():
        raise UsageError(f"{given} holds no finished shard run (no {RUN_FILE}: is the shard still running, or was "
                         "it interrupted? `vqr run --shard I/N --resume` finishes it)")
    load_run(run_dir)  # validated against run.schema.json: every field below has its type
    data = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    shard = data.get("shard")
    if not isinstance(shard, dict):
        raise UsageError(f"{run_dir} is not a shard run (its run.json has no `shard`: it ran without --shard)")
    run = ShardRun(path=run_dir, data=data, shard=shard)
    if data.get("status") == "interrupted":
        raise UsageError(f"shard {run.label} in {run_dir} was interrupted: `vqr run --shard {run.label} --resume` "
                         "finishes it, then merge")
    return run


def _check_plan(shards: Sequence[ShardRun], *, allow_partial: bool) -> list[int]:
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


def _plans(common: Common, shards: Sequence[ShardRun],
           missing: Sequence[int]) -> tuple[Project, list[QueryPlan]] | None:
    """The merged batch's plans, from this repository compiled in the shards' environment, checked against what the
    shards recorded: a query each shard ran must be here with the same body, and a whole plan must hash alike."""
    from runner.compile.codeowners import read_codeowners

    first = shards[0]
    env = str(first.data["env"])
    if common.env is not None and common.env != env:
        raise UsageError(f"the shards ran in environment '{env}', not '{common.env}'")
    project, compiled = compile_clean(dataclasses.replace(common, env=env))
    if compiled is None:
        return None
    ran = {str(q["name"]): (run, q) for run in shards for q in _entries(run)}
    options = first.data["options"]
    assert isinstance(options, dict)
    cache, snapshot = options.get("cache"), options.get("snapshot_id")
    plans = build_plans(project, [q for q in compiled.queries if q.name in ran],
                        cache_override=cache if isinstance(cache, str) else None,
                        snapshot_id=snapshot if isinstance(snapshot, str) else None, query_timeout=None,
                        codeowners=read_codeowners(project.root).owners_of)
    found = {plan.name: plan for plan in plans}
    for name, (run, entry) in ran.items():
        plan = found.get(name)
        if plan is None or entry.get("body_hash") not in (None, plan.body_hash):
            why = "is not in this repository" if plan is None else "has another body in this repository"
            raise UsageError(f"query '{terminal_line(name)}' of shard {run.label} {why}: merge in the checkout "
                             "(and with the variables) the shards ran with")
    if not missing:
        assignment = {name: run.index for name, (run, _) in ran.items()}
        count, by = int(str(first.shard["count"])), str(first.shard["by"])
        if plan_hash(plans, count, by, assignment) != first.shard["plan_hash"]:
            raise UsageError("the shards' plan differs from this repository's (another commit, selection or "
                             "options): merge in the checkout the shards ran with")
    return project, plans


def _entries(run: ShardRun) -> list[JSONObject]:
    queries = run.data["queries"]
    assert isinstance(queries, list)
    return [q for q in queries if isinstance(q, dict)]


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


def _result(entry: JSONObject) -> QueryResult:
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
                       else None, started_at=_moment(timings.get("started_at")),
                       finished_at=_moment(timings.get("finished_at")), polls=number(timings.get("polls")) or 0,
                       rows=number(entry.get("rows")), sha256=text("sha256"), results_file=text("results_file"),
                       error=problem, shared_submit=entry.get("shared_submit") is True,
                       kept=entry.get("kept_from_earlier_attempt") is True)


def merge(common: Common, *, dirs: Sequence[Path], out: Path | None, allow_partial: bool) -> int:
    """`vqr report merge`: exit 0/1 as `vqr run` would for the merged batch (1 also when partial), 2 when refused."""
    if not dirs:
        raise UsageError(_USAGE)
    shards = sorted((_read_shard(d) for d in dirs), key=lambda run: run.index)
    missing = _check_plan(shards, allow_partial=allow_partial)
    found = _plans(common, shards, missing)
    if found is None:
        return ExitCode.USAGE
    project, plans = found
    first = shards[0]
    env, target = str(first.data["env"]), str(first.data["target"])
    ran = {str(q["name"]): (run, q) for run in shards for q in _entries(run)}
    reports = out or project.reports_dir
    run_id = new_run_id(datetime.now(UTC))
    rundir = RunDir(reports=reports, run_id=run_id)
    rundir.create()
    lock = RunLock.acquire(rundir.path)
    try:
        _link_results(rundir, plans, ran)
        with open_journal(project.root / JOURNAL) as journal:
            outcome = _record(journal, rundir, run_id, HistoryKey(env=env, target=target), plans, ran, shards)
            rundir.publish(build_artifact(_info(run_id, shards), outcome, {p.name: p for p in plans},
                                          bodies=_bodies(first), shards=_shards_json(shards, missing)))
            journal.finish_run(run_id, outcome.status)
    except BaseException:
        if not rundir.run_file.is_file():  # nothing of a refused or failed merge stays behind
            shutil.rmtree(rundir.path, ignore_errors=True)
        raise
    finally:
        lock.release()
    _publish(common, project, rundir)
    note = f"partial: shards {', '.join(str(i) for i in missing)} missing" if missing else None
    text = summary(outcome.results, run_id=run_id, status=outcome.status.value,
                   seconds=float(_seconds(shards)), run_file=str(rundir.path / "report.html"), note=note)
    common.out.write(text)
    code = int(outcome.exit_code)
    return ExitCode.FINDINGS if missing and code == ExitCode.OK else code


def _link_results(rundir: RunDir, plans: Sequence[QueryPlan], ran: dict[str, tuple[ShardRun, JSONObject]]) -> None:
    """Every succeeded query's rows, hard-linked (or copied) from its shard, checked against its recorded sha256,
    before the journal hears of the merge: a damaged shard refuses the whole merge."""
    for plan in plans:
        run, entry = ran[plan.name]
        sha256 = entry.get("sha256")
        if entry["status"] != QueryStatus.SUCCEEDED.value:
            continue
        source = run.path / RESULTS_DIR / result_file_name(plan.name)
        if not isinstance(sha256, str) or not link_verified(source, rundir.result_path(plan.name), sha256):
            raise UsageError(f"the results of '{terminal_line(plan.name)}' in {run.path} are missing or do not match "
                             "the sha256 its run.json records")


def _record(journal: Journal, rundir: RunDir, run_id: str, key: HistoryKey, plans: Sequence[QueryPlan],
            ran: dict[str, tuple[ShardRun, JSONObject]], shards: Sequence[ShardRun]) -> BatchOutcome:
    """The merged run in the journal, query by query in the order an unsharded run lists them (its groups of
    shared submits), each succeeded one assessed here: drift and lifecycle against this journal's history."""
    journal.start_run(run_id, env=key.env, target=key.target)
    as_of = min((m for m in (_moment(r.data.get("as_of")) for r in shards) if m is not None),
                default=datetime.now(UTC))
    groups = build_groups(plans, lambda name, spec: journal.previous_cache_id(name, spec, key=key,
                                                                              exclude_run=run_id))
    results: list[QueryResult] = []
    for member in (m for group in groups for m in group):
        plan = member.plan
        result = _result(ran[plan.name][1])
        journal.record(run_id, plan.name, QueryState.PENDING, spec_hash=plan.spec_hash, file=plan.file)
        if result.status is QueryStatus.SUCCEEDED:
            path = rundir.result_path(plan.name)
            journal.record(run_id, plan.name, QueryState.DONE, rows=result.rows, sha256=result.sha256,
                           result_path=str(path), mode=result.mode, query_result_id=result.query_result_id,
                           cache_id=result.cache_id, last_completed_cache_id=result.last_completed_cache_id)
            assessed = assess_result(journal=journal, key=key, run_id=run_id, as_of=as_of, plan=plan, results=path,
                                     result=result)
            result = dataclasses.replace(assessed, finished_at=result.finished_at)
        elif result.status is QueryStatus.FAILED and result.error is not None:
            journal.record(run_id, plan.name, QueryState.FAILED, error_category=result.error.category.value,
                           error_detail=result.error.message, request_id=result.error.request_id)
        results.append(result)
    stops = [StopReason(r.data["stopped_because"]) for r in shards if r.data.get("stopped_because")]
    return BatchOutcome(results=tuple(results), interrupted=False, stopped=stops[0] if stops else None)


def _info(run_id: str, shards: Sequence[ShardRun]) -> RunInfo:
    first = shards[0]
    starts = [m for m in (_moment(r.data["started_at"]) for r in shards) if m is not None]
    ends = [m for m in (_moment(r.data["finished_at"]) for r in shards) if m is not None]
    as_of = [m for m in (_moment(r.data.get("as_of")) for r in shards) if m is not None]
    options = first.data["options"]
    assert isinstance(options, dict)
    return RunInfo(run_id=run_id, env=str(first.data["env"]), target=str(first.data["target"]),
                   started_at=min(starts), finished_at=max(ends), resumed=any(r.data["resumed"] for r in shards),
                   as_of=min(as_of) if as_of else None, options=options,
                   clock="server" if all(r.data.get("clock") == "server" for r in shards) else "local")


def _seconds(shards: Sequence[ShardRun]) -> float:
    info = _info("", shards)
    return (info.finished_at - info.started_at).total_seconds()


def _bodies(run: ShardRun) -> dict[str, str] | None:
    bodies = run.data.get("bodies")
    return {str(k): str(v) for k, v in bodies.items()} if isinstance(bodies, dict) else None


def _shards_json(shards: Sequence[ShardRun], missing: Sequence[int]) -> JSONObject:
    first = shards[0].shard
    return {"count": first["count"], "plan_hash": first["plan_hash"], "by": first["by"], "partial": bool(missing),
            "merged": [{"index": r.index, "run_id": r.data["run_id"], "status": r.data["status"],
                        "queries": len(_entries(r))} for r in shards],
            "missing": list(missing)}


def _publish(common: Common, project: Project, rundir: RunDir) -> None:
    """As `vqr run` after run.json: reports, retention, notifications, then `latest`."""
    from runner.report import after_run

    after_run(rundir.path, journal_path=project.root / JOURNAL, reports_dir=rundir.reports,
              retention=project.retention, step_summary=common.process.step_summary, err=common.err,
              ocsf=project.ocsf)
    if project.notify.targets:
        from runner.app.notify_command import notify_after_run

        notify_after_run(rundir.path, project, common.process, common.err)
    try:
        rundir.mark_latest()
    except OSError as error:
        common.err.write(f"vqr report merge: warning: reports/latest not updated: {file_error(error)}\n")
