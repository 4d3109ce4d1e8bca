"""Schema validation into findings (validate.py, schema_messages.py): messages, rule ids, positions, speed."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from runner.errors import ProjectError
from runner.model.values import Document, Finding, JSONPath, JSONValue, Position, Severity
from runner.resources import bundled_schemas_dir
from runner.validate.schemas import (
    SchemaSet,
    check_create_body,
    deprecated_fields,
    drop_repeated,
    load_schema_set,
    schema_findings,
)

SCHEMAS = bundled_schemas_dir()


def make_doc(text: str, path: str = "queries/q.yaml") -> Document:
    """A Document built by hand from ruamel's node marks (independent of the project's loader)."""
    values: dict[JSONPath, Position] = {}
    keys: dict[JSONPath, Position] = {}

    def walk(node: Node, at: JSONPath) -> None:
        values[at] = Position(line=node.start_mark.line + 1, column=node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                keys[(*at, key.value)] = Position(line=key.start_mark.line + 1, column=key.start_mark.column + 1)
                walk(value, (*at, key.value))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*at, index))

    walk(YAML(typ="safe").compose(text), ())
    return Document(path=path, data=YAML(typ="safe").load(text), values=values, keys=keys)


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return load_schema_set(SCHEMAS)


def triples(findings: list[Finding]) -> list[tuple[int, int, str]]:
    return [(f.line, f.column, f.rule) for f in findings]


def query_findings(schemas: SchemaSet, text: str) -> list[Finding]:
    doc = make_doc(text)
    return schema_findings(schemas.query_file, doc.data, doc, rule_prefix="query")


def spec_findings(schemas: SchemaSet, text: str) -> list[Finding]:
    doc = make_doc(text)
    assert isinstance(doc.data, dict)
    return schema_findings(schemas.query_spec, doc.data["spec"], doc, base=("spec",), rule_prefix="spec")


HEAD = "name: q\ncache: {mode: if_available, max_staleness: 12h}\n"


def test_a_valid_query_file_has_no_findings(schemas: SchemaSet) -> None:
    text = HEAD + """\
tags: [a]
enabled: true
timeout: 15m
matrix: {kind: [S3Bucket, SnowflakeTable]}
vars: {days: 90}
drift: {ignore: [properties.last_login_at]}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types:
    nodes:
      - node_type: OktaUser
        condition_expression:
          specs: [{fn: IN, property: status, value: [ACTIVE]}, {property: is_active, value: true}]
          child_expressions: [{specs: [{fn: LT, property: last_login_at, value: "$COOKIE_TIMEVAR_90_DAY_AGO"}]}]
        tags_to_get: [{type: veza, key: owner}]
  relates_to_exp:
    specs: [{node_types: {nodes: [{node_type: "{{ kind }}"}]}, raw_permissions: {values: ["s3:PutBucketAcl"]}}]
  access_filter: {over_provisioned_score: {op: LTE, value: 100}, include_secondary_grantee: false}
  snapshot_id: "0"
  query_type_alias_check: null
expect:
  - {rows: {max: 0}, severity: error, message: none}
  - {removed_rows: {min: 1, max: "{{ limit }}"}, severity: warn}
