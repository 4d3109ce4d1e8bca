"""`vqr schema build`: the generated file set, its validity, determinism, atomic writes and `--check` staleness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from ruamel.yaml import YAML

from runner.errors import ProjectError
from runner.resources import bundled_schemas_dir
from runner.schemagen.build import build_schema_files, stale_schema_files, write_schema_files

SCHEMAS = bundled_schemas_dir()
EXPECTED_FILES = sorted(
    [f"{prefix}{name}" for prefix in ("", "draft-07/") for name in
     ("query-spec.schema.json", "nodes-async-create.schema.json", "query-file.schema.json", "project.schema.json",
      "exceptions.schema.json")])

EXAMPLE_QUERY = """\
# yaml-language-server: $schema=../schemas/query-file.schema.json
name: okta-users-with-s3-write
description: Okta users who can write to any S3 bucket
owner: identity-team
tags: [okta, aws]
cache: {mode: if_available, max_staleness: 12h}
matrix: {bucket_type: [S3Bucket]}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser, condition_expression: "{{ fragments.active_user }}"}]}
  relates_to_exp:
    specs: [{node_types: {nodes: [{node_type: "{{ bucket_type }}"}]},
             effective_permissions: {values: [DATA_WRITE], operator: OR}}]
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
expect:
  - {rows: {max: 0}, severity: error, message: "nobody outside the data team writes to buckets"}
  - {new_rows: {max: 0}, severity: warn}
"""

EXAMPLE_PROJECT = """\
queries: queries/
reports: reports/
defaults:
  cache: {mode: if_available, max_staleness: 24h}
  concurrency: 8
  timeout: 15m
environments:
  sandbox: {url: embedded}
  prod:
    url: https://acme.vezacloud.com
    api_key_env: VEZA_API_KEY
    vars_files: [queries/vars/prod.yaml]
