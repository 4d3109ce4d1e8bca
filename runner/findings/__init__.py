"""Finding output formats for `vqr lint`: text, json, sarif, github, junit; and the abort text of `run`/`render`.

`format_findings(findings, fmt=..., root=..., files_checked=..., tool_version=...)` returns the whole output as one
string (one module per format); `format_abort(findings)` is the escaped lines a refused command prints. Pure, no
I/O, except `write_github_step_summary`, which appends to the file the caller names. The names load on first use:
the CLI reads `FORMATS` for its choices, and `vqr --help` should not pay for the SARIF rule table.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.findings.github import render_github_step_summary, write_github_step_summary
    from runner.findings.output import format_findings
    from runner.findings.summary import Summary, sort_findings, summarize, summary_line
    from runner.findings.text import format_abort

FORMATS: tuple[str, ...] = ("text", "json", "sarif", "github", "junit")  # the order `vqr lint --help` shows

_HOMES = {
    "format_findings": "output", "format_abort": "text",
    "render_github_step_summary": "github", "write_github_step_summary": "github",
    "Summary": "summary", "sort_findings": "summary", "summarize": "summary", "summary_line": "summary",
}

__all__ = [
    "FORMATS",
    "Summary",
    "format_abort",
    "format_findings",
    "render_github_step_summary",
    "sort_findings",
    "summarize",
    "summary_line",
    "write_github_step_summary",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
