"""The composition root: one function per command, each returning its exit code (see `commands`)."""

from runner.app.commands import Common, init, lint, ls, render, report, run, sandbox_serve, schema_build

__all__ = ["Common", "init", "lint", "ls", "render", "report", "run", "sandbox_serve", "schema_build"]