vars: {lookback_days: 90}
node_types: [OAA.Custom.thing.Resource]
rules: {disable: [cache/*]}
retention: 30
"""


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return build_schema_files(None, SCHEMAS)


def load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def test_the_build_produces_every_file(built: dict[str, bytes]) -> None:
    assert sorted(built) == EXPECTED_FILES


def test_every_generated_schema_is_a_valid_schema_of_its_dialect(built: dict[str, bytes]) -> None:
    for name, content in built.items():
        schema = json.loads(content)
        assert schema["$id"] == f"https://vqr.dev/schemas/{name}"
        assert schema["title"]
        if name.startswith("draft-07/"):
            assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
            Draft7Validator.check_schema(schema)
        else:
            assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
            Draft202012Validator.check_schema(schema)


def test_the_committed_schemas_are_up_to_date(built: dict[str, bytes]) -> None:
    assert stale_schema_files(SCHEMAS, built) == [], "run `vqr schema build` and commit the result"


def test_the_build_is_deterministic(built: dict[str, bytes]) -> None:
    assert build_schema_files(None, SCHEMAS) == built
    assert build_schema_files(SCHEMAS / "openapi" / "veza-query-api.yaml", SCHEMAS / "src") == built


def test_the_example_query_and_project_pass_both_dialects(built: dict[str, bytes]) -> None:
    for name, text in (("query-file.schema.json", EXAMPLE_QUERY), ("project.schema.json", EXAMPLE_PROJECT)):
        instance = load(text)
        modern = Draft202012Validator(json.loads(built[name]))
        legacy = Draft7Validator(json.loads(built[f"draft-07/{name}"]))
        assert list(modern.iter_errors(instance)) == []
        assert list(legacy.iter_errors(instance)) == []
        instance["typo"] = 1
        assert not modern.is_valid(instance) and not legacy.is_valid(instance)


def test_the_query_spec_schema_rejects_templates_but_the_query_file_accepts_them(built: dict[str, bytes]) -> None:
    spec = Draft202012Validator(json.loads(built["query-spec.schema.json"]))
    query = Draft202012Validator(json.loads(built["query-file.schema.json"]))
    templated = {"include_nodes": "{{ flag }}", "source_node_types": "{{ fragments.sources }}"}
    assert not spec.is_valid(templated)
    assert query.is_valid({"name": "n", "spec": templated})
    assert query.is_valid({"name": "n", "spec": "{{ fragments.whole_spec }}"})
    assert not query.is_valid({"name": "n", "spec": {"include_nodes": "maybe"}})


def test_the_create_body_schema_enforces_exactly_one_mode(built: dict[str, bytes]) -> None:
    body = Draft202012Validator(json.loads(built["nodes-async-create.schema.json"]))
    request = {"request": {"body": {"query_type": "SOURCE_TO_DESTINATION", "snapshot_id": "0"}}}
    assert body.is_valid({"cached_result_if_available": {**request, "max_staleness": "86400s"}})
    assert body.is_valid({"immediate_run": request})
    assert body.is_valid({"cached_result_context": {"cache_id": "c1"}})
    assert body.is_valid(request)  # the deprecated top-level request is still accepted
    assert not body.is_valid({"immediate_run": request, "cached_result_context": {"cache_id": "c1"}})
    assert not body.is_valid({})
    assert not body.is_valid({"cached_result_if_available": {**request, "max_staleness": "24h"}})


def test_check_detects_stale_files_and_write_fixes_only_those(tmp_path: Path, built: dict[str, bytes]) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS / "openapi", schemas / "openapi")
    shutil.copytree(SCHEMAS / "src", schemas / "src")
    assert stale_schema_files(schemas, built) == EXPECTED_FILES  # nothing written yet
    assert write_schema_files(schemas, built) == EXPECTED_FILES
    assert stale_schema_files(schemas, built) == []
    assert write_schema_files(schemas, built) == []
    assert not list(schemas.rglob("*.tmp"))

    source = schemas / "src" / "project.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("How many runs to keep", "Runs kept"),
                      encoding="utf-8")
    rebuilt = build_schema_files(None, schemas)
    assert stale_schema_files(schemas, rebuilt) == ["draft-07/project.schema.json", "project.schema.json"]
    before = (schemas / "query-file.schema.json").stat().st_mtime_ns
    assert write_schema_files(schemas, rebuilt) == ["draft-07/project.schema.json", "project.schema.json"]
    assert (schemas / "query-file.schema.json").stat().st_mtime_ns == before
    assert b"Runs kept" in (schemas / "project.schema.json").read_bytes()

    (schemas / "query-spec.schema.json").write_bytes(b"{}\n")  # hand-edited
    assert stale_schema_files(schemas, rebuilt) == ["query-spec.schema.json"]


def test_a_vendor_openapi_json_with_prefixed_names_builds(tmp_path: Path) -> None:
    subset = load((SCHEMAS / "openapi" / "veza-query-api.yaml").read_text(encoding="utf-8"))
    renamed = json.dumps(subset).replace("#/components/schemas/", "#/components/schemas/v1")
    vendor = json.loads(renamed)
    vendor["components"]["schemas"] = {f"v1{k}": v for k, v in vendor["components"]["schemas"].items()}
    vendor["openapi"] = "3.0.1"
    file = tmp_path / "openapi.json"
    file.write_text(json.dumps(vendor), encoding="utf-8")
    files = build_schema_files(file, SCHEMAS)
    query = json.loads(files["query-file.schema.json"])
    assert query["$defs"]["QuerySpec"] == {"$ref": "#/$defs/v1AssessmentQuerySpec"}
    validator = Draft202012Validator(query)
    assert validator.is_valid(load(EXAMPLE_QUERY))
    bad = load(EXAMPLE_QUERY)
    bad["spec"]["node_relationship_type"] = "EFECTIVE_ACCESS"
    assert not validator.is_valid(bad)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("openapi.yaml", "openapi: 3.0.0\ncomponents: {schemas: {A: [}\n", r"openapi\.yaml:2:\d+: invalid YAML"),
    ("openapi.json", '{"openapi": ', r"openapi\.json:1:\d+: invalid JSON"),
    ("openapi.yaml", "title: nothing\n", "not an OpenAPI document"),
    ("openapi.yaml", "openapi: 3.0.0\ncomponents: {schemas: {}}\n", "found neither a POST"),
    ("openapi.yaml", "- a list\n", "expected a mapping"),
])
def test_bad_openapi_documents_are_project_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError, match=message):
        build_schema_files(file, SCHEMAS)


def test_a_missing_source_is_a_project_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    with pytest.raises(ProjectError, match=r"query-file\.yaml: cannot read"):
        build_schema_files(SCHEMAS / "openapi" / "veza-query-api.yaml", tmp_path)


def test_a_repository_with_only_generated_schemas_builds_from_the_bundled_sources(
        tmp_path: Path, built: dict[str, bytes]) -> None:
    write_schema_files(tmp_path, built)
    assert build_schema_files(None, tmp_path) == built
