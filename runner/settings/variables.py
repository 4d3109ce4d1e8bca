"""Template variables of one environment: vqr.yaml's `vars:`, the environment's own and its `vars_files`, the
operator's `--vars-file`s and `--var K=V`s, merged in that order, the last winning.

`resolve_variables(project, env, vars_files=, cli_vars=)` → one mapping, or `UsageError`/`ProjectError` naming the
file. Reads the variables files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from runner.errors import UsageError
from runner.findings.text import format_abort
from runner.load import load_yaml_file
from runner.model import JSONObject, JSONValue, Severity
from runner.repopath import lexically_within
from runner.settings.project import Environment, Project


def parse_cli_var(text: str) -> tuple[str, JSONValue]:
    """`--var k=v`: the value is JSON when it parses as JSON (numbers, lists, true), else the literal string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise UsageError(f"--var expects NAME=VALUE with NAME a valid identifier, got {text!r}")
    try:
        value: JSONValue = json.loads(raw)
    except ValueError:
        value = raw
    return name, value


def load_vars_file(file: Path, project: Project, *, named_by_operator: bool = False,
                   environment: str | None = None) -> JSONObject:
    """A variables file is untrusted input like a query file: hardened loader, must be a mapping, and the path
    policy (`runner.repopath`): a regular file that stays inside the project, symlinks resolved. Only a `--vars-file`
    (`named_by_operator`) may lie outside the project, the operator's choice; inside it, it must not lead out."""
    if not (file.exists() or file.is_symlink()):
        # Lint loads every environment's files: say whose is missing (`environment`, for a vars_files entry).
        whose = f" for environment '{environment}'" if environment is not None else ""
        raise UsageError(f"variables file not found: {project.display(file)}{whose}")
    inside = not named_by_operator or lexically_within(project.root, file)
    doc, findings = load_yaml_file(file, path=project.display(file), root=project.root if inside else None)
    if doc is None or any(f.severity is Severity.ERROR for f in findings):
        raise UsageError("invalid variables file:\n" + format_abort(findings))
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise UsageError(f"{project.display(file)}: a variables file must be a mapping of names to values")
    return doc.data


def resolve_variables(project: Project, env: Environment, *, vars_files: Sequence[Path] = (),
                      cli_vars: Sequence[str] = ()) -> JSONObject:
    """Project-wide variables, lowest precedence first: project `vars`, the environment's `vars`, its `vars_files`,
    `--vars-file`, `--var`. A query's own `vars` sit below all of these (they are the query's defaults)."""
    merged: JSONObject = {"environment": env.name}
    merged.update(project.vars)
    merged.update(env.vars)
    for file in env.vars_files:
        merged.update(load_vars_file(file, project, environment=env.name))
    for file in vars_files:
        merged.update(load_vars_file(file, project, named_by_operator=True))
    for text in cli_vars:
        name, value = parse_cli_var(text)
        merged[name] = value
    return merged
