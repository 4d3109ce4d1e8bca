"""The `github` finding format (workflow-command annotations) and the Markdown step summary.

`format_github` is pure; `write_github_step_summary` appends to the file named by `$GITHUB_STEP_SUMMARY` (the caller
passes it), staying within GitHub's 1 MiB per-step limit by truncating with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.files import STEP_SUMMARY_LIMIT, append_step_summary
from runner.findings.summary import Summary, summarize, summary_line
from runner.model import Finding, Severity
from runner.sanitize import markdown_inline, workflow_data, workflow_property

_NOTE_RESERVE = 256  # bytes kept free for the truncation note


def escape_data(text: str) -> str:
    """Escaping of a workflow command's message (GitHub's toolkit `escapeData`, control characters escaped)."""
    return workflow_data(text)


def escape_property(text: str) -> str:
    """Escaping of a workflow command's property value (`escapeProperty`): data escaping plus `:` and `,`."""
    return workflow_property(text)


def format_github(findings: Sequence[Finding], summary: Summary) -> str:
    lines = []
    for finding in findings:
        command = "error" if finding.severity is Severity.ERROR else "warning"
        properties = ",".join((f"file={escape_property(finding.path)}", f"line={finding.line}",
                               f"col={finding.column}", f"title={escape_property(finding.rule)}"))
        lines.append(f"::{command} {properties}::{escape_data(finding.message)}")
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # User data reaches the summary through messages: neutralise HTML, links, images, mentions and table syntax.
    return markdown_inline(text)


def render_github_step_summary(findings: Sequence[Finding], *, files_checked: int,
                               limit: int = STEP_SUMMARY_LIMIT) -> str:
    """The Markdown for `findings`, at most `limit` UTF-8 bytes, rows dropped from the end with a note if needed."""
    summary = summarize(findings, files_checked=files_checked)
    head = f"### vqr lint\n\n{summary_line(summary)}\n"
    if not findings:
        return head + "\n"
    head += "\n| Severity | Location | Rule | Message |\n|---|---|---|---|\n"
    budget = limit - len(head.encode()) - _NOTE_RESERVE
    rows: list[str] = []
    for finding in findings:
        row = (f"| {finding.severity} | {_cell(finding.path)}:{finding.line}:{finding.column} | "
               f"`{finding.rule}` | {_cell(finding.message)} |\n")
        size = len(row.encode())
        if size > budget:
            break
        budget -= size
        rows.append(row)
    text = head + "".join(rows)
    left = len(findings) - len(rows)
    if left:
        text += (f"\n_{left} more {'finding' if left == 1 else 'findings'} not shown (GitHub limits a step "
                 "summary to 1 MiB); see the job log or the SARIF report._\n")
    return text + "\n"


def write_github_step_summary(findings: Sequence[Finding], path: str | Path | None, *,
                              files_checked: int = 0) -> bool:
    """Append the summary to `path` (the value of `$GITHUB_STEP_SUMMARY`); False, doing nothing, when unset."""
    if not path:
        return False
    # Below twice the note's reserve there is no room for a single row: leave the allowance to later steps.
    return append_step_summary(Path(path), lambda room: render_github_step_summary(
        findings, files_checked=files_checked, limit=room), least=_NOTE_RESERVE * 2 + 1)
