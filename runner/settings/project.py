"""The project file (`vqr.yaml`), read once into a frozen `Project`.

`find_project_file(start)` walks up to the nearest vqr.yaml; `load_project(file)` → `Project` (or `ProjectError`,
exit 2, listing every problem at its line and column), its `api:` section the client's `ApiProtocol`. Reads files.
"""

from __future__ import annotations

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
from runner.model.publish import PublishSettings
from runner.model.query import DEFAULT_MAX_STALENESS
from runner.rates import BudgetSettings, budget_settings
from runner.repopath import PathProblem, Problem, check_file, outside_root
from runner.resources import CREATE_BODY_FILE, QUERY_FILE_FILE, QUERY_SPEC_FILE, bundled_schemas_dir
from runner.resources import PROJECT_FILE as PROJECT_SCHEMA_FILE
from runner.settings.process import ProcessEnv

PROJECT_FILE = "vqr.yaml"
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
    publish: PublishSettings = field(default_factory=PublishSettings)  # vqr.yaml `publish:` (`vqr publish`)

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
        publish=PublishSettings.from_section(_object(data.get("publish"))),
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
