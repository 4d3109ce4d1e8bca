"""`vqr diff --run`: run the base and head versions of the changed queries against one target, and compare.

`run_sides(common, project, found, changes, reports=)` runs the head versions of the new and modified queries and
the base versions of the modified and removed ones, except where the `--state` run already holds a base result
for the very same body (then only the head runs). Each side is an ordinary batch with its own run directory
(`<reports>/diff/base|head/<run-id>/`) and its own journal (`.vqr/diff-state.sqlite`): a preview never becomes the
nightly's history, cache ids or drift. Returns the `ResultDelta` per query and the worst batch exit code. Network
(through `run_command`) and run-directory I/O.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner.app.impact import Baseline
from runner.app.options import RunOptions
from runner.app.run_command import run_batch_command
from runner.artifact import latest_target
from runner.assess.drift import compare_results
from runner.errors import ExitCode
from runner.impact.statefile import recorded_results
from runner.model import ExpectSeverity, JSONObject, Outcome, Query, Verdict
from runner.model.impact import Change, QueryChange, ResultDelta, SideResult
from runner.settings import Project

if TYPE_CHECKING:
    from runner.app.common import Common

DIFF_JOURNAL = Path(".vqr") / "diff-state.sqlite"
SAMPLE = 50  # entities named per kind of change and query; the counts are exact


@dataclass(frozen=True, kw_only=True)
class SideRun:
    """One side's results: run.json entries by name, and the directory their `results_file`s are relative to."""

    directory: Path | None
    entries: Mapping[str, JSONObject]
    source: str  # "ran" or "state"
    target: str | None = None  # what the batch queried (its run.json's `target`)


def _batch(common: Common, project: Project, queries: Sequence[Query], *, env: str,
           reports: Path) -> tuple[int, SideRun]:
    if not queries:
        return ExitCode.OK, SideRun(directory=None, entries={}, source="ran")
    options = RunOptions(env=env, reports=reports, quiet=True)
    code = run_batch_command(project, list(queries), options, process=common.process, out=common.err,
                             err=common.err, journal_path=project.root / DIFF_JOURNAL)
    named = latest_target(reports)
    run_dir = reports / named if named else None
    entries: dict[str, JSONObject] = {}
    target = None
    if run_dir is not None and (run_dir / "run.json").is_file():
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        entries = {entry["name"]: entry for entry in run.get("queries", []) if isinstance(entry, dict)}
        target = run.get("target") if isinstance(run.get("target"), str) else None
    return code, SideRun(directory=run_dir, entries=entries, source="ran", target=target)


_SEVERITIES = {severity.value: severity for severity in ExpectSeverity}
_VERDICTS = {verdict.value: verdict for verdict in Verdict}


def _outcomes(entry: JSONObject) -> tuple[Outcome, ...]:
    found = []
    listed = entry.get("expectations")
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        # A `--state` run.json is untrusted: an expectation it spells wrongly is left out, not a traceback.
        severity = _SEVERITIES.get(str(item.get("severity", "error")))
        verdict = _VERDICTS.get(str(item.get("outcome", "skipped")))
        if severity is None or verdict is None:
            continue
        bounds = item.get("bounds")
        actual = item.get("actual")
        found.append(Outcome(metric=str(item.get("metric")), bounds=bounds if isinstance(bounds, dict) else {},
                             severity=severity, verdict=verdict,
                             actual=actual if isinstance(actual, int) else None, message=str(item.get("message", ""))))
    return tuple(found)


def _side(run: SideRun, name: str) -> SideResult | None:
    entry = run.entries.get(name)
    if entry is None:
        return None
    error = entry.get("error")
    rows = entry.get("rows")
    return SideResult(status=str(entry.get("status")), source=run.source,
                      rows=rows if isinstance(rows, int) else None, expectations=_outcomes(entry),
                      error=str(error.get("message")) if isinstance(error, dict) else None)


def _rows_file(run: SideRun, name: str) -> Path | None:
    return recorded_results(run.directory, run.entries.get(name, {}))


