"""Reports of a finished run, rendered only from its run directory (the validated run.json and the result files)
and the journal's history: md, html, junit, csv and ocsf (findings.ocsf.jsonl). Pure renderers, one module per
format; `publish` writes them (and is what `vqr run` calls after run.json), `commands` is `vqr report` and
`vqr report history`.

The names load on first use: the CLI reads the format names (`kinds`) without loading the renderers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runner.report.kinds import REPORT_FILES, REPORT_FORMATS

if TYPE_CHECKING:
    from runner.report.commands import history_command, report_command, resolve_run_dir
    from runner.report.load import ArtifactError
    from runner.report.publish import after_run, render_report, result_csv, write_reports, write_step_summary

_HOMES = {
    "history_command": "commands", "report_command": "commands", "resolve_run_dir": "commands",
    "ArtifactError": "load", "after_run": "publish", "render_report": "publish", "write_reports": "publish",
    "result_csv": "publish", "write_step_summary": "publish",
}

__all__ = [
    "REPORT_FILES",
    "REPORT_FORMATS",
    "ArtifactError",
    "after_run",
    "history_command",
    "render_report",
    "report_command",
    "resolve_run_dir",
    "result_csv",
    "write_reports",
    "write_step_summary",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
