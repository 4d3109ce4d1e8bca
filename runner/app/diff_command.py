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

from runner.app.commands import Common, _project
from runner.app.impact import Baseline, baseline, select_with_state
from runner.errors import ExitCode, UsageError
from runner.files import write_atomically
from runner.impact.comment import format_markdown
from runner.impact.formats import format_json, format_text
from runner.impact.specdiff import spec_diff
from runner.model.impact import Change, ImpactReport, QueryChange, ResultDelta
from runner.sanitize import terminal_line

DIFF_FORMATS = ("text", "md", "json")
HEAD_LABEL = "work tree"


def _chosen(found_changes: Sequence[QueryChange], select: Sequence[str], exclude: Sequence[str],
            found: Baseline) -> list[QueryChange]:
    """The changes `--select`/`--exclude` keep; a removed query is matched by its base version."""
    if not select and not exclude:
        return list(found_changes)
    head = {q.name: q for queries in found.comparison.head.queries.values() for q in queries.values()}
    picked, removed = select_with_state(list(head.values()), select=select or ["*"], exclude=exclude, baseline=found)
    names = {q.name for q in picked} | {q.name for q in removed}
    # `--select tag:x` keeps a removed query whose base version matches, as `state:removed,tag:x` would.
    if select and not any("state:" in s for s in select):
        gone, _ = select_with_state(found.removed_queries(), select=[f"{s},state:removed" for s in select],
                                    exclude=exclude, baseline=found)
        names |= {q.name for q in gone}
    return [change for change in found_changes if change.name in names]


def diff(common: Common, *, fmt: str, output: Path | None, run: bool, reports: Path | None,
         select: Sequence[str] = (), exclude: Sequence[str] = ()) -> int:
    if fmt not in DIFF_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(DIFF_FORMATS)}, got {fmt!r}")
    project = _project(common)
    found = baseline(common, project, base=common.base, state=common.state)
    broken = sorted(found.comparison.head.error_files)
    if broken:
        shown = ", ".join(terminal_line(name) for name in broken[:5])
        common.err.write(f"{len(broken)} changed file(s) have errors ({shown}): nothing was compared "
                         "(run `vqr lint`)\n")
        return ExitCode.USAGE
    changes = _chosen(list(found.comparison.changes.values()), select, exclude, found)
    diffs = tuple(spec_diff(change, found.envs) for change in changes)
    deltas: dict[str, ResultDelta] = {}
    notes = list(found.notes)
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
