"""What every project command shares: `Common` (the options and streams of one command), and the steps most
commands begin with: finding and loading the project (`project_of`), compiling its queries for one environment
(`compile_queries`) or for every environment (`compile_all_environments`), and the abort text of an invalid
repository (`report_invalid`).

The base of `runner.app`: it imports no other module of the package, so the command modules can all import it.
Reads the project and query files.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from runner.compile import (
    Compiled,
    compile_environments,
    compile_repository,
    discover_query_files,
    lint_environments,
)
from runner.errors import ExitCode, UsageError
from runner.findings.text import format_abort
from runner.model import Finding, Severity
from runner.settings import ProcessEnv, Project, find_project_file, load_project, read_env, resolve_variables
from runner.validate import load_schema_set


@dataclass(frozen=True, kw_only=True)
class Common:
    """Options every project command shares."""

    project_file: Path | None = None
    env: str | None = None
    vars_files: tuple[Path, ...] = ()
    cli_vars: tuple[str, ...] = ()
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    process: ProcessEnv = field(default_factory=read_env)  # read once, here, for the whole command
    base: str | None = None  # `--base REF`: compare with the repository at a git ref (state: selectors)
    state: Path | None = None  # `--state DIR`: compare with a run directory's recorded bodies


def project_of(common: Common) -> Project:
    return load_project(common.project_file or find_project_file(Path.cwd()))


def compile_queries(common: Common, project: Project, paths: Sequence[Path] = (), *, use_cache: bool = False,
             files: Sequence[Path] | None = None) -> Compiled:
    env = project.environment(common.env, common.process)
    variables = resolve_variables(project, env, vars_files=common.vars_files, cli_vars=common.cli_vars)
    if files is None:
        files = discover_query_files(project, [p.resolve() for p in paths])
    missing = [p for p in files if not (p.exists() or p.is_symlink())]  # a FIFO or a link is refused by a finding
    if missing:
        raise UsageError(f"no such file: {missing[0]}")
    return compile_repository(project, load_schema_set(project.schemas_dir), variables, files=files,
                              lint_cache_key=common.process.lint_cache_key_file if use_cache else None)


def compile_all_environments(common: Common, project: Project, *, files: Sequence[Path]) -> Compiled:
    """Every environment's compile (`--env`: one), as one `Compiled` whose findings name where they hold."""
    missing = [p for p in files if not (p.exists() or p.is_symlink())]  # a FIFO or a link is refused by a finding
    if missing:
        raise UsageError(f"no such file: {missing[0]}")
    variables = {env.name: resolve_variables(project, env, vars_files=common.vars_files, cli_vars=common.cli_vars)
                 for env in lint_environments(project, common.env)}
    done = compile_environments(project, load_schema_set(project.schemas_dir), variables, files=files,
                                lint_cache_key=common.process.lint_cache_key_file)
    units = tuple(unit for compiled in done.per_environment.values() for unit in compiled.units)
    return Compiled(units=units, queries=(), findings=done.findings, files_checked=done.files_checked)


def report_invalid(common: Common, findings: Sequence[Finding]) -> int:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    common.err.write(format_abort(errors) + "\n")
    common.err.write(f"{len(errors)} error(s): nothing was rendered (run `vqr lint` for details)\n")
    return ExitCode.USAGE
