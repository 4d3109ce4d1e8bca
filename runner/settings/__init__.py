"""The project file (`vqr.yaml`) and the process environment, each read once into a frozen value.

`project.py`: `load_project(file)` → `Project` (or `ProjectError`, exit 2, every problem at its line and column).
`process.py`: `read_env()` → `ProcessEnv`, the only reader of `os.environ` (ruff's banned-API rule enforces it).
`variables.py`: `resolve_variables` → one environment's template variables. This face re-exports what others use.
"""

from __future__ import annotations

from runner.settings.process import LINT_CACHE_KEY_ENV, NO_LINT_CACHE_ENV, ProcessEnv, read_env
from runner.settings.project import (
    DEFAULT_ENV,
    EMBEDDED_URL,
    PROJECT_FILE,
    Defaults,
    Environment,
    Project,
    find_project_file,
    load_project,
)
from runner.settings.variables import load_vars_file, parse_cli_var, resolve_variables

__all__ = ["DEFAULT_ENV", "EMBEDDED_URL", "LINT_CACHE_KEY_ENV", "NO_LINT_CACHE_ENV", "PROJECT_FILE", "Defaults",
           "Environment", "ProcessEnv", "Project", "find_project_file", "load_project", "load_vars_file",
           "parse_cli_var", "read_env", "resolve_variables"]