def run_sides(common: Common, project: Project, found: Baseline, changes: Sequence[QueryChange], *, env: str,
              reports: Path) -> tuple[int, dict[str, ResultDelta], list[str]]:
    """(worst exit code of the batches, delta per query, notes). A query whose body in `env` is the same on both
    sides (it changed in another environment only) is not run: its results cannot differ; nor is a disabled one.
    The head runs first, so that a `--state` result is borrowed only from the target the head ran against."""
    notes: list[str] = []
    same = [c.name for c in changes
            if env in c.base and env in c.head and c.base[env].body_hash == c.head[env].body_hash]
    if same:
        notes.append(f"not run, unchanged in {env} (changed in another environment only): {', '.join(same)}")
    changes = [c for c in changes if c.name not in same and (env in c.base or env in c.head)]
    head_queries = found.comparison.head.queries.get(env, {})
    base_queries = found.comparison.base.queries.get(env, {})
    run_head = [head_queries[c.name] for c in changes if c.change is not Change.REMOVED and c.name in head_queries]
    disabled = sorted(q.name for q in run_head if not q.enabled)
    if disabled:
        notes.append(f"not run, disabled at the head (enabled: false): {', '.join(disabled)}")
    head_code, head_run = _batch(common, project, [q for q in run_head if q.enabled], env=env,
                                 reports=reports / "head")
    from_state, why_not = _borrowable(found, changes, env=env, head_target=head_run.target)
    if why_not:
        notes.append(why_not)
    run_base: list[Query] = []
    for change in changes:
        if change.change is Change.NEW or change.name in from_state:
            continue
        if change.name in base_queries and base_queries[change.name].enabled:
            run_base.append(base_queries[change.name])
        elif change.name not in base_queries and change.base.get(env) is not None:
            notes.append(f"{change.name}: the base version is known only by its hash (the state run did not run it "
                         "successfully); give --base REF as well to run it")
    base_code, base_run = _batch(common, project, run_base, env=env, reports=reports / "base")
    state = found.state
    state_run = SideRun(directory=state.directory, entries=state.entries, source="state") if state else None
    deltas: dict[str, ResultDelta] = {}
    for change in changes:
        before_run = state_run if change.name in from_state and state_run is not None else base_run
        deltas[change.name] = _delta(change.name, env, before_run, head_run, ignore=_ignored(head_queries, change))
    _prune(project, reports)
    return max(base_code, head_code), deltas, notes


def _borrowable(found: Baseline, changes: Sequence[QueryChange], *, env: str,
                head_target: str | None) -> tuple[set[str], str | None]:
    """The changes whose base result the `--state` run holds for the very same body, environment and target, with
    no snapshot pin or --cache override; and, when the state cannot lend at all, why."""
    state = found.state
    if state is None:
        return set(), None
    if state.env != env:
        return set(), None
    if head_target is not None and head_target != state.target:
        return set(), (f"the state run queried {state.target}, not {head_target}: its results are not borrowed "
                       "(the base versions run instead)")
    if state.overridden:
        return set(), f"the state run's results are not borrowed: {state.overridden}"
    borrowed = set()
    for change in changes:
        rendered = change.base.get(env)
        if rendered is not None and state.bodies.get(change.name) == rendered.body_hash \
                and state.results_file(change.name):
            borrowed.add(change.name)
    return borrowed, None


def _prune(project: Project, reports: Path) -> None:
    """Keep the previews' run directories within the project's `retention`, as `vqr run` keeps its own."""
    from runner.artifact import prune_runs

    for side in ("base", "head"):
        with contextlib.suppress(OSError):
            prune_runs(reports / side, project.retention, journal_path=project.root / DIFF_JOURNAL)


def _ignored(head: Mapping[str, Query], change: QueryChange) -> tuple[str, ...]:
    query = head.get(change.name)
    return query.drift_ignore if query is not None else ()


def _delta(name: str, env: str, before_run: SideRun, after_run: SideRun, *, ignore: Sequence[str]) -> ResultDelta:
    before, after = _side(before_run, name), _side(after_run, name)
    old, new = _rows_file(before_run, name), _rows_file(after_run, name)
    if old is None or new is None:
        return ResultDelta(name=name, env=env, before=before, after=after)
    drift = compare_results(old, new, previous_run="base", ignore=ignore, sample=SAMPLE)
    return ResultDelta(name=name, env=env, before=before, after=after, added=drift.added, removed=drift.removed,
                       changed=drift.changed, added_sample=drift.added_sample, removed_sample=drift.removed_sample,
                       changed_sample=drift.changed_sample)


def delta_exit_code(deltas: Mapping[str, ResultDelta], batches: int) -> int:
    """Exit 1 when a query failed on either side or a head error expectation failed; the batches' own codes above
    1 (could not run at all, interrupted) win."""
    if batches not in (ExitCode.OK, ExitCode.FINDINGS):
        return batches
    for delta in deltas.values():
        for side in (delta.before, delta.after):
            if side is not None and side.status != "succeeded":
                return ExitCode.FINDINGS
        if delta.after is not None and any(o.is_error_failure for o in delta.after.expectations):
            return ExitCode.FINDINGS
    return ExitCode.OK
