"""The accepted exceptions of a command: loaded, linted against the repository's queries and the last run.

`lint_exceptions(project, queries, files=None, today=None) -> (rules, findings)`: `vqr lint` reports the findings,
`vqr run` refuses to send anything when one is an error and hands the rules to the run. The last run's unmatched
exceptions come from `reports/latest/run.json` (`exceptions_unmatched`), read as untrusted: size-capped, a regular
file inside the reports directory, anything malformed ignored (the warning is advice, never a failure). Reads files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from runner.artifact import RUN_FILE, latest_target
from runner.compile.exceptions import DUPLICATE, exception_files, exception_findings, load_exceptions
from runner.model import Finding
from runner.model.exceptions import ExceptionRule
from runner.repopath import read_regular_file
from runner.settings import Project

_MAX_RUN_BYTES = 64 << 20


def lint_exceptions(project: Project, queries: Iterable[str], *, files: Sequence[Path] | None = None,
                    today: date | None = None) -> tuple[tuple[ExceptionRule, ...], list[Finding]]:
    everything = exception_files(project)
    # Every file is loaded, so a duplicate across files is seen from either side (pre-commit passes only the
    # staged ones); the findings kept are the given files', and a duplicate's when either of its two files is given.
    loaded = load_exceptions(project, sorted({*everything, *(files or ())}, key=lambda p: p.as_posix()))
    if not loaded.files:
        return (), []
    run_id, unmatched = last_unmatched(project.reports_dir)
    findings = [*loaded.findings, *exception_findings(
        loaded, queries=queries, today=today or datetime.now(UTC).date(), warn_days=project.exceptions.warn_days,
        unmatched=unmatched, last_run=run_id, disabled=project.disabled_rules)]
    if files is not None:
        shown = {project.display(f) for f in files}
        findings = [f for f in findings if f.path in shown or (
            f.rule == DUPLICATE.id and any(f"repeats {name}#" in f.message for name in shown))]
    return loaded.rules, sorted(findings, key=lambda f: f.sort_key)


def last_unmatched(reports: Path) -> tuple[str | None, list[ExceptionRule]]:
    """(the latest run's id, the exceptions it recorded as matching nothing); (None, []) when there is none."""
    latest = latest_target(reports)
    if latest is None or not reports.is_dir():
        return None, []
    data = read_regular_file(reports / latest / RUN_FILE, _MAX_RUN_BYTES, root=reports.resolve())
    if not isinstance(data, bytes):
        return None, []
    try:
        run = json.loads(data)
    except ValueError:
        return None, []
    if not isinstance(run, dict) or not isinstance(run.get("exceptions_unmatched"), list):
        return None, []
    rules = []
    for item in run["exceptions_unmatched"]:
        try:
            rules.append(ExceptionRule.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    run_id = run.get("run_id")
    return (run_id if isinstance(run_id, str) else None), rules
