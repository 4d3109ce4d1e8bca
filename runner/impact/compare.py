"""Which queries a change modifies: the base and head of a query repository compiled for every environment and
compared by rendered create body (`Change` per query name).

`compare_trees(base, head, ...)` takes two `SideInput`s (a project and its per-environment variables; the base may
be absent: the project did not exist there) and returns a `Comparison`. Only what can differ is compiled: when
every environment's compile context (project file, schemas, resolved variables, rendered fragments:
`compile.compile_contexts`) is the same on both sides, a query file with the same bytes on both sides renders the
same bodies, so only the files that differ are compiled; otherwise every file is. (Its findings are not the whole
story: rules across files, such as duplicate names, see only the compiled files; `vqr diff` checks the whole head
separately, as `vqr run` does.) A query is identified by its
name, so a renamed file whose queries render the same bodies changes nothing. Reads both trees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.compile import compile_contexts, compile_environments, discover_query_files
from runner.model import JSONValue, Query, Severity
from runner.model.impact import Change, QueryChange, Rendered
from runner.plan import query_body
from runner.repopath import PathProblem, read_regular_file
from runner.settings import Project
from runner.validate import load_schema_set

_MAX_COMPARED_BYTES = 16 * 1024 * 1024  # a query file larger than this is compiled rather than compared


@dataclass(frozen=True, kw_only=True)
class SideInput:
    project: Project
    variables: Mapping[str, Mapping[str, JSONValue]]  # environment name -> resolved variables, in order
    lint_cache_key: Path | None = None  # the head may use the lint cache; a temporary base checkout may not


@dataclass(frozen=True, kw_only=True)
class SideCompiled:
    rendered: Mapping[str, Mapping[str, Rendered]]  # env -> name -> rendering, of the files compiled
    queries: Mapping[str, Mapping[str, Query]]  # env -> name -> typed query, same files
    error_files: frozenset[str]  # files with errors: their queries are missing from this side


@dataclass(frozen=True, kw_only=True)
class Comparison:
    changes: Mapping[str, QueryChange]  # every name that is new, modified or removed (unchanged ones are absent)
    base: SideCompiled
    head: SideCompiled
    files_compiled: int  # on both sides together: the measure of the optimisation above
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def states(self) -> dict[str, Change]:
        return {name: change.change for name, change in self.changes.items()}


def _query_files(project: Project) -> dict[str, Path]:
    return {project.display(path): path for path in discover_query_files(project)}


def _same_bytes(one: Path, other: Path) -> bool:
    left = read_regular_file(one, _MAX_COMPARED_BYTES, root=None)
    right = read_regular_file(other, _MAX_COMPARED_BYTES, root=None)
    if isinstance(left, PathProblem) or isinstance(right, PathProblem) or len(left) > _MAX_COMPARED_BYTES:
        return False  # compiled, so the path policy's finding is what the user sees
    return left == right


def compile_side(side: SideInput, files: Sequence[Path]) -> SideCompiled:
    done = compile_environments(side.project, load_schema_set(side.project.schemas_dir), side.variables,
                                files=files, lint_cache_key=side.lint_cache_key)
    rendered: dict[str, dict[str, Rendered]] = {}
    queries: dict[str, dict[str, Query]] = {}
    errors: set[str] = set()
    for env, compiled in done.per_environment.items():
        errors |= {f.path for f in compiled.findings if f.severity is Severity.ERROR}
        for query in compiled.queries:
            body, digest = query_body(query)
            rendered.setdefault(env, {})[query.name] = Rendered(name=query.name, file=query.file, env=env,
                                                               body=body, body_hash=digest)
            queries.setdefault(env, {})[query.name] = query
    return SideCompiled(rendered=rendered, queries=queries, error_files=frozenset(errors))


EMPTY = SideCompiled(rendered={}, queries={}, error_files=frozenset())


def compare_trees(base: SideInput | None, head: SideInput) -> Comparison:
    head_files = _query_files(head.project)
    base_files = _query_files(base.project) if base is not None else {}
    to_compile = set(head_files) | set(base_files)
    if base is not None and _same_contexts(base, head):
        to_compile = {name for name in to_compile if name not in base_files or name not in head_files
                      or not _same_bytes(base_files[name], head_files[name])}
    head_side = compile_side(head, [head_files[n] for n in sorted(to_compile) if n in head_files])
    base_side = (compile_side(base, [base_files[n] for n in sorted(to_compile) if n in base_files])
                 if base is not None else EMPTY)
    notes: list[str] = []
    if base_side.error_files:
        shown = ", ".join(sorted(base_side.error_files)[:3])
        notes.append(f"{len(base_side.error_files)} base file(s) have errors ({shown}): their queries count as new")
    changes = classify(base_side.rendered, head_side.rendered, envs=list(head.variables))
    for name, change in changes.items():
        if change.change is Change.REMOVED and change.base_file in head_side.error_files:
            # Its file is still there but does not compile: the query is broken, not gone.
            changes[name] = QueryChange(name=name, change=Change.MODIFIED, base=change.base, head={})
    return Comparison(changes=changes,
                      base=base_side, head=head_side, files_compiled=len(to_compile & set(head_files))
                      + len(to_compile & set(base_files)), notes=tuple(notes))


def _same_contexts(base: SideInput, head: SideInput) -> bool:
    if list(base.variables) != list(head.variables):
        return False
    ours = compile_contexts(head.project, load_schema_set(head.project.schemas_dir), head.variables)
    theirs = compile_contexts(base.project, load_schema_set(base.project.schemas_dir), base.variables)
    return None not in ours.values() and ours == theirs


def classify(base: Mapping[str, Mapping[str, Rendered]], head: Mapping[str, Mapping[str, Rendered]], *,
             envs: Sequence[str]) -> dict[str, QueryChange]:
    """Each name's `Change`: new when no base environment has it, removed when no head environment has it,
    modified when some environment's body hash differs or only one side has it there; unchanged names are left
    out. Environments outside `envs` (the head's) are not compared."""
    names = {name for env in envs for side in (base, head) for name in side.get(env, {})}
    changes: dict[str, QueryChange] = {}
    for name in sorted(names):
        olds = {env: base[env][name] for env in envs if name in base.get(env, {})}
        news = {env: head[env][name] for env in envs if name in head.get(env, {})}
        if not olds:
            change = Change.NEW
        elif not news:
            change = Change.REMOVED
        elif any(_hash(olds, env) != _hash(news, env) for env in envs):
            change = Change.MODIFIED
        else:
            continue
        changes[name] = QueryChange(name=name, change=change, base=olds, head=news)
    return changes


def _hash(side: Mapping[str, Rendered], env: str) -> str | None:
    rendered = side.get(env)
    return rendered.body_hash if rendered is not None else None
