"""A real query project on disk for the importer's tests, and `import_into`: the real plan → write → compile path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.compile import compile_repository, discover_query_files
from runner.importer import ImportOptions, Input, Planned, detect, plan_import, write_planned
from runner.model import JSONValue, Query
from runner.settings import Project, load_project, resolve_variables
from runner.validate import load_schema_set

PROJECT_FILE = """\
queries: queries/
reports: reports/
defaults:
  cache: {mode: if_available, max_staleness: 12h}
  concurrency: 2
  timeout: 60s
environments:
  sandbox: {url: embedded}
"""


def make_project(root: Path, queries: dict[str, str] | None = None) -> Project:
    (root / "queries").mkdir(parents=True, exist_ok=True)
    (root / "vqr.yaml").write_text(PROJECT_FILE)
    for name, text in (queries or {}).items():
        (root / "queries" / name).write_text(text)
    return load_project(root / "vqr.yaml")


def compiled(project: Project) -> tuple[list[Query], list[str]]:
    """The repository's queries and its error messages, as `vqr lint` sees them."""
    env = project.environment("sandbox")
    result = compile_repository(project, load_schema_set(project.schemas_dir), resolve_variables(project, env),
                                files=discover_query_files(project))
    return list(result.queries), [f"{f.path}:{f.line}: {f.message}" for f in result.errors]


def plan(project: Project, values: Sequence[tuple[str, JSONValue]], **options: object) -> list[Planned]:
    """Plan an import of `(label, value)` documents, against the repository as it is on disk."""
    existing, _ = compiled(project)
    inputs = [Input(label=label, stem=Path(label).stem, value=value) for label, value in values]
    env = project.environment("sandbox")
    return plan_import(project, inputs, ImportOptions(**options),  # type: ignore[arg-type]
                       schemas=load_schema_set(project.schemas_dir), variables=resolve_variables(project, env),
                       existing=existing)


@dataclass(frozen=True)
class Imported:
    planned: list[Planned]
    queries: dict[str, Query]  # by name, compiled back from the written files


def import_into(project: Project, values: Sequence[tuple[str, JSONValue]], **options: object) -> Imported:
    planned = plan(project, values, **options)
    write_planned(planned)
    queries, errors = compiled(project)
    assert not errors, errors
    return Imported(planned=planned, queries={q.name: q for q in queries})


__all__ = ["Imported", "compiled", "detect", "import_into", "make_project", "plan"]
