"""Finding output formats for `vqr lint`: text, json, sarif, github, junit.

`format_findings(findings, fmt=..., root=..., files_checked=..., tool_version=...)` sorts the findings by
(path, line, column, rule) and returns the whole output as one string; one module per format. Pure, no I/O, except
`write_github_step_summary`, which appends to the file the caller names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.errors import UsageError
from runner.findings.github import format_github, render_github_step_summary, write_github_step_summary
from runner.findings.json_format import format_json
from runner.findings.junit import format_junit
from runner.findings.sarif import format_sarif
from runner.findings.summary import Summary, sort_findings, summarize, summary_line
from runner.findings.text import format_text
from runner.model.values import Finding

FORMATS: tuple[str, ...] = ("text", "json", "sarif", "github", "junit")

__all__ = [
    "FORMATS",
    "Summary",
    "format_findings",
    "render_github_step_summary",
    "sort_findings",
    "summarize",
    "summary_line",
    "write_github_step_summary",
]


def format_findings(findings: Sequence[Finding], *, fmt: str, root: Path, files_checked: int, tool_version: str,
                    checked_paths: Sequence[str] = ()) -> str:
    """The complete `fmt` output for `findings`. `root` is the repository root (SARIF's SRCROOT); `checked_paths`
    (optional) lets JUnit name the clean files too."""
    ordered = sort_findings(findings)
    summary = summarize(ordered, files_checked=max(files_checked, len(set(checked_paths))))
    if fmt == "text":
        return format_text(ordered, summary)
    if fmt == "json":
        return format_json(ordered, summary, tool_version=tool_version)
    if fmt == "sarif":
        return format_sarif(ordered, root=root, tool_version=tool_version)
    if fmt == "github":
        return format_github(ordered, summary)
    if fmt == "junit":
        return format_junit(ordered, summary, checked_paths=checked_paths)
    raise UsageError(f"unknown findings format {fmt!r}; use one of {', '.join(FORMATS)}")
