"""`compile/environments.compile_environments`: what is shared between environments, and the lint cache per one.

Real files, the real project loader and schemas. A file that mentions no variable whose value differs between the
environments is compiled once (its units are the same objects in each); one that does is compiled in each.
"""

from __future__ import annotations

import json
from pathlib import Path

from runner.compile.environments import EnvironmentsCompiled, compile_environments, lint_environments
from runner.compile.lintcache import CACHE_DIR
from runner.model import JSONValue, QueryUnit
from runner.settings import load_project, resolve_variables
from runner.validate.schemas import load_schema_set

BODY = """cache: {mode: if_available, max_staleness: 12h}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser}]}
  relates_to_exp:
    specs:
      - node_types: {nodes: [{node_type: S3Bucket}]}
        effective_permissions: {values: [DATA_WRITE], operator: OR}
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
"""
FILES = {
    "same.yaml": 'name: same\ndescription: "{{ team }} in {{ lookback_days }} days"\n',  # equal everywhere
    "differs.yaml": 'name: differs\ndescription: "accounts {{ accounts|length }}"\n',
    "named.yaml": 'name: named\ndescription: "for {{ environment }}"\n',  # `environment` differs by definition
    "escaped.yaml": 'name: escaped\ndescription: "n \\x7b\\x7b \\x61ccounts|length \\x7d\\x7d"\n',  # hidden by escapes
}
VARS = {"sandbox": {"team": "iam", "accounts": [1]}, "staging": {"team": "iam", "accounts": [1]},
        "prod": {"team": "iam", "accounts": [1, 2]}}


def make(root: Path) -> Path:
    (root / "queries" / "vars").mkdir(parents=True)
    lines = ["queries: queries/", "vars: {lookback_days: 90}", "environments:"]
    for env, variables in VARS.items():
        lines += [f"  {env}:", "    url: embedded", f"    vars_files: [queries/vars/{env}.yaml]"]
        (root / "queries" / "vars" / f"{env}.yaml").write_text(json.dumps(variables), encoding="utf-8")
    (root / "vqr.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, head in FILES.items():
        (root / "queries" / name).write_text(head + "owner: t\ntags: [t]\n" + BODY, encoding="utf-8")
    return root


def compile_all(root: Path, key: Path | None = None, env: str | None = None) -> EnvironmentsCompiled:
    project = load_project(root / "vqr.yaml")
    variables = {e.name: resolve_variables(project, e) for e in lint_environments(project, env)}
    files = sorted((root / "queries").glob("*.yaml"))
    return compile_environments(project, load_schema_set(project.schemas_dir), variables, files=files,
                                lint_cache_key=key)


def units_by_file(done: EnvironmentsCompiled, env: str) -> dict[str, QueryUnit]:
    return {unit.doc.path: unit for unit in done.per_environment[env].units}


def described(done: EnvironmentsCompiled, path: str) -> dict[str, JSONValue]:
    return {env: units_by_file(done, env)[path].body["description"] for env in VARS}


def test_a_file_is_compiled_once_unless_a_variable_it_mentions_differs(tmp_path: Path) -> None:
    done = compile_all(make(tmp_path / "repo"))
    assert done.findings == ()
    assert list(done.per_environment) == ["sandbox", "staging", "prod"]
    sandbox, staging, prod = (units_by_file(done, env) for env in ("sandbox", "staging", "prod"))
    assert sandbox["queries/same.yaml"] is staging["queries/same.yaml"] is prod["queries/same.yaml"]
    # `accounts` is equal in sandbox and staging: those two share a compile, prod has its own.
    assert sandbox["queries/differs.yaml"] is staging["queries/differs.yaml"]
    assert prod["queries/differs.yaml"] is not sandbox["queries/differs.yaml"]
    for path in ("queries/named.yaml", "queries/escaped.yaml"):
        assert len({id(by[path]) for by in (sandbox, staging, prod)}) == 3, path
    assert described(done, "queries/named.yaml") == {"sandbox": "for sandbox", "staging": "for staging",
                                                     "prod": "for prod"}
    assert described(done, "queries/escaped.yaml") == {"sandbox": "n 1", "staging": "n 1", "prod": "n 2"}


def test_the_escaped_name_is_still_checked_in_each_environment(tmp_path: Path) -> None:
    root = make(tmp_path / "repo")
    (root / "queries" / "vars" / "staging.yaml").write_text(json.dumps({"team": "iam"}), encoding="utf-8")
    done = compile_all(root)
    by_path = {(f.path, f.message) for f in done.findings}
    assert ("queries/escaped.yaml", "undefined variable 'accounts' [env: staging]") in by_path
    assert ("queries/differs.yaml", "undefined variable 'accounts' [env: staging]") in by_path
    assert all(f.environments == ("staging",) for f in done.findings)


def test_the_lint_cache_keeps_one_pack_per_environment_and_a_rerun_agrees(tmp_path: Path) -> None:
    root = make(tmp_path / "repo")
    (root / "queries" / "vars" / "prod.yaml").write_text(json.dumps({"team": "iam"}), encoding="utf-8")
    key = tmp_path / "key"
    first = compile_all(root, key)
    packs = sorted((root / CACHE_DIR).glob("*.pack"))
    assert len(packs) == 3  # every environment compiled a file of its own (named.yaml at least)
    stamps = [p.stat().st_mtime_ns for p in packs]
    again = compile_all(root, key)
    assert again.findings == first.findings and len(again.findings) == 2
    assert [p.stat().st_mtime_ns for p in packs] == stamps  # all hits: nothing rewritten


def test_env_narrows_to_one(tmp_path: Path) -> None:
    done = compile_all(make(tmp_path / "repo"), env="prod")
    assert list(done.per_environment) == ["prod"]
    assert len(done.per_environment["prod"].units) == len(FILES)


def test_a_unicode_variable_name_is_seen_by_the_scan(tmp_path: Path) -> None:
    root = make(tmp_path / "repo")
    for env, size in (("sandbox", 1), ("staging", 1), ("prod", 2)):
        (root / "queries" / "vars" / f"{env}.yaml").write_text(json.dumps({**VARS[env], "größe": size}),
                                                               encoding="utf-8")
    (root / "queries" / "same.yaml").write_text(
        'name: same\ndescription: "size {{ größe }}"\nowner: t\ntags: [t]\n' + BODY, encoding="utf-8")
    assert described(compile_all(root), "queries/same.yaml") == {"sandbox": "size 1", "staging": "size 1",
                                                                 "prod": "size 2"}


def test_the_built_in_sandbox_can_be_named_when_not_declared(tmp_path: Path) -> None:
    root = make(tmp_path / "repo")
    (root / "vqr.yaml").write_text((root / "vqr.yaml").read_text(encoding="utf-8").replace("  sandbox:", "  dev:"),
                                   encoding="utf-8")
    project = load_project(root / "vqr.yaml")
    assert [e.name for e in lint_environments(project, None)] == ["dev", "staging", "prod"]
    assert [e.name for e in lint_environments(project, "sandbox")] == ["sandbox"]
