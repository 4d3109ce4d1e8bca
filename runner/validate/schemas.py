"""Schema validation into findings: query files (before rendering), specs (after), create bodies, `vqr.yaml`.

`load_schema_set` reads and compiles the generated schemas once per directory (ProjectError when one is missing or
invalid). `schema_findings` turns every validation error into one `Finding` at the document position to blame, plus a
warning for each deprecated field that is set; rule ids are `<prefix>/<kind>`, but a saved-query key inside the spec
is `spec/saved-query-key` (`saved_query.py`). No I/O besides `load_schema_set`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import ProjectError
from runner.model import Document, Finding, JSONPath, JSONValue, Severity
from runner.protojson import is_unset
from runner.repopath import PathProblem, read_regular_file
from runner.resources import (
    CREATE_BODY_FILE,
    EXCEPTIONS_FILE,
    PROJECT_FILE,
    QUERY_FILE_FILE,
    QUERY_SPEC_FILE,
    bundled_schemas_dir,
    replacement_of,
)
from runner.validate.fastcheck import fast_checker
from runner.validate.messages import Problem, explain, in_place
from runner.validate.saved_query import saved_query_problem

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_MAX_SCHEMA_BYTES = 64 * 1024 * 1024  # a generated schema is ~30 KiB
QUERY_PREFIX = "query"  # the query file before rendering; "spec" is the spec after it, "project" is vqr.yaml
SPEC_PREFIX = "spec"


class Validator:
    """One schema's validator: the schema; its fast yes (validate/fastcheck.py, our bundled schemas only: a yes skips
    jsonschema's walk, which would find nothing); its deprecation walker, built once; and jsonschema's Draft 2020-12
    validator, built on the first instance the fast check cannot pass. Why: a compile whose every file is valid then
    never imports jsonschema (about 70 ms of every `vqr run` and `vqr lint` start-up, with referencing and attrs)."""

    def __init__(self, schema: Mapping[str, Any], *, fast: Callable[[object], bool] | None = None) -> None:
        self.schema = schema
        self.fast = fast
        self._built: Any = None
        self._walker: _DeprecationWalker | None = None

    def surely_valid(self, instance: JSONValue) -> bool:
        return self.fast is not None and self.fast(instance)

    @property
    def walker(self) -> _DeprecationWalker:
        if self._walker is None:
            self._walker = _DeprecationWalker(root=self.schema)
        return self._walker

    def iter_errors(self, instance: object) -> Iterator[ValidationError]:
        if self._built is None:
            from jsonschema import Draft202012Validator

            self._built = Draft202012Validator(self.schema)
        errors: Iterator[ValidationError] = self._built.iter_errors(instance)
        return errors


@dataclass(frozen=True, kw_only=True)
class SchemaSet:
    """The compiled validators of one schemas directory; build it with `load_schema_set` (cached)."""

    query_file: Validator
    query_spec: Validator
    create_body: Validator
    project: Validator


def _is_bundled_copy(file: Path, data: bytes) -> bool:
    """The bundled schemas are checked against the metaschema by the test suite; checking them again in every
    process cost ~100 ms of each lint. A project's own (possibly vendor-built) schema is always checked."""
    try:
        return (bundled_schemas_dir() / file.name).read_bytes() == data
    except OSError:
        return False


def _compile(file: Path) -> Validator:
    data = read_regular_file(file, _MAX_SCHEMA_BYTES, root=None)  # a FIFO in schemas/ must not hang the lint
    if isinstance(data, PathProblem):
        if not (file.exists() or file.is_symlink()):
            raise ProjectError(f"{file}: schema file missing (run `vqr schema build`)")
        raise ProjectError(f"{file}: {data.reason}")
    try:
        schema = json.loads(data)
    except ValueError as exc:
        raise ProjectError(f"{file}: cannot read schema: {exc}") from None
    if not _is_bundled_copy(file, data):
        _check_schema(file, schema)
        return Validator(schema)
    return Validator(schema, fast=fast_checker(schema))  # only ours: fastcheck's guarantee is tested on them


def _check_schema(file: Path, schema: object) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)  # type: ignore[arg-type]  # any JSON: refused if not a schema
    except SchemaError as exc:
        raise ProjectError(f"{file}: not a valid JSON Schema: {exc.message}") from None


