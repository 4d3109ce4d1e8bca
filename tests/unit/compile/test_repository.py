"""compile_repository without the lint cache (what `vqr run` and `vqr render` compile with): disable entries that
match no rule, in vqr.yaml and in a file's comment, are warnings at the entry. Real files in a temp project."""

from __future__ import annotations

from pathlib import Path

from runner.compile.repository import compile_repository, discover_query_files
from runner.settings import load_project, resolve_variables
from runner.validate.schemas import load_schema_set

QUERY = """\
# yaml-language-server: $schema=../schemas/query-file.schema.json
# vqr: disable=cache/context-needs-cache-idd, spec/*
name: {name}
owner: identity-team
cache: {{mode: context}}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {{nodes: [{{node_type: OktaUsr}}]}}
"""


def _compile(root: Path, project_text: str) -> list[tuple[str, int, int, str, str]]:
    (root / "vqr.yaml").write_text(project_text, encoding="utf-8")
    (root / "queries").mkdir(exist_ok=True)
    (root / "queries" / "a.yaml").write_text(QUERY.format(name="a"), encoding="utf-8")
    project = load_project(root / "vqr.yaml")
    compiled = compile_repository(project, load_schema_set(project.schemas_dir),
                                  resolve_variables(project, project.environment(None)),
                                  files=discover_query_files(project))
    return [(f.path, f.line, f.column, f.rule, f.message) for f in compiled.findings]


def test_unknown_disable_entries_are_placed_in_vqr_yaml_and_in_the_file(tmp_path: Path) -> None:
    found = _compile(tmp_path, "queries: queries/\nrules:\n  disable: [spec/unknown-node-type, cahce/*]\n")
    assert found == [
        ("queries/a.yaml", 2, 16, "query/unknown-rule", "'cache/context-needs-cache-idd' matches no rule id, so it "
         "disables nothing; did you mean 'cache/context-needs-cache-id'?"),
        ("queries/a.yaml", 5, 15, "cache/context-needs-cache-id",
         "cache mode 'context' needs a cache_id: 'previous' or an id from an earlier run."),
        ("vqr.yaml", 3, 37, "project/unknown-rule",
         "'cahce/*' matches no rule id, so it disables nothing; did you mean 'cache/*'?"),
    ]


def test_known_entries_and_a_disabled_warning_say_nothing(tmp_path: Path) -> None:
    found = _compile(tmp_path, "queries: queries/\nrules:\n  disable: [cache/*, query/unknown-rule]\n")
    assert found == []
