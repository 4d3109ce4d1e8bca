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
import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from runner.app.boundary import file_error
from runner.app.clean import Clean, compile_clean
from runner.app.common import Common
from runner.app.progress import summary
from runner.app.run_command import JOURNAL
from runner.app.shard_runs import ShardRun, check_plan, entries, moment, read_shard, result_of
from runner.artifact import RunDir, RunInfo, RunLock, build_artifact, link_verified, new_run_id
from runner.artifact.rundir import RESULTS_DIR, result_file_name
from runner.errors import ExitCode, UsageError
from runner.execute import assess_result
from runner.model import (
    BatchOutcome,
    JSONObject,
    QueryPlan,
    QueryResult,
    QueryStatus,
    StopReason,
)
from runner.model.exceptions import ExceptionRule
from runner.plan import build_groups, build_plans, plan_hash
from runner.report.publish import csv_is_fresh
from runner.sanitize import terminal_line
from runner.settings import Project
from runner.state import HistoryKey, Journal, QueryState, open_journal

_USAGE = "usage: vqr report merge DIR... [--out DIR] [--allow-partial]"


def _plans(common: Common, shards: Sequence[ShardRun], missing: Sequence[int]) -> tuple[Clean, list[QueryPlan]] | None:
    """The merged batch's plans, from this repository compiled in the shards' environment, checked against what the
    shards recorded: a query each shard ran must be here with the same body, and a whole plan must hash alike."""
    from runner.compile.codeowners import read_codeowners

    first = shards[0]
    env = str(first.data["env"])
    if common.env is not None and common.env != env:
        raise UsageError(f"the shards ran in environment '{env}', not '{common.env}'")
    clean = compile_clean(dataclasses.replace(common, env=env))
    if clean is None:
        return None
    project, compiled = clean.project, clean.compiled
    ran = {str(q["name"]): (run, q) for run in shards for q in entries(run)}
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
    return clean, plans


def merge(common: Common, *, dirs: Sequence[Path], out: Path | None, allow_partial: bool) -> int:
    """`vqr report merge`: exit 0/1 as `vqr run` would for the merged batch (1 also when partial), 2 when refused."""
    if not dirs:
        raise UsageError(_USAGE)
    shards = sorted((read_shard(d) for d in dirs), key=lambda run: run.index)
    missing = check_plan(shards, allow_partial=allow_partial)
    found = _plans(common, shards, missing)
    if found is None:
        return ExitCode.USAGE
    clean, plans = found
    project = clean.project
    first = shards[0]
    env, target = str(first.data["env"]), str(first.data["target"])
    ran = {str(q["name"]): (run, q) for run in shards for q in entries(run)}
    reports = out or project.reports_dir
    run_id = new_run_id(datetime.now(UTC))
    rundir = RunDir(reports=reports, run_id=run_id)
    rundir.create()
    lock = RunLock.acquire(rundir.path)
    committed = False
    try:
        _link_results(rundir, plans, ran)
        with open_journal(project.root / JOURNAL) as journal:
            # One commit for the whole batch, run.json written inside it: a merge that fails anywhere, its commit
            # included, leaves neither a journal run nor a run directory for the next run's drift to build on.
            with journal.batch():
                outcome = _record(journal, rundir, run_id, HistoryKey(env=env, target=target), plans, ran, shards,
                                  exceptions=clean.exceptions)
                rundir.publish(build_artifact(_info(run_id, shards), outcome, {p.name: p for p in plans},
                                              bodies=_bodies(first), shards=_shards_json(shards, missing)))
                journal.finish_run(run_id, outcome.status)
            committed = True
    except BaseException:
        if not committed:
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
        # A shard directory is a downloaded artifact: its result must be a file of its own, never a link that would
        # bring another file into the published run.
        regular = not source.is_symlink() and source.is_file()
        if not isinstance(sha256, str) or not regular or not link_verified(source, rundir.result_path(plan.name),
                                                                           sha256):
            raise UsageError(f"the results of '{terminal_line(plan.name)}' in {run.path} are missing or do not match "
                             "the sha256 its run.json records")
        _link_csv(source, rundir.result_path(plan.name))


def _link_csv(source: Path, target: Path) -> None:
    """The shard's CSV of those very rows (a hard link), when vqr wrote it after them: `after_run` keeps a CSV at
    least as new as its rows (as after `--resume`) and writes every other one, so this only saves re-flattening
    every row of the batch, the largest part of a merge. Best effort: any doubt leaves it to `after_run`."""
    csv_file, copy = source.with_suffix(".csv"), target.with_suffix(".csv")
    try:
        if csv_file.is_symlink() or not csv_file.is_file() or not target.samefile(source) or \
                not csv_is_fresh(csv_file, source):
            return
        copy.unlink(missing_ok=True)
        os.link(csv_file, copy)
    except OSError:
        copy.unlink(missing_ok=True)


def _record(journal: Journal, rundir: RunDir, run_id: str, key: HistoryKey, plans: Sequence[QueryPlan],
            ran: dict[str, tuple[ShardRun, JSONObject]], shards: Sequence[ShardRun], *,
            exceptions: Sequence[ExceptionRule]) -> BatchOutcome:
    """The merged run in the journal, query by query in the order an unsharded run lists them (its groups of
    shared submits), each succeeded one assessed here: drift and lifecycle against this journal's history."""
    journal.start_run(run_id, env=key.env, target=key.target)
    as_of = min((m for m in (moment(r.data.get("as_of")) for r in shards) if m is not None),
                default=datetime.now(UTC))
    groups = build_groups(plans, lambda name, spec: journal.previous_cache_id(name, spec, key=key,
                                                                              exclude_run=run_id))
    results: list[QueryResult] = []
    for member in (m for group in groups for m in group):
        plan = member.plan
        result = result_of(ran[plan.name][1])
        journal.record(run_id, plan.name, QueryState.PENDING, spec_hash=plan.spec_hash, file=plan.file)
        if result.status is QueryStatus.SUCCEEDED:
            path = rundir.result_path(plan.name)
            journal.record(run_id, plan.name, QueryState.DONE, rows=result.rows, sha256=result.sha256,
                           result_path=str(path), mode=result.mode, query_result_id=result.query_result_id,
                           cache_id=result.cache_id, last_completed_cache_id=result.last_completed_cache_id)
            assessed = assess_result(journal=journal, key=key, run_id=run_id, as_of=as_of, plan=plan, results=path,
                                     result=result, exceptions=exceptions)
            result = dataclasses.replace(assessed, finished_at=result.finished_at)
        elif result.status is QueryStatus.FAILED and result.error is not None:
            journal.record(run_id, plan.name, QueryState.FAILED, error_category=result.error.category.value,
                           error_detail=result.error.message, request_id=result.error.request_id)
        results.append(result)
    stops = [StopReason(r.data["stopped_because"]) for r in shards if r.data.get("stopped_because")]
    return BatchOutcome(results=tuple(results), interrupted=False, stopped=stops[0] if stops else None)


def _info(run_id: str, shards: Sequence[ShardRun]) -> RunInfo:
    first = shards[0]
    starts = [m for m in (moment(r.data["started_at"]) for r in shards) if m is not None]
    ends = [m for m in (moment(r.data["finished_at"]) for r in shards) if m is not None]
    as_of = [m for m in (moment(r.data.get("as_of")) for r in shards) if m is not None]
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
                        "queries": len(entries(r))} for r in shards],
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
