"""The composition root, and the only thing the CLI (`runner/cli/`) imports: one function per command, each
returning its exit code (`commands`, `run`), the run's options (`options`), and what the error boundary and click's
choices need.

The commands load on first use, so `vqr --help` imports neither the stages nor httpx; `vqr lint` loads no HTTP,
server or terminal-UI library (tests/unit/app/test_startup.py holds both).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runner.durations import parse_duration
from runner.errors import ExitCode, VqrError
from runner.model import CACHE_MODES, MAX_CONCURRENCY
from runner.model.plans import MAX_SHARDS, SHARD_BY

if TYPE_CHECKING:
    from runner.app.boundary import guarded
    from runner.app.commands import (
        import_queries,
        init,
        lint,
        report,
        run,
        sandbox_reset,
        sandbox_serve,
        schema_build,
    )
    from runner.app.common import Common
    from runner.app.diff_command import diff
    from runner.app.export_command import export_report
    from runner.app.listing import ls, render
    from runner.app.merge_command import merge
    from runner.app.notify_command import notify
    from runner.app.options import RunOptions
    from runner.app.publish_command import publish_apply, publish_plan
    from runner.app.shards import plan
    from runner.findings import FORMATS as LINT_FORMATS
    from runner.model.publish import PLAN_FORMATS as PUBLISH_FORMATS
    from runner.report.kinds import REPORT_FORMATS
    from runner.sandbox.config import option_specs as sandbox_option_specs
    from runner.sanitize import LOG_FILTER
    from runner.secret import SECRET_FILTER

_HOMES = {
    "Common": ("common", None), "init": ("commands", None), "lint": ("commands", None), "ls": ("listing", None),
    "render": ("listing", None), "diff": ("diff_command", None), "report": ("commands", None),
    "run": ("commands", None),
    "sandbox_serve": ("commands", None), "schema_build": ("commands", None), "RunOptions": ("options", None),
    "guarded": ("boundary", None), "LINT_FORMATS": ("runner.findings", "FORMATS"),
    "REPORT_FORMATS": ("runner.report.kinds", None),
    "sandbox_option_specs": ("runner.sandbox.config", "option_specs"), "SECRET_FILTER": ("runner.secret", None),
    "LOG_FILTER": ("runner.sanitize", None),
    "plan": ("shards", None), "merge": ("merge_command", None),
    "export_report": ("export_command", None), "publish_plan": ("publish_command", None),
    "publish_apply": ("publish_command", None),
    "PUBLISH_FORMATS": ("runner.model.publish", "PLAN_FORMATS"),
    "import_queries": ("commands", None), "sandbox_reset": ("commands", None), "notify": ("notify_command", None),
}

__all__ = [
    "CACHE_MODES",
    "LINT_FORMATS",
    "LOG_FILTER",
    "MAX_CONCURRENCY",
    "MAX_SHARDS",
    "PUBLISH_FORMATS",
    "REPORT_FORMATS",
    "SECRET_FILTER",
    "SHARD_BY",
    "Common",
    "ExitCode",
    "RunOptions",
    "VqrError",
    "diff",
    "export_report",
    "guarded",
    "import_queries",
    "init",
    "lint",
    "ls",
    "merge",
    "notify",
    "parse_duration",
    "plan",
    "publish_apply",
    "publish_plan",
    "render",
    "report",
    "run",
    "sandbox_option_specs",
    "sandbox_reset",
    "sandbox_serve",
    "schema_build",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _HOMES[name]
    home = importlib.import_module(module if module.startswith("runner.") else f"{__name__}.{module}")
    return getattr(home, attribute or name)