"""
    assert triples(query_findings(schemas, text.replace("  query_type_alias_check: null\n", ""))) == []


def test_unknown_key_points_at_the_key_with_a_did_you_mean(schemas: SchemaSet) -> None:
    text = HEAD + "spec:\n  query_type: SOURCE_TO_DESTINATION\n  sorce_node_types: {nodes: []}\n"
    [finding] = query_findings(schemas, text)
    assert (finding.line, finding.column, finding.rule) == (5, 3, "query/unknown-key")
    assert finding.message == "unknown key 'sorce_node_types'; did you mean 'source_node_types'?"
    assert finding.severity is Severity.ERROR


def test_several_unknown_keys_each_get_one_finding_and_no_guess_when_nothing_is_close(schemas: SchemaSet) -> None:
    text = HEAD + "colour: red\nspec: {include_node: true, zzzzzz: 1}\n"
    found = query_findings(schemas, text)
    assert [(f.line, f.column, f.message) for f in found] == [
        (3, 1, "unknown key 'colour'"),
        (4, 8, "unknown key 'include_node'; did you mean 'include_nodes'?"),
        (4, 28, "unknown key 'zzzzzz'"),
    ]


def test_bad_enum_lists_the_names_only_and_suggests_the_closest(schemas: SchemaSet) -> None:
    text = HEAD + "spec:\n  query_type: SORCE_TO_DESTINATION\n  node_relationship_type: effective_access\n"
    found = query_findings(schemas, text)
    assert triples(found) == [(4, 15, "query/enum"), (5, 27, "query/enum")]
    assert found[0].message == ("'SORCE_TO_DESTINATION' is not one of SYSTEM_CREATED, SOURCE_TO_DESTINATION, "
                                "DESTINATION_NODES; did you mean 'SOURCE_TO_DESTINATION'?")
    assert found[1].message.endswith("did you mean 'EFFECTIVE_ACCESS'?")


def test_enum_integer_aliases_are_accepted(schemas: SchemaSet) -> None:
    assert query_findings(schemas, HEAD + "spec: {query_type: 1}\n") == []
    [finding] = query_findings(schemas, HEAD + "spec: {query_type: 7}\n")
    assert finding.rule == "query/enum" and "7 is not one of SYSTEM_CREATED" in finding.message


def test_enum_inside_a_list_points_at_the_item(schemas: SchemaSet) -> None:
    text = HEAD + ("spec:\n  relates_to_exp:\n    specs:\n"
                   "      - effective_permissions: {values: [DATA_READ, DATA_WRTE]}\n")
    [finding] = query_findings(schemas, text)
    assert (finding.line, finding.column, finding.rule) == (6, 53, "query/enum")
    assert finding.message.endswith("did you mean 'DATA_WRITE'?")


def test_deprecated_fields_warn_with_their_replacement_after_rendering(schemas: SchemaSet) -> None:
    text = HEAD + ("spec:\n  destination_node_types: {nodes: [{node_type: S3Bucket}]}\n"
                   "  source_node_types: {nodes: [{node_type: OktaUser, conditions: [{property: x}]}]}\n")
    assert query_findings(schemas, text) == []  # reported once, after rendering
    found = spec_findings(schemas, text)
    assert [(f.line, f.column, f.rule, f.severity, f.message) for f in found] == [
        (4, 3, "spec/deprecated", Severity.WARNING,
         "'destination_node_types' is deprecated; use 'relates_to_exp.specs[].node_types'"),
        (5, 53, "spec/deprecated", Severity.WARNING, "'conditions' is deprecated; use 'condition_expression.specs'"),
    ]
    doc = make_doc(text)
    forced = schema_findings(schemas.query_file, doc.data, doc, rule_prefix="query", deprecations=True)
    assert [f.rule for f in forced] == ["query/deprecated", "query/deprecated"]


def test_exactly_one_of_is_one_sentence(schemas: SchemaSet) -> None:
    text = HEAD + "spec: {}\nexpect:\n  - {rows: {max: 0}, new_rows: {max: 0}}\n  - {severity: warn}\n"
    found = query_findings(schemas, text)
    assert [(f.line, f.column, f.rule, f.message) for f in found] == [
        (5, 5, "query/one-of",
         "set exactly one of rows, new_rows, removed_rows, max_age_days (found 2: rows, new_rows)"),
        (6, 5, "query/one-of", "set exactly one of rows, new_rows, removed_rows, max_age_days (found none)"),
    ]


def test_the_create_body_oneof_in_plain_messages(schemas: SchemaSet) -> None:
    spec: JSONValue = {"query_type": "SOURCE_TO_DESTINATION"}
    both: JSONValue = {"immediate_run": {"request": {"body": spec}}, "cached_result_context": {"cache_id": "c"}}
    assert check_create_body(schemas, both) == [
        "set exactly one of cached_result_if_available, immediate_run, cached_result_context "
        "(found 2: immediate_run, cached_result_context)"]
    assert check_create_body(schemas, {}) == [
        "set exactly one of cached_result_if_available, immediate_run, cached_result_context (found none)"]
    assert check_create_body(schemas, {"immediate_run": {"request": {"body": spec}}}) == []
    legacy: JSONValue = {"request": {"body": spec}}
    assert check_create_body(schemas, legacy) == []
    assert deprecated_fields(schemas, legacy) == ["'request' is deprecated; use 'cached_result_if_available'"]
    bad: JSONValue = {"cached_result_if_available": {"request": {"body": {"snapshot_id": "x"}}, "max_staleness": "1d"}}
    assert check_create_body(schemas, bad) == [
        'cached_result_if_available.max_staleness: \'1d\' is not valid: expected a protobuf Duration, seconds '
        'with an `s` suffix ("86400s", "1.5s")',
        'cached_result_if_available.request.body.snapshot_id: \'x\' is not an int64: use digits only, such as "0"']


def test_templates_are_accepted_anywhere_in_the_query_file_spec(schemas: SchemaSet) -> None:
    text = HEAD + """\
