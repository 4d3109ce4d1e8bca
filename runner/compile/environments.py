"""Compile a query repository against several environments at once and merge what each one found (`vqr lint`).

Input: a `Project`, each environment's resolved variables (name -> variables, in the project's order), the files.
Output: one `Compiled` per environment and the merged findings: a finding every environment has is reported once,
unchanged; one that only some have names them (` [env: prod, staging]`). A file is compiled once per distinct value
of the variables it can read, so linting three environments costs little more than one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from runner.compile.lintcache import context_key
from runner.compile.queries import to_query
from runner.compile.repository import Compiled, RepositoryCompiler
from runner.errors import UsageError
from runner.load import read_source
from runner.model import Finding, JSONValue, QueryUnit, Severity
from runner.rules import finish_lint
from runner.settings import DEFAULT_ENV, Environment, Project
from runner.suggest import did_you_mean
from runner.template import LintLimits
from runner.validate import SchemaSet

# Every word of a file is a name its templates might read. A superset is enough: a name read by no template only
# splits a group of environments that could have shared one compile. YAML escapes (`"\x78"` is `x`) could hide a
# name from this scan, so a file with a backslash is compiled in each environment whose variables differ.
# Words are Unicode (`\w`): Jinja names may be any Python identifier, `größe` included.
_WORD = re.compile(r"\w+")
_ABSENT = object()


@dataclass(frozen=True, kw_only=True)
class EnvironmentsCompiled:
    per_environment: Mapping[str, Compiled]  # in the project's order
    findings: tuple[Finding, ...]  # merged, sorted; `environments` names where each one holds
    files_checked: int


def lint_environments(project: Project, name: str | None) -> list[Environment]:
    """Every environment of vqr.yaml, in its order (none declared: the default one), or only `name` (`--env`).
    `VQR_ENV` is not read: it picks where a run goes, and lint must not narrow itself silently in CI."""
    if name is None:
        return list(project.environments.values()) or [project.environment(None)]
    if name in project.environments or name == DEFAULT_ENV or not project.environments:  # as `run --env` does
        return [project.environment(name)]
    known = ", ".join(project.environments)
    raise UsageError(f"unknown environment '{name}'{did_you_mean(name, project.environments)} (known: {known})")


def environment_suffix(names: Sequence[str]) -> str:
    return f" [env: {', '.join(names)}]"


def merge_findings(per_environment: Mapping[str, Sequence[Finding]]) -> tuple[Finding, ...]:
    """One finding per (file, line, col, rule, message): unchanged (its `environments` every name) when every
    environment has it, else with the environments that have it named at the end of its message."""
    order = list(per_environment)
    where: dict[tuple[str, int, int, str, str], tuple[Finding, list[str]]] = {}
    for name in order:
        for finding in per_environment[name]:
            entry = where.setdefault(finding.sort_key, (finding, []))
            if name not in entry[1]:
                entry[1].append(name)
    merged = []
    for finding, names in where.values():
        if len(names) == len(order):
            merged.append(replace(finding, environments=tuple(order)))
        else:
            merged.append(replace(finding, environments=tuple(names),
                                  message=finding.message + environment_suffix(names)))
    return tuple(sorted(merged, key=lambda f: f.sort_key))


def _varying(variables: Mapping[str, Mapping[str, JSONValue]], fragments: Mapping[str, object]) -> set[str]:
    """The names whose values are not the same in every environment (absent counts as a value)."""
    names = {name for values in variables.values() for name in values}
    varying = {name for name in names
               if len({repr(values.get(name, _ABSENT)) for values in variables.values()}) > 1}
    if len({repr(value) for value in fragments.values()}) > 1:
        varying.add("fragments")
    return varying


def _groups(data: bytes, order: Sequence[str], varying: set[str],
            variables: Mapping[str, Mapping[str, JSONValue]]) -> list[list[str]]:
    """Environments that compile this file to the same result, grouped: equal values of every varying name the
    file mentions. The representative of each group (its first) is the one that compiles it."""
    if not varying:
        return [list(order)]
    used = varying if b"\\" in data else varying & set(_WORD.findall(data.decode("utf-8", "replace")))
    if not used:
        return [list(order)]
    groups: dict[str, list[str]] = {}
    for name in order:
        values = variables[name]
        signature = repr([(key, values.get(key, _ABSENT)) for key in sorted(used)])
        groups.setdefault(signature, []).append(name)
    return list(groups.values())


def compile_environments(project: Project, schemas: SchemaSet, variables: Mapping[str, Mapping[str, JSONValue]],
                         *, files: Sequence[Path], lint_cache_key: Path | None = None,
                         limits: LintLimits | None = None) -> EnvironmentsCompiled:
    """Each environment's compile (each with its own lint cache, keyed by its variables), sharing every file's
    compile between the environments it cannot tell apart."""
    order = list(variables)
    compilers = {name: RepositoryCompiler(project, schemas, variables[name], lint_cache_key=lint_cache_key,
                                          limits=limits) for name in order}
    found: dict[str, list[Finding]] = {name: list(compilers[name].findings) for name in order}  # fragments'
    units: dict[str, list[QueryUnit]] = {name: [] for name in order}
    varying = _varying(variables, {name: compilers[name].fragments for name in order})
    disabled: dict[str, frozenset[str]] = {}
    for file in files:
        # Read under the path policy (a FIFO must not hang the lint); a refused file is refused alike everywhere.
        source = read_source(file, path=project.display(file), root=project.root) if varying else b""
        data = source if isinstance(source, bytes) else b""
        for group in _groups(data, order, varying, variables):
            compiler = compilers[group[0]]
            start = len(compiler.findings)
            made = compiler.compile_file(file)
            new = compiler.findings[start:]
            for name in group:
                units[name] += made
                found[name] += new
            disabled.update(compiler.disabled)
    per_environment: dict[str, Compiled] = {}
    for name in order:
        compiler = compilers[name]
        if compiler.cache is not None:
            compiler.cache.finish()
        findings = finish_lint(found[name], units[name], compiler.rules, doc_disabled=disabled)
        per_environment[name] = Compiled(units=tuple(units[name]),
                                         queries=tuple(to_query(u, project.defaults.cache) for u in units[name]),
                                         findings=tuple(findings), files_checked=len(files))
    merged = merge_findings({name: c.findings for name, c in per_environment.items()})
    return EnvironmentsCompiled(per_environment=per_environment, findings=merged, files_checked=len(files))


def compile_contexts(project: Project, schemas: SchemaSet,
                     variables: Mapping[str, Mapping[str, JSONValue]]) -> dict[str, str | None]:
    """Per environment, the key of everything besides a query file's own bytes that decides what compiling it
    yields (`lintcache.context_key`, place-independent), or None when it cannot be taken (an unreadable schema):
    two checkouts whose keys agree compile a byte-identical file identically, so only changed files need compiling."""
    keys: dict[str, str | None] = {}
    for name, values in variables.items():
        compiler = RepositoryCompiler(project, schemas, values)
        try:
            keys[name] = context_key(root=None, project_file=project.file, schemas_dir=project.schemas_dir,
                                     variables=compiler.variables, fragments=compiler.fragments)
        except (OSError, TypeError, ValueError):
            keys[name] = None
        if any(f.severity is Severity.ERROR for f in compiler.findings):
            keys[name] = None  # a broken fragment: its files' results depend on more than the key says
    return keys