@functools.lru_cache(maxsize=8)
def _load(directory: Path, stamps: tuple[tuple[int, int], ...]) -> SchemaSet:
    del stamps  # part of the cache key only: a rebuilt schema file is compiled again
    return SchemaSet(query_file=_compile(directory / QUERY_FILE_FILE), query_spec=_compile(directory / QUERY_SPEC_FILE),
                     create_body=_compile(directory / CREATE_BODY_FILE), project=_compile(directory / PROJECT_FILE))


@functools.lru_cache(maxsize=1)
def exceptions_validator() -> Validator:
    """The bundled schemas/exceptions.schema.json: the format is vqr's own, so a project's schemas/ never redefines
    it (like vqr.yaml's schema)."""
    return _compile(bundled_schemas_dir() / EXCEPTIONS_FILE)


def load_schema_set(schemas_dir: Path) -> SchemaSet:
    """The compiled validators of `schemas_dir`; compiled once per directory and file version, then reused."""
    directory = schemas_dir.resolve()
    stamps = []
    for name in (QUERY_FILE_FILE, QUERY_SPEC_FILE, CREATE_BODY_FILE, PROJECT_FILE):
        try:
            stat = (directory / name).stat()
        except OSError:
            raise ProjectError(f"{directory / name}: schema file missing (run `vqr schema build`)") from None
        stamps.append((stat.st_mtime_ns, stat.st_size))
    return _load(directory, tuple(stamps))


@dataclass(frozen=True, kw_only=True)
class _Node:
    """What the deprecation walk needs of one schema: its properties' schemas and its items' schemas."""

    properties: Mapping[str, Sequence[Mapping[str, Any]]]
    items: Sequence[Mapping[str, Any]]


@dataclass(kw_only=True)
class _DeprecationWalker:
    """Finds deprecated fields by walking an instance along its schema; per-schema facts are memoized."""

    root: Mapping[str, Any]
    memo: dict[int, _Node] = field(default_factory=dict)

    def node(self, schema: Mapping[str, Any]) -> _Node:
        found = self.memo.get(id(schema))
        if found is None:
            properties: dict[str, list[Mapping[str, Any]]] = {}
            items: list[Mapping[str, Any]] = []
            for part in in_place(self.root, schema):
                for name, sub in (part.get("properties") or {}).items():
                    if isinstance(sub, Mapping):
                        properties.setdefault(name, []).append(sub)
                if isinstance(part.get("items"), Mapping):
                    items.append(part["items"])
            found = self.memo[id(schema)] = _Node(properties=properties, items=items)
        return found

    def walk(self, schema: Mapping[str, Any], value: Any, path: JSONPath, out: list[Problem]) -> None:
        node = self.node(schema)
        if isinstance(value, dict) and node.properties:
            for key, sub_value in value.items():
                subs = node.properties.get(key, ())
                deprecated = next((s for s in subs if s.get("deprecated") is True), None)
                # Veza's exports write every field, the deprecated ones too: an unset one (null, false, []) is
                # no use of it.
                if deprecated is not None and not is_unset(key, sub_value):
                    replacement = replacement_of(deprecated)
                    use = f"; use '{replacement}'" if replacement else ""
                    out.append(Problem(path=(*path, key), kind="deprecated", key=True, severity=Severity.WARNING,
                                       message=f"'{key}' is deprecated{use}"))
                for sub in subs:
                    self.walk(sub, sub_value, (*path, key), out)
        elif isinstance(value, list) and node.items:
            for index, item in enumerate(value):
                for sub in node.items:
                    self.walk(sub, item, (*path, index), out)


def _problems(validator: Validator, instance: JSONValue, *, deprecations: bool) -> list[Problem]:
    root = validator.schema
    problems = [] if validator.surely_valid(instance) else [
        problem for error in validator.iter_errors(instance) for problem in explain(error, root)]
    if deprecations:
        validator.walker.walk(root, instance, (), problems)
    return problems


def schema_problems(validator: Validator, instance: JSONValue) -> list[Problem]:
    """Every schema error of `instance` as a `Problem` (no deprecation warnings); a value the fast check passes
    costs no jsonschema walk."""
    return _problems(validator, instance, deprecations=False)


def _spec_path(rule_prefix: str, base: JSONPath) -> JSONPath | None:
    """Where the spec sits in the document: under `spec:` of a query file (both before and after rendering)."""
    if rule_prefix == QUERY_PREFIX:
        return ("spec",)
    return base if rule_prefix == SPEC_PREFIX else None


