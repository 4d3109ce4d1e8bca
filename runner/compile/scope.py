"""Which findings `vqr lint PATHS` reports: the repository is compiled whole, findings are kept for PATHS.

Input: the project, the paths given on the command line (pre-commit passes the staged files), the compiled
repository. Output: the files to compile and the findings to report. Pure apart from listing `queries/`.
A fragment, a vars file or vqr.yaml among the paths changes every query, so it widens the scope to all of them.
An accepted-exceptions file among them (exceptions/*.yaml) is linted as one, against the whole repository's queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.compile.exceptions import exception_files, is_exceptions_file
from runner.compile.repository import Compiled, _is_support_file, discover_query_files
from runner.model import Finding
from runner.settings import Project

# Reported on the later of two files only: kept when either side of the collision is in scope.
_CROSS_FILE_RULES = frozenset({"query/duplicate-name"})


@dataclass(frozen=True, kw_only=True)
class LintScope:
    files: list[Path]  # what to compile: every query file of the repository, plus the given ones
    shown: frozenset[str] | None  # display paths whose findings are reported; None: all of them
    checked: int  # the files_checked figure: the query and exceptions files in scope
    exceptions: list[Path] = field(default_factory=list)  # the exceptions files to lint


def lint_scope(project: Project, paths: Sequence[Path]) -> LintScope:
    everything = discover_query_files(project)
    if not paths:
        every_exception = exception_files(project)
        return LintScope(files=everything, shown=None, checked=len(everything) + len(every_exception),
                         exceptions=every_exception)
    resolved = [p.resolve() for p in paths]
    if any(p == project.file.resolve() or (not p.is_dir() and _is_support_file(project, p)) for p in resolved):
        every_exception = exception_files(project)
        return LintScope(files=everything, shown=None, checked=len(everything) + len(every_exception),
                         exceptions=every_exception)
    exceptions = sorted({f for p in resolved for f in (exception_files(project) if p.is_dir() and is_exceptions_dir(
        project, p) else [p] if is_exceptions_file(project, p) else [])}, key=lambda p: p.as_posix())
    queries = [p for p in resolved if not (is_exceptions_file(project, p) or is_exceptions_dir(project, p))]
    found = discover_query_files(project, queries) if queries else []
    given = [p for p in found if not is_exceptions_file(project, p)]  # `vqr lint .` finds them too
    exceptions = sorted({*exceptions, *(p for p in found if is_exceptions_file(project, p))},
                        key=lambda p: p.as_posix())
    files = sorted({*everything, *given}, key=lambda p: p.as_posix())
    return LintScope(files=files, shown=frozenset(project.display(p) for p in given),
                     checked=len(given) + len(exceptions), exceptions=exceptions)


def is_exceptions_dir(project: Project, path: Path) -> bool:
    return path.is_dir() and path.resolve() == (project.root / project.exceptions.dir).resolve()


def scoped_findings(scope: LintScope, compiled: Compiled) -> tuple[Finding, ...]:
    if scope.shown is None:
        return compiled.findings
    shown = scope.shown
    names_in_scope = {unit.name for unit in compiled.units if unit.doc.path in shown}

    def collides_with_scope(finding: Finding) -> bool:
        return any(unit.name in names_in_scope for unit in compiled.units if unit.doc.path == finding.path)

    return tuple(f for f in compiled.findings
                 if f.path in shown or (f.rule in _CROSS_FILE_RULES and collides_with_scope(f)))
