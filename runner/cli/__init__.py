"""The command line: click parsing only. Each command builds options, calls one `runner.app` function, exits once.

Imports nothing of vqr but `runner.app` (an import-linter contract). `group.py` holds the `vqr` group, the shared
options and `main()`; `queries.py` (lint, render, ls, diff, import), `runs.py` (run, plan, report, notify),
`tools.py` (sandbox, schema, init) and `publish.py` (publish plan, apply; export) register their commands on it when
imported here. `app` loads the commands' code on first use: `vqr --help` stays fast.
"""

from __future__ import annotations

from runner.cli import publish, queries, runs, tools
from runner.cli.group import EXIT_CODES, cli, main
from runner.cli.queries import diff, import_command, lint, ls_command, render
from runner.cli.runs import notify, plan_command, report, run
from runner.cli.tools import init, sandbox, schema

__all__ = ["EXIT_CODES", "cli", "diff", "import_command", "init", "lint", "ls_command", "main", "notify",
           "plan_command", "publish", "queries", "render", "report", "run", "runs", "sandbox", "schema", "tools"]