spec:
  include_nodes: "{{ flag }}"
  source_node_types: "{{ fragments.okta_users }}"
  relates_to_exp: {specs: ["{{ fragments.s3_write }}"], not: "{{ negate }}"}
  snapshot_id: "{{ snapshot }}"
  query_type: "{{ qt }}"
"""
    assert query_findings(schemas, text) == []
    assert query_findings(schemas, HEAD + 'spec: "{{ fragments.whole }}"\n') == []


def test_templated_alternatives_report_the_real_branch_not_anyof_noise(schemas: SchemaSet) -> None:
    text = HEAD + "spec:\n  include_nodes: maybe\n  source_node_types: OktaUser\n  snapshot_id: 12a\n"
    found = query_findings(schemas, text)
    assert [(f.line, f.column, f.rule, f.message) for f in found] == [
        (4, 18, "query/type", "expected a boolean (true or false), got the string 'maybe'"),
        (5, 22, "query/type", "expected a mapping, got the string 'OktaUser'"),
        (6, 16, "query/pattern", "'12a' is not an int64: use digits only, such as \"0\""),
    ]


def test_rendered_spec_findings_use_the_spec_prefix_and_positions(schemas: SchemaSet) -> None:
    text = HEAD + "spec:\n  node_relationship_type: EFECTIVE_ACCESS\n  snapshot_id: 12a\n"
    found = spec_findings(schemas, text)
    assert triples(found) == [(4, 27, "spec/enum"), (5, 16, "spec/pattern")]
    assert found[0].path == "queries/q.yaml"


def test_missing_required_key_points_at_the_mapping(schemas: SchemaSet) -> None:
    found = query_findings(schemas, "# comment\ndescription: x\nspec: {}\n")
    assert [(f.line, f.column, f.rule, f.message) for f in found] == [
        (2, 1, "query/required", "missing required key 'name'")]


def test_type_range_and_key_pattern_problems(schemas: SchemaSet) -> None:
    text = HEAD + "tags: okta\nmatrix: {bad-name: [1], kind: []}\nspec: {}\nexpect: [{rows: {max: -1}}]\n"
    found = query_findings(schemas, text)
    assert triples(found) == [(3, 7, "query/type"), (4, 10, "query/pattern"), (4, 31, "query/range"),
                              (6, 23, "query/range")]
    assert found[0].message == "expected a list, got the string 'okta'"
    assert found[1].message.startswith("key 'bad-name' is not a valid name here")


def test_cache_mistakes(schemas: SchemaSet) -> None:
    text = "name: q\ncache: {mode: if-available, max_staleness: 12 hours, cach_id: x}\nspec: {}\n"
    found = query_findings(schemas, text)
    assert [(f.line, f.column, f.rule, f.message) for f in found] == [
        (2, 15, "query/enum", "'if-available' is not one of if_available, immediate, context; did you mean "
                              "'if_available'?"),
        (2, 44, "query/pattern", "'12 hours' is not valid: expected a duration such as 90s, 15m, 12h, 2d, 1h30m, "
                                 "or protobuf seconds \"43200s\", \"1.5s\""),
        (2, 54, "query/unknown-key", "unknown key 'cach_id'; did you mean 'cache_id'?"),
    ]
    for good in ("90s", "43200s", "1.5s", "2d", "1h30m", "{{ staleness }}"):
        assert query_findings(schemas, f"name: q\ncache: {{max_staleness: '{good}'}}\nspec: {{}}\n") == [], good


def test_project_file_findings(schemas: SchemaSet) -> None:
    text = ("queries: queries/\ndefaults: {concurrency: 0, timeout: soon}\n"
            "environments:\n  prod: {url: ftp://x, api_key: secret}\nretention: many\n")
    doc = make_doc(text, path="vqr.yaml")
    found = schema_findings(schemas.project, doc.data, doc, rule_prefix="project")
    assert triples(found) == [(2, 25, "project/range"), (2, 37, "project/pattern"), (4, 15, "project/pattern"),
                              (4, 24, "project/unknown-key"), (5, 12, "project/type")]
    assert found[3].message == "unknown key 'api_key'; did you mean 'api_key_env'?"


def test_one_problem_is_one_finding(schemas: SchemaSet) -> None:
    text = HEAD + "spec:\n  relates_to_exp:\n    specs: [{node_types: {nodes: [{node_typ: S3Bucket}]}}]\n"
    found = query_findings(schemas, text)
    assert triples(found) == [(5, 36, "query/unknown-key")]


def test_drop_repeated_keeps_the_first_stage_only() -> None:
    def finding(rule: str, line: int) -> Finding:
        return Finding(path="q.yaml", line=line, column=3, severity=Severity.ERROR, rule=rule, message="m")

    later = [finding("spec/enum", 4), finding("spec/enum", 9), finding("spec/type", 4)]
    assert drop_repeated([finding("query/enum", 4)], later) == later[1:]


def test_schema_sets_are_compiled_once_and_missing_files_are_project_errors(tmp_path: Path) -> None:
    assert load_schema_set(SCHEMAS) is load_schema_set(SCHEMAS)
    with pytest.raises(ProjectError, match="schema file missing"):
        load_schema_set(tmp_path)
    for name in ("query-file", "query-spec", "nodes-async-create", "project"):
        shutil.copy(SCHEMAS / f"{name}.schema.json", tmp_path)
    assert load_schema_set(tmp_path) is not load_schema_set(SCHEMAS)
    (tmp_path / "project.schema.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ProjectError, match=r"project\.schema\.json: cannot read schema"):
        load_schema_set(tmp_path)
    (tmp_path / "project.schema.json").write_text(json.dumps({"type": 5}), encoding="utf-8")
    with pytest.raises(ProjectError, match="not a valid JSON Schema"):
        load_schema_set(tmp_path)


def test_validation_is_fast_on_the_happy_path(schemas: SchemaSet) -> None:
    text = HEAD + """\
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser, condition_expression: {specs: [{fn: EQ, property: is_active,
                                                                                     value: true}]}}]}
  relates_to_exp: {specs: [{node_types: {nodes: [{node_type: S3Bucket}]},
                            effective_permissions: {values: [DATA_WRITE]}}]}
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
expect: [{rows: {max: 0}}]
"""
    doc = make_doc(text)
    data: Any = doc.data
    started = time.perf_counter()
    for _ in range(300):
        assert schema_findings(schemas.query_file, data, doc, rule_prefix="query") == []
        assert schema_findings(schemas.query_spec, data["spec"], doc, base=("spec",), rule_prefix="spec") == []
    assert time.perf_counter() - started < 3.0
