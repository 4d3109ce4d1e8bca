"""Compile a query repository: discover files, load them hardened, check, render, expand matrices, check again.

Input: a `Project`, the resolved variables, optionally the files to check. Output: `Compiled` — the rendered
`QueryUnit`s that are clean enough to plan, and every `Finding`, in one pass. Reads files; never sends anything.
A file that parses is checked whole in one pass: its schema findings and its meaning rules together, only the rules
reading a rejected value skipping it (one note per file); YAML errors stop the file. One `LintBudget` (time,
rendered bytes, combinations) is shared by every file; what it could not pay for is a finding, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.catalog import known_node_types
from runner.compile.codec import FileResult
from runner.compile.lintcache import LintCache
from runner.compile.matrix import MATRIX_RULE, describe_size, matrix_combinations, matrix_size
from runner.compile.queries import to_query
from runner.load import disable_comments, load_yaml, load_yaml_file, read_source
from runner.model import Document, Finding, JSONObject, JSONPath, JSONValue, Position, Query, QueryUnit, Severity
from runner.rules import (
    PROJECT_UNKNOWN_RULE,
    QUERY_UNKNOWN_RULE,
    RuleContext,
    Skip,
    Validity,
    check_valid_parts,
    finish_lint,
    skipped_note,
    unknown_disables,
    unknown_rule_patterns,
)
from runner.settings import Project
from runner.template import BUDGET_RULE, NOT_CHECKED_RULE, LintBudget, LintLimits, Renderer
from runner.validate import SchemaResult, SchemaSet, drop_repeated, schema_check

FRAGMENTS_DIR = "_fragments"
VARS_DIR = "vars"
QUERY_SUFFIXES = (".yaml", ".yml")
NOT_RENDERED = frozenset({"matrix", "vars"})  # inputs of the render, not outputs


@dataclass(frozen=True, kw_only=True)
class Compiled:
    units: tuple[QueryUnit, ...]  # what the rules saw: the rendered bodies, with their documents' positions
    queries: tuple[Query, ...]  # the same queries, typed, for plan, render and ls (one per unit, in order)
    findings: tuple[Finding, ...]
    files_checked: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


def _is_support_file(project: Project, file: Path) -> bool:
    """Fragments and variable files live beside queries but are not queries."""
    try:
        parts = file.relative_to(project.queries_dir).parts
    except ValueError:
        try:
            parts = file.resolve().relative_to(project.queries_dir.resolve()).parts
        except ValueError:
            return False
    return bool(parts) and parts[0] in {FRAGMENTS_DIR, VARS_DIR}


def _candidates(directory: Path, pattern: str) -> list[Path]:
    """Every non-directory with a query suffix: a FIFO, a device or a symlink is kept, so that reading it reports
    why it is refused (the path policy in `read_source`) instead of it vanishing from the lint. `rglob` does not
    descend into symlinked directories."""
    return [p for p in directory.glob(pattern) if p.suffix in QUERY_SUFFIXES and not p.is_dir()]


def discover_query_files(project: Project, paths: Sequence[Path] = ()) -> list[Path]:
    """The query files to check: all of `queries/` by default, else the given files and directories."""
    roots = list(paths) or [project.queries_dir]
    found: set[Path] = set()
    for root in roots:
        if root.is_dir():
            found.update(_candidates(root, "**/*"))
        else:
            found.add(root)
    exceptions = (project.root / project.exceptions.dir).resolve()
    # An exceptions file is never a query, even with `exceptions: {dir}` inside `queries/`.
    return sorted((p for p in found if not _is_support_file(project, p) and not p.resolve().is_relative_to(exceptions)),
                  key=lambda p: p.as_posix())


def _has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


class RepositoryCompiler:
    """Holds what is shared by every file of one compile: schemas, the template cache, variables, fragments."""

    def __init__(self, project: Project, schemas: SchemaSet, variables: Mapping[str, JSONValue], *,
                 lint_cache_key: Path | None = None, limits: LintLimits | None = None) -> None:
        """`lint_cache_key` is the lint cache's signing key file (`ProcessEnv.lint_cache_key_file`); None: no cache.
        `limits`: the lint budget's (default: `LintLimits()`)."""
        if limits is not None and limits != LintLimits():
            lint_cache_key = None  # cached results hold only under the default limits, which the cache key covers
        self.project = project
        self.rules = RuleContext(known_node_types=known_node_types(project.node_types),
                                 disabled=project.disabled_rules)
        self.schemas = schemas
        self.variables = dict(variables)
        self.budget = LintBudget(limits)
        self.renderer = Renderer(self.budget)
        self.findings: list[Finding] = []
        self.disabled: dict[str, frozenset[str]] = {}  # per-file `# vqr: disable=` comments, by display path
        self.findings += self._unknown_project_disables()
        self.fragments = self._load_fragments()
        # The fragments are rendered first: they are part of what decides every file's result, hence of the key.
        self.cache = LintCache.open(root=project.root, project_file=project.file, schemas_dir=project.schemas_dir,
                                    variables=self.variables, fragments=self.fragments, key_file=lint_cache_key)

    def _unknown_project_disables(self) -> list[Finding]:
        """vqr.yaml's `rules.disable` entries that match no rule. The project keeps no positions, so only then is
        vqr.yaml loaded again, to point at the entries."""
        if not unknown_rule_patterns(self.project.disabled_rules):
            return []
        display = self.project.display(self.project.file)
        doc, _ = load_yaml_file(self.project.file, path=display, root=self.project.root)
        rules = doc.data.get("rules") if doc is not None and isinstance(doc.data, dict) else None
        entries = rules.get("disable") if isinstance(rules, dict) else None
        if doc is None or not isinstance(entries, list):
            return []
        start = Position(line=1, column=1)
        placed = [(str(entry), doc.values.get(("rules", "disable", index), start))
                  for index, entry in enumerate(entries)]
        return unknown_disables(placed, path=display, rule=PROJECT_UNKNOWN_RULE)

    def _load_fragments(self) -> JSONObject:
        """`queries/_fragments/NAME.yaml` -> `fragments.NAME`, rendered with the project variables."""
        fragments: JSONObject = {}
        directory = self.project.queries_dir / FRAGMENTS_DIR
        files = sorted(_candidates(directory, "*")) if directory.is_dir() else []
        for file in files:  # a fragment symlinked to ~/.ssh/id_rsa is refused unread: it would be quoted in findings
            doc, found = load_yaml_file(file, path=self.project.display(file), root=self.project.root)
            self.findings += found
            if doc is None or _has_errors(found):
                continue
            value, found = self.renderer.render(doc.data, variables=self.variables, doc=doc, base=())
            self.findings += found
            fragments[file.stem] = value
        return fragments

    def compile_file(self, file: Path) -> list[QueryUnit]:
        """Units and findings of one file: from the lint cache when its bytes and context were seen before."""
        display = self.project.display(file)
        data = read_source(file, path=display, root=self.project.root)  # the path policy: inside, regular, unquoted
        if isinstance(data, Finding):
            self.findings.append(data)
            return []
        if self.cache is None:
            return self._compile_file(display, data)
        hit = self.cache.get(display, data)
        if hit is not None:
            self.findings += hit.findings
            if hit.disabled_rules is not None:
                self.disabled[display] = hit.disabled_rules
            return list(hit.units)
        start = len(self.findings)
        units = self._compile_file(display, data)
        if self.budget.spent is not None:
            return units  # what the budget cut short is not this file's result
        self.cache.put(display, data, FileResult(units=tuple(units), findings=tuple(self.findings[start:]),
                                                 disabled_rules=self.disabled.get(display)))
        return units

    def compile_text(self, file: Path, data: bytes) -> list[QueryUnit]:
        """Units (findings appended to `findings`) of `data` as `file`'s content, which need not exist yet: never
        read or cached. `vqr import` checks with it what it would write, before writing anything."""
        return self._compile_file(self.project.display(file), data)

    def _compile_file(self, display: str, data: bytes) -> list[QueryUnit]:
        doc, found = load_yaml(data, path=display)
        self.findings += found
        if doc is None or _has_errors(found):
            return []
        self.disabled[doc.path] = doc.disabled_rules
        if unknown_rule_patterns(doc.disabled_rules):  # a typo, so rare: only then are the comments placed
            placed = disable_comments(data)
            self.findings += unknown_disables(placed, path=display, rule=QUERY_UNKNOWN_RULE)
        raw = schema_check(self.schemas.query_file, doc.data, doc, rule_prefix="query")
        self.findings += raw.findings
        if not isinstance(doc.data, dict):
            return []
        return self._expand(doc, doc.data, raw)

    def _expand(self, doc: Document, data: JSONObject, raw: SchemaResult) -> list[QueryUnit]:
        """Every combination rendered and checked in one pass: a value that fails to render, or that the schema
        rejects, is a finding, and only the rules that read it skip it (one note per file says which); the file's
        units are returned, to be planned, only when nothing in it is an error."""
        own_vars = data.get("vars")
        own_vars = own_vars if isinstance(own_vars, dict) else {}
        matrix = data.get("matrix")
        matrix = matrix if isinstance(matrix, dict) and all(isinstance(v, list) for v in matrix.values()) else None
        in_scope = len(own_vars) + len(self.variables) + (len(matrix) if matrix else 0)
        if not self._can_expand(doc, matrix, variables=in_scope):
            return []
        clean = not _has_errors(raw.findings)
        units: list[QueryUnit] = []
        skips: list[Skip] = []
        seen: set[Finding] = set()
        for combination in matrix_combinations(matrix):
            variables = {**own_vars, **self.variables, **combination, "fragments": self.fragments}
            body: JSONObject = {}
            problems: list[Finding] = []
            failed: list[JSONPath] = []
            for key, value in data.items():
                if key in NOT_RENDERED:
                    body[key] = value
                    continue
                body[key], found = self.renderer.render(value, variables=variables, doc=doc, base=(key,),
                                                        failed=failed)
                problems += found
            unit: QueryUnit | None = None
            if not any(f.rule in (BUDGET_RULE, NOT_CHECKED_RULE) for f in problems):  # else: nothing was rendered
                spec = SchemaResult(findings=[])
                if "spec" in body:
                    spec = schema_check(self.schemas.query_spec, body["spec"], doc, base=("spec",),
                                        rule_prefix="spec", ignore=frozenset(failed))
                    problems += drop_repeated(raw.findings, spec.findings)  # a literal typo fails both checks
                validity = Validity(invalid=raw.invalid | spec.invalid | frozenset(failed),
                                    missing=raw.missing | spec.missing, unknown=raw.unknown | spec.unknown)
                unit = QueryUnit(doc=doc, name=str(body.get("name", "")), matrix=combination, body=body)
                plannable = clean and not _has_errors(problems)
                # Rules of one query alone run here, so their findings are cached with the file.
                found, skipped = check_valid_parts(unit, self.rules, validity)
                problems += found
                skips += skipped
                if not plannable:
                    unit = None
            # A problem in a template shared by every combination is reported once, not once per combination.
            fresh = [f for f in problems if f not in seen]
            seen.update(fresh)
            self.findings += fresh
            if unit is not None:
                units.append(unit)
        self.findings += skipped_note(doc, skips)
        return units

    def _can_expand(self, doc: Document, matrix: JSONObject | None, *, variables: int) -> bool:
        """Whether the matrix is counted (never expanded) within its file's cap and what is left of the budget;
        else a finding at `matrix:`."""
        count = matrix_size(matrix)
        limits = self.budget.limits
        if count > limits.matrix_combinations:
            self.findings.append(doc.finding(
                ("matrix",), key=True, rule=MATRIX_RULE,
                message=f"the matrix makes {describe_size(count)} combinations, more than the "
                        f"{limits.matrix_combinations:,} one file may make; none of them is checked"))
            return False
        already_spent = self.budget.spent is not None
        where = doc.position(("matrix",), key=True) if matrix else doc.position(())
        if self.budget.take_combinations(count, variables=variables, path=doc.path, where=where):
            return True
        spent = self.budget.spent
        assert spent is not None
        if already_spent:
            self.findings.append(doc.finding(("matrix",) if matrix else (), key=bool(matrix), rule=NOT_CHECKED_RULE,
                                             message=self.budget.not_checked_message("this file is not expanded")))
        else:
            self.findings.append(doc.finding(
                ("matrix",) if matrix else (), key=bool(matrix), rule=BUDGET_RULE,
                message=f"{spent.describe(limits)} is spent here ({self.budget.combinations:,} combinations and "
                        f"{self.budget.bindings:,} bindings used, this file makes {describe_size(count)} of "
                        f"{variables:,} variables); this file and every file after it are not checked"))
        return False


def compile_repository(project: Project, schemas: SchemaSet, variables: Mapping[str, JSONValue], *,
                       files: Sequence[Path], lint_cache_key: Path | None = None,
                       limits: LintLimits | None = None) -> Compiled:
    compiler = RepositoryCompiler(project, schemas, variables, lint_cache_key=lint_cache_key, limits=limits)
    units: list[QueryUnit] = []
    for file in files:
        units += compiler.compile_file(file)
    if compiler.cache is not None:
        compiler.cache.finish()
    findings = finish_lint(compiler.findings, units, compiler.rules, doc_disabled=compiler.disabled)
    return Compiled(units=tuple(units), queries=tuple(to_query(u, project.defaults.cache) for u in units),
                    findings=tuple(findings), files_checked=len(files))
