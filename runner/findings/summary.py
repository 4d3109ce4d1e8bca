"""What every finding format shares: the sort order, the counts, one-line text safe for terminals and logs.

Pure functions over `Finding`s; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runner.model import Finding, Severity
from runner.sanitize import terminal_line


@dataclass(frozen=True, kw_only=True, slots=True)
class Summary:
    errors: int
    warnings: int
    files_checked: int
    files_with_findings: int


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """By (path, line, column, rule), then message, so output is stable whatever order stages produced."""
    return sorted(findings, key=lambda finding: finding.sort_key)


def summarize(findings: Sequence[Finding], *, files_checked: int) -> Summary:
    errors = sum(1 for finding in findings if finding.severity is Severity.ERROR)
    with_findings = len({finding.path for finding in findings})
    return Summary(errors=errors, warnings=len(findings) - errors,
                   files_checked=max(files_checked, with_findings), files_with_findings=with_findings)


def one_line(text: str) -> str:
    """`text` on one line with control characters shown as `\\xNN` escapes (the terminal channel's sanitiser)."""
    return terminal_line(text)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_line(summary: Summary) -> str:
    """`2 errors, 1 warning in 14 files`, or `14 files clean`."""
    if summary.errors == 0 and summary.warnings == 0:
        return f"{plural(summary.files_checked, 'file')} clean"
    return (f"{plural(summary.errors, 'error')}, {plural(summary.warnings, 'warning')} in "
            f"{plural(summary.files_checked, 'file')}")
