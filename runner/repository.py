"""Compile a query repository: discover files, load them hardened, check, render, expand matrices, check again.

Input: a `Project`, the resolved variables, optionally the files to check. Output: `Compiled` — the rendered
`QueryUnit`s that are clean enough to plan, and every `Finding`, in one pass. Reads files; never sends anything.
A file that fails an early stage stops there, so one problem is reported once, where it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from runner.load import load_yaml_file
from runner.model import Document, Finding, JSONObject, JSONValue, QueryUnit, Severity
from runner.plan import matrix_combinations
from runner.rules import RuleContext, check_units, filter_disabled
from runner.settings import Project
from runner.template import Renderer
from runner.validate import SchemaSet, schema_findings

FRAGMENTS_DIR = "_fragments"
VARS_DIR = "vars"
QUERY_SUFFIXES = (".yaml", ".yml")
NOT_RENDERED = frozenset({"matrix", "vars"})  # inputs of the render, not outputs


@dataclass(frozen=True, kw_only=True)
class Compiled:
    units: tuple[QueryUnit, ...]
    findings: tuple[Finding, ...]
    files_checked: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


def _is_support_file(project: Project, file: Path) -> bool:
    """Fragments and variable files live beside queries but are not queries."""
    try:
        parts = file.resolve().relative_to(project.queries_dir.resolve()).parts
    except ValueError:
        return False
    return bool(parts) and parts[0] in {FRAGMENTS_DIR, VARS_DIR}


def discover_query_files(project: Project, paths: Sequence[Path] = ()) -> list[Path]:
    """The query files to check: all of `queries/` by default, else the given files and directories."""
    roots = list(paths) or [project.queries_dir]
    found: set[Path] = set()
    for root in roots:
        if root.is_dir():
            found.update(p for p in root.rglob("*") if p.suffix in QUERY_SUFFIXES and p.is_file())
        else:
            found.add(root)
    return sorted((p for p in found if not _is_support_file(project, p)), key=lambda p: p.as_posix())


def _has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


class RepositoryCompiler:
    """Holds what is shared by every file of one compile: schemas, the template cache, variables, fragments."""

    def __init__(self, project: Project, schemas: SchemaSet, variables: Mapping[str, JSONValue]) -> None:
        self.project = project
        self.schemas = schemas
        self.variables = dict(variables)
        self.renderer = Renderer()
        self.findings: list[Finding] = []
        self.disabled: dict[str, frozenset[str]] = {}  # per-file `# vqr: disable=` comments, by display path
        self.fragments = self._load_fragments()

    def _load_fragments(self) -> JSONObject:
        """`queries/_fragments/NAME.yaml` -> `fragments.NAME`, rendered with the project variables."""
        fragments: JSONObject = {}
        directory = self.project.queries_dir / FRAGMENTS_DIR
        files = sorted(p for p in directory.glob("*") if p.suffix in QUERY_SUFFIXES) if directory.is_dir() else []
        for file in files:
            doc, found = load_yaml_file(file, path=self.project.display(file))
            self.findings += found
            if doc is None or _has_errors(found):
                continue
            value, found = self.renderer.render(doc.data, variables=self.variables, doc=doc, base=())
            self.findings += found
            fragments[file.stem] = value
        return fragments

    def compile_file(self, file: Path) -> list[QueryUnit]:
        doc, found = load_yaml_file(file, path=self.project.display(file))
        self.findings += found
        if doc is None or _has_errors(found):
            return []
        self.disabled[doc.path] = doc.disabled_rules
        found = schema_findings(self.schemas.query_file, doc.data, doc, rule_prefix="query")
        self.findings += found
        if _has_errors(found) or not isinstance(doc.data, dict):
            return []
        return self._expand(doc, doc.data)

    def _expand(self, doc: Document, data: JSONObject) -> list[QueryUnit]:
        own_vars = cast(JSONObject, data.get("vars") or {})
        units: list[QueryUnit] = []
        seen: set[Finding] = set()
        for combination in matrix_combinations(cast(JSONObject | None, data.get("matrix"))):
            variables = {**own_vars, **self.variables, **combination, "fragments": self.fragments}
            body: JSONObject = {}
            problems: list[Finding] = []
            for key, value in data.items():
                if key in NOT_RENDERED:
                    body[key] = value
                    continue
                body[key], found = self.renderer.render(value, variables=variables, doc=doc, base=(key,))
                problems += found
            if not _has_errors(problems) and "spec" in body:
                problems += schema_findings(self.schemas.query_spec, body["spec"], doc, base=("spec",),
                                            rule_prefix="spec")
            # A problem in a template shared by every combination is reported once, not once per combination.
            fresh = [f for f in problems if f not in seen]
            seen.update(fresh)
            self.findings += fresh
            if not _has_errors(problems):
                units.append(QueryUnit(doc=doc, name=str(body.get("name", "")), matrix=combination, body=body))
        return units


def compile_repository(project: Project, schemas: SchemaSet, variables: Mapping[str, JSONValue], *,
                       files: Sequence[Path]) -> Compiled:
    compiler = RepositoryCompiler(project, schemas, variables)
    units: list[QueryUnit] = []
    for file in files:
        units += compiler.compile_file(file)
    context = RuleContext(known_node_types=_known_types(project), disabled=project.disabled_rules)
    findings = compiler.findings + check_units(units, context)
    kept = filter_disabled(findings, project_disabled=project.disabled_rules, doc_disabled=compiler.disabled)
    return Compiled(units=tuple(units), findings=tuple(sorted(set(kept), key=lambda f: f.sort_key)),
                    files_checked=len(files))


def _known_types(project: Project) -> frozenset[str]:
    from runner.catalog import known_node_types

    return known_node_types(project.node_types)
