"""`vqr diff`: what a change does to the queries, as the semantic difference of their rendered create bodies and,
with `--run`, of their results.

`diff(common, fmt=, output=, run=, reports=, select=, exclude=)` compares the work tree with `--base REF` and/or
`--state DIR` (`app.impact.baseline`), refuses a head whose changed files do not compile (exit 2, as `vqr run`
would), builds an `ImpactReport` and writes it as text, JSON or one PR-comment Markdown body. Exit 0, or with
`--run` 1 when a query failed on either side or a head error expectation failed (`diff_run.delta_exit_code`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.app.common import Common, compile_all_environments, project_of
from runner.app.impact import Baseline, baseline
from runner.compile import discover_query_files
from runner.errors import ExitCode, UsageError
from runner.files import write_atomically
from runner.impact.comment import format_markdown
from runner.impact.formats import format_json, format_text
from runner.impact.specdiff import spec_diff
from runner.impact.statefile import body_known
from runner.model.impact import Change, ImpactReport, QueryChange, ResultDelta, SpecDiff
from runner.plan import select_queries
from runner.sanitize import terminal_line

DIFF_FORMATS = ("text", "md", "json")
HEAD_LABEL = "work tree"


def _chosen(found: Baseline, select: Sequence[str], exclude: Sequence[str]) -> list[QueryChange]:
    """The changes `--select`/`--exclude` keep, by the same algebra as `vqr ls`: a removed query is picked only by
    a selector naming `state:removed`, and without any `--select` every change is a candidate."""
    changes = list(found.comparison.changes.values())
    if not select and not exclude:
        return changes
    head = {q.name: q for queries in found.comparison.head.queries.values() for q in queries.values()}
    include = list(select) or ["*", "state:removed"]
    picked = select_queries([*head.values(), *found.removed_queries()], select=include, exclude=exclude,
                            state=found.states)
    names = {q.name for q in picked}
    return [change for change in changes if change.name in names]


def _hash_only(found: Baseline, changes: Sequence[QueryChange]) -> list[str]:
    """Queries whose base is a `--state` run's hash without its body (that run did not run them): their JSON
    paths cannot be shown, only that they changed."""
    if found.state is None or found.comparison.base.queries:
        return []
    return [c.name for c in changes if c.change is not Change.NEW and not body_known(found.state, c.name)]


def diff(common: Common, *, fmt: str, output: Path | None, run: bool, reports: Path | None,
         select: Sequence[str] = (), exclude: Sequence[str] = ()) -> int:
    if fmt not in DIFF_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(DIFF_FORMATS)}, got {fmt!r}")
    project = project_of(common)
    found = baseline(common, project, base=common.base, state=common.state)
    # The comparison compiles only what changed; the whole head must still be what `vqr run` accepts (a new file
    # reusing an existing query's name is an error only across files).
    whole = compile_all_environments(common, project, files=discover_query_files(project))
    broken = sorted({f.path for f in whole.errors} | found.comparison.head.error_files)
    if broken:
        shown = ", ".join(terminal_line(name) for name in broken[:5])
        common.err.write(f"{len(broken)} file(s) have errors at the head ({shown}): nothing was compared "
                         "(run `vqr lint`)\n")
        return ExitCode.USAGE
    changes = _chosen(found, select, exclude)
    unknown = set(_hash_only(found, changes))
    diffs = tuple(spec_diff(change, found.envs) if change.name not in unknown
                  else SpecDiff(name=change.name, change=change.change, file=change.file, base_file=None, envs=())
                  for change in changes)
    deltas: dict[str, ResultDelta] = {}
    notes = list(found.notes)
    if unknown:
        notes.append(f"{len(unknown)} modified quer{'y' if len(unknown) == 1 else 'ies'} "
                     f"({', '.join(sorted(unknown)[:5])}) did not run in the state run: its recorded hash shows the "
                     "change, not the old body; compare with --base REF for the JSON paths")
    code: int = ExitCode.OK
    if run:
        from runner.app.diff_run import delta_exit_code, run_sides

        env = project.environment(common.env, common.process).name
        if env not in found.envs:
            raise UsageError(f"--run runs environment '{terminal_line(env)}', which this comparison does not cover "
                             f"({', '.join(found.envs)}): add --env")
        target = reports if reports is not None else project.reports_dir / "diff"
        batches, deltas, run_notes = run_sides(common, project, found, changes, env=env, reports=target)
        notes += run_notes
        code = delta_exit_code(deltas, batches)
    report = ImpactReport(base=found.label, head=HEAD_LABEL, envs=found.envs, diffs=diffs, deltas=deltas,
                          notes=tuple(notes))
    text = {"text": format_text, "json": format_json, "md": format_markdown}[fmt](report)
    if output is not None:
        write_atomically(output, text)
    else:
        common.out.write(text if text.endswith("\n") else text + "\n")
    counts = report.counts()
    common.err.write(f"{counts[Change.MODIFIED.value]} modified, {counts[Change.NEW.value]} new, "
                     f"{counts[Change.REMOVED.value]} removed against {terminal_line(found.label)}\n")
    return code
