"""The repository made ready to send: compiled without errors, its accepted exceptions linted clean.

`compile_clean(common, show_warnings=False) -> Clean | None`: what `vqr run`, `vqr plan --shards` and
`vqr report merge` start from; None, with the errors written to `common.err`, when anything may not be sent. Reads
the repository and `reports/latest` (the last run's unmatched exceptions); sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.app.common import Common, compile_queries, project_of
from runner.compile import Compiled
from runner.findings.text import format_abort
from runner.model import Severity
from runner.model.exceptions import ExceptionRule
from runner.sanitize import terminal_line
from runner.settings import Project


@dataclass(frozen=True, kw_only=True)
class Clean:
    """A repository compiled without errors, and its accepted exceptions linted clean: what may be run, split or
    merged."""

    project: Project
    compiled: Compiled
    exceptions: tuple[ExceptionRule, ...]


_SHOWN_WARNINGS = 10  # exception warnings a run prints; `vqr lint` lists them all


def compile_clean(common: Common, *, show_warnings: bool = False) -> Clean | None:
    """The project, its whole repository compiled for running (lint cache on) and its accepted exceptions; None,
    with the errors written, when either has errors: nothing may be sent, split or merged from it."""
    from runner.app.exceptions import lint_exceptions
    from runner.compile.exceptions import UNKNOWN_QUERY

    project = project_of(common)
    compiled = compile_queries(common, project, use_cache=True)  # the lint cache's key covers every input of a compile
    if compiled.errors:
        common.err.write(format_abort(compiled.errors) + "\n")
        common.err.write(f"{len(compiled.errors)} error(s) in the query repository: nothing was sent "
                         "(run `vqr lint`)\n")
        return None
    exceptions, problems = lint_exceptions(project, (q.name for q in compiled.queries))
    # A query name is checked against this environment's queries only, and a renamed query must not stop the
    # nightly: here an unknown query is a warning (`vqr lint` checks every environment, and it is an error there).
    invalid = [f for f in problems if f.severity is Severity.ERROR and f.rule != UNKNOWN_QUERY.id]
    if invalid:
        common.err.write(format_abort(invalid) + "\n")
        common.err.write(f"{len(invalid)} error(s) in the accepted exceptions: nothing was sent (run `vqr lint`)\n")
        return None
    warnings = [f for f in problems if f not in invalid] if show_warnings else []  # `vqr run`'s; a merge's is quiet
    for finding in warnings[:_SHOWN_WARNINGS]:
        common.err.write(terminal_line(f"vqr: warning: {finding.path}:{finding.line}:{finding.column}: "
                                       f"{finding.message} [{finding.rule}]") + "\n")
    if len(warnings) > _SHOWN_WARNINGS:
        common.err.write(f"vqr: …{len(warnings) - _SHOWN_WARNINGS} more exception warnings (run `vqr lint`)\n")
    return Clean(project=project, compiled=compiled, exceptions=tuple(exceptions))
