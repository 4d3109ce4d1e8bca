"""The project file (`vqr.yaml`) and the process environment, each read once into a frozen value.

`load_project(file)` → `Project` (or `ProjectError`, exit 2, listing every problem at its line and column), its `api:`
section the client's `ApiProtocol`; `read_env()` → `ProcessEnv`. This is the only module that reads `os.environ`
(ruff's banned-API rule enforces it): everything else is handed the `ProcessEnv` it needs. Reads files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.durations import parse_duration
from runner.errors import ProjectError, UsageError
from runner.findings.text import format_abort
from runner.load import load_yaml_file
from runner.model import Document, Finding, JSONObject, JSONValue, Position, Severity
from runner.model.exceptions import ExceptionSettings
from runner.model.notify import NotifySettings
from runner.model.protocol import ApiProtocol
from runner.model.query import DEFAULT_MAX_STALENESS
from runner.rates import BudgetSettings, budget_settings
from runner.repopath import PathProblem, Problem, check_file, lexically_within, outside_root
from runner.resources import CREATE_BODY_FILE, QUERY_FILE_FILE, QUERY_SPEC_FILE, bundled_schemas_dir
from runner.resources import PROJECT_FILE as PROJECT_SCHEMA_FILE

PROJECT_FILE = "vqr.yaml"
LINT_CACHE_KEY_ENV = "VQR_LINT_CACHE_KEY_FILE"  # where the lint cache's signing key lives
NO_LINT_CACHE_ENV = "VQR_NO_LINT_CACHE"  # set to 1 to neither read nor write the lint cache
DEFAULT_ENV = "sandbox"
EMBEDDED_URL = "embedded"


@dataclass(frozen=True, kw_only=True)
class Environment:
    name: str
    url: str  # "embedded" starts the sandbox in-process
    api_key_env: str = "VEZA_API_KEY"
    api_key_file: Path | None = None
    ca_bundle: Path | None = None
    vars: Mapping[str, JSONValue] = field(default_factory=dict)
    vars_files: tuple[Path, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Defaults:
    cache: Mapping[str, JSONValue]
    concurrency: int
    timeout: str
    max_reply_mib: int = 64  # one reply (one page) read into memory at most; Veza's page sizes are unpublished


@dataclass(frozen=True, kw_only=True)
class Project:
    root: Path
    file: Path
    queries_dir: Path
    reports_dir: Path
    schemas_dir: Path  # the project's own schemas/ when it has one, else the bundled copy
    defaults: Defaults
    environments: Mapping[str, Environment]
    vars: Mapping[str, JSONValue]
    node_types: frozenset[str]
    disabled_rules: frozenset[str]
    retention: int
    ocsf: bool = False  # vqr.yaml `outputs: {ocsf: true}`: `vqr run` also writes findings.ocsf.jsonl
    api: ApiProtocol = field(default_factory=ApiProtocol)  # vqr.yaml `api:`: the poll's assumed protocol facts
    budget: BudgetSettings | None = None  # vqr.yaml `api.budget`: the submit rate shards share (None: unpaced)
    notify: NotifySettings = field(default_factory=NotifySettings)  # vqr.yaml `notify:`: where URLs are, not URLs
    exceptions: ExceptionSettings = field(default_factory=ExceptionSettings)  # vqr.yaml `exceptions:`

    def display(self, path: Path) -> str:
        """How a file is named in findings: relative to the project root, with forward slashes."""
        try:  # files found under the (resolved) root need no realpath call: ~3,000 of them cost 60 ms
            return path.relative_to(self.root).as_posix()
        except ValueError:
            pass
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def environment(self, name: str | None, process: ProcessEnv | None = None) -> Environment:
        """`name`, else `VQR_ENV` from `process`, else the sandbox."""
        chosen = name or (process.default_env if process is not None else None) or DEFAULT_ENV
        if chosen in self.environments:
            return self.environments[chosen]
        if chosen == DEFAULT_ENV:  # the sandbox needs no configuration
            return Environment(name=DEFAULT_ENV, url=EMBEDDED_URL)
        known = ", ".join(sorted(self.environments)) or "none"
        raise UsageError(f"unknown environment '{chosen}' (known: {known})")


@dataclass(frozen=True, kw_only=True)
class ProcessEnv:
    """What vqr takes from the process environment (README: Environment), read once and passed down.

    `variables` is kept for the API key lookup only (`secret.load_api_key`: the variable's name comes from
    vqr.yaml); it is left out of `repr` so that no key reaches a log or a traceback.
    """

    default_env: str | None = None  # VQR_ENV
    veza_url: str | None = None  # VEZA_URL: overrides the environment's url
    ssl_cert_file: Path | None = None  # SSL_CERT_FILE: a private CA
    step_summary: Path | None = None  # GITHUB_STEP_SUMMARY
    lint_cache_key_file: Path | None = None  # None: VQR_NO_LINT_CACHE is set, so no lint cache
    sandbox: Mapping[str, str] = field(default_factory=dict)  # VQR_SANDBOX_LATENCY / _NODES / _SEED
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)


def read_env(variables: Mapping[str, str] | None = None) -> ProcessEnv:
    """The `ProcessEnv` of `variables` (default: this process's environment)."""
    source = dict(os.environ if variables is None else variables)

    def path(name: str) -> Path | None:
        return Path(source[name]) if source.get(name) else None

    key_file = path(LINT_CACHE_KEY_ENV)
    if key_file is None:
        try:
            key_file = Path(source.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vqr" / "lint-cache.key"
        except RuntimeError:  # no home directory (a bare container): lint without the cache rather than fail
            key_file = None
    return ProcessEnv(
        default_env=source.get("VQR_ENV") or None, veza_url=source.get("VEZA_URL") or None,
        ssl_cert_file=path("SSL_CERT_FILE"), step_summary=path("GITHUB_STEP_SUMMARY"),
        lint_cache_key_file=None if source.get(NO_LINT_CACHE_ENV, "") not in ("", "0") else key_file,
        sandbox={k: v for k, v in source.items() if k.startswith("VQR_SANDBOX_")},
        variables=source)


def find_project_file(start: Path) -> Path:
    """Walk up from `start` to the first directory holding vqr.yaml, like git finds its repository."""
    here = start.resolve()
    for directory in (here, *here.parents):
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
    raise ProjectError(f"no {PROJECT_FILE} found in {here} or any parent directory (create one with `vqr init`)")


def load_project(file: Path) -> Project:
    from runner.validate.schemas import load_schema_set, schema_findings  # deferred: compiling schemas is not free

    # The directory holding vqr.yaml, not its symlink's target's: a checked-in `vqr.yaml -> /elsewhere` must not move
    # the project (and so what the path policy allows) out of the checkout.
    root = file.absolute().parent.resolve()
    doc, findings = load_yaml_file(file, path=PROJECT_FILE, root=root)
    if doc is not None and not _has_errors(findings):
        bundled = load_schema_set(bundled_schemas_dir())
        findings += schema_findings(bundled.project, doc.data, doc, rule_prefix="project")
    if doc is not None and not _has_errors(findings):
        findings += _path_findings(root, doc) + _api_findings(doc)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if doc is None or errors:
        raise ProjectError("invalid project file:\n" + format_abort(errors or findings))
    return _build_project(root, file, doc)


_SCHEMA_FILES = (QUERY_FILE_FILE, QUERY_SPEC_FILE, CREATE_BODY_FILE, PROJECT_SCHEMA_FILE)


def _path_findings(root: Path, doc: Document) -> list[Finding]:
    """The path policy (`runner.repopath`) on vqr.yaml's paths that are read: `queries:`, `schemas:` (and the schema
    files there) and every environment's `vars_files:` must stay inside the project, symlinks resolved; a finding at
    the value. `reports:` is written, not read, and may be anywhere."""
    data = _object(doc.data)
    references: list[tuple[str, tuple[str | int, ...], JSONValue]] = [
        (key, (key,), data.get(key, key)) for key in ("queries", "schemas")]
    if "dir" in _object(data.get("exceptions")):  # read like queries/: it must stay inside the project too
        references.append(("exceptions dir", ("exceptions", "dir"), _object(data.get("exceptions"))["dir"]))
    for name, raw in _object(data.get("environments")).items():
        for index, entry in enumerate(_items(_object(raw).get("vars_files"))):
            references.append(("vars_files entry", ("environments", name, "vars_files", index), entry))
    findings: list[Finding] = []
    for label, where, value in references:
        problem = outside_root(root, root / str(value))
        if problem is not None:
            findings.append(_path_finding(doc, where, f"{label} {str(value)[:80]!r} {problem.reason}", problem))
    schemas_dir = root / _text(data.get("schemas"), "schemas")
    if not findings and (schemas_dir / QUERY_SPEC_FILE).exists():  # the project's own schemas are used: check them
        for name in _SCHEMA_FILES:
            problem = check_file(schemas_dir / name, root=root)
            if problem is not None and problem.kind is not Problem.UNREADABLE:  # a missing one: load_schema_set says
                findings.append(_path_finding(doc, ("schemas",), f"schema file {name} {problem.reason}", problem))
    return findings


def _api_findings(doc: Document) -> list[Finding]:
    """What the schema cannot say of `api:`: a status word that is both a success and a failure, a budget of 0/s."""
    api = _object(_object(doc.data).get("api"))
    findings = []
    for where, check in ((("api",), lambda: ApiProtocol.from_section(api)),
                         (("api", "budget", "rate"), lambda: budget_settings(_object(api.get("budget")), Path()))):
        try:
            check()
        except (ValueError, UsageError) as error:
            at = doc.values.get(where, Position(line=1, column=1))
            findings.append(Finding(path=doc.path, line=at.line, column=at.column, severity=Severity.ERROR,
                                    rule="project/api", message=str(error)))
    return findings


def _path_finding(doc: Document, where: tuple[str | int, ...], message: str, problem: PathProblem) -> Finding:
    at = doc.values.get(where, Position(line=1, column=1))
    rule = "path/outside-project" if problem.kind is Problem.OUTSIDE else "path/not-a-file"
    return Finding(path=doc.path, line=at.line, column=at.column, severity=Severity.ERROR, rule=rule,
                   message=message)


def _has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


# The project file has passed its schema (load_project) before it is read: these only narrow the JSON types, with
# the schema's defaults, so the settings are typed without casts.
def _object(value: JSONValue) -> JSONObject:
    return value if isinstance(value, dict) else {}


def _items(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []


def _integer(value: JSONValue, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _text(value: JSONValue, default: str) -> str:
    return value if isinstance(value, str) else default


def _build_project(root: Path, file: Path, doc: Document) -> Project:
    data = _object(doc.data)
    defaults = _object(data.get("defaults"))
    schemas_dir = root / _text(data.get("schemas"), "schemas")
    if not (schemas_dir / "query-spec.schema.json").is_file():
        schemas_dir = bundled_schemas_dir()
    environments = {
        name: _environment(root, name, _object(raw))
        for name, raw in _object(data.get("environments")).items()
    }
    rules = _object(data.get("rules"))
    return Project(
        root=root,
        file=file.resolve(),
        queries_dir=(root / str(data.get("queries", "queries"))).resolve(),
        reports_dir=root / str(data.get("reports", "reports")),
        schemas_dir=schemas_dir,
        defaults=Defaults(
            cache=_object(defaults.get("cache")) or {"mode": "if_available", "max_staleness": DEFAULT_MAX_STALENESS},
            concurrency=_integer(defaults.get("concurrency"), 8),
            timeout=str(defaults.get("timeout", "15m")),
            max_reply_mib=_integer(defaults.get("max_reply_mib"), 64),
        ),
        environments=environments,
        vars=_object(data.get("vars")),
        node_types=frozenset(str(t) for t in _items(data.get("node_types"))),
        disabled_rules=frozenset(str(r) for r in _items(rules.get("disable"))),
        retention=_integer(data.get("retention"), 30),
        ocsf=_object(data.get("outputs")).get("ocsf") is True,
        api=ApiProtocol.from_section(_object(data.get("api"))),
        budget=budget_settings(_object(_object(data.get("api")).get("budget")), root),
        notify=NotifySettings.from_section(_object(data.get("notify")), root=root,
                                           deadline_seconds=parse_duration(_object(data.get("notify")).get("deadline"))),
        exceptions=ExceptionSettings.from_section(_object(data.get("exceptions"))),
    )


def _environment(root: Path, name: str, raw: JSONObject) -> Environment:
    key_file = raw.get("api_key_file")
    ca_bundle = raw.get("ca_bundle")
    return Environment(
        name=name,
        url=str(raw.get("url", EMBEDDED_URL)),
        api_key_env=str(raw.get("api_key_env", "VEZA_API_KEY")),
        api_key_file=root / str(key_file) if key_file else None,
        ca_bundle=root / str(ca_bundle) if ca_bundle else None,
        vars=_object(raw.get("vars")),
        vars_files=tuple(root / str(p) for p in _items(raw.get("vars_files"))),
    )


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
    if doc is None or _has_errors(findings):
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