@dataclass(frozen=True, kw_only=True)
class SchemaResult:
    """What one schema check found, and where, so that later rules skip exactly the rejected subtrees instead of the
    whole file: `invalid` holds the document path of each value an error is about, `missing` each required key's
    own path, `unknown` each unknown key's (no rule reads it, but a walk of every mapping must not see it)."""

    findings: list[Finding]
    invalid: frozenset[JSONPath] = frozenset()
    missing: frozenset[JSONPath] = frozenset()
    unknown: frozenset[JSONPath] = frozenset()


def _within(path: JSONPath, roots: frozenset[JSONPath]) -> bool:
    return any(path[:len(root)] == root for root in roots)


def schema_check(validator: Validator, instance: JSONValue, doc: Document, *, base: JSONPath = (),
                 rule_prefix: str, deprecations: bool | None = None,
                 ignore: frozenset[JSONPath] = frozenset()) -> SchemaResult:
    """Every schema problem of `instance` (found at `base` inside `doc`) as findings `<rule_prefix>/<kind>`.

    Deprecated fields are warned about unless `deprecations` is False; by default not for the `query` prefix: the
    spec is checked again after rendering, and its deprecated fields are reported there once, as `spec/deprecated`.
    Problems at or under an `ignore` path (a template that failed to render: its finding says why) are dropped.
    """
    if deprecations is None:
        deprecations = rule_prefix != QUERY_PREFIX
    spec_path = _spec_path(rule_prefix, base)
    findings: dict[tuple[int, int, str, str], Finding] = {}
    where: dict[str, set[JSONPath]] = {"required": set(), "unknown-key": set(), "": set()}
    for found in _problems(validator, instance, deprecations=deprecations):
        path = (*base, *found.path)
        if ignore and _within(path, ignore):
            continue
        problem = saved_query_problem(found, path, spec_path) or found
        finding = doc.finding(path, rule=problem.rule or f"{rule_prefix}/{problem.kind}", message=problem.message,
                              severity=problem.severity, key=problem.key)
        findings.setdefault((finding.line, finding.column, finding.rule, finding.message), finding)
        if finding.severity is Severity.ERROR:
            where.get(found.kind, where[""]).add((*path, found.missing) if found.missing else path)
    return SchemaResult(findings=sorted(findings.values(), key=lambda f: f.sort_key), invalid=frozenset(where[""]),
                        missing=frozenset(where["required"]), unknown=frozenset(where["unknown-key"]))


def schema_findings(validator: Validator, instance: JSONValue, doc: Document, *, base: JSONPath = (),
                    rule_prefix: str, deprecations: bool | None = None) -> list[Finding]:
    """`schema_check`'s findings alone."""
    return schema_check(validator, instance, doc, base=base, rule_prefix=rule_prefix,
                        deprecations=deprecations).findings


def check_create_body(schema_set: SchemaSet, body: JSONValue) -> list[str]:
    """The errors of a create-request body as plain sentences, each prefixed by its dotted path (no warnings)."""
    messages = []
    for problem in _problems(schema_set.create_body, body, deprecations=False):
        where = ".".join(str(step) for step in problem.path)
        text = f"{where}: {problem.message}" if where else problem.message
        if text not in messages:
            messages.append(text)
    return messages


def deprecated_fields(schema_set: SchemaSet, body: JSONValue) -> list[str]:
    """Warnings for the deprecated fields a create-request body uses (e.g. the top-level `request`)."""
    problems: list[Problem] = []
    schema_set.create_body.walker.walk(schema_set.create_body.schema, body, (), problems)
    return [problem.message for problem in problems]


def drop_repeated(earlier: Iterable[Finding], later: Iterable[Finding]) -> list[Finding]:
    """`later` without the findings that repeat one of `earlier` (same place, same kind of problem).

    The query file is checked before rendering and its spec again after: a literal typo fails both checks, with
    rule ids `query/<kind>` then `spec/<kind>`; keep only the first.
    """
    seen = {(f.path, f.line, f.column, f.rule.partition("/")[2]) for f in earlier}
    return [f for f in later if (f.path, f.line, f.column, f.rule.partition("/")[2]) not in seen]


__all__ = ["SchemaResult", "SchemaSet", "Validator", "check_create_body", "deprecated_fields", "drop_repeated",
           "load_schema_set", "schema_check", "schema_findings", "schema_problems"]
