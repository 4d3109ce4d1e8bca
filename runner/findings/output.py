"""Dispatch to one finding format: `format_findings(findings, fmt=..., ...)` sorts the findings by
(path, line, column, rule) and returns the whole output as one string. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.errors import UsageError
from runner.findings import FORMATS
from runner.findings.github import format_github
from runner.findings.json_format import format_json
from runner.findings.junit import format_junit
from runner.findings.sarif import format_sarif
from runner.findings.summary import sort_findings, summarize
from runner.findings.text import format_text
from runner.model import Finding


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
