"""The protojson null policy: every message or list property accepts null, in the subset and in a vendor document,
in every variant (2020-12, templated query file, draft-07), while unknown keys and wrong types stay errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from ruamel.yaml import YAML

from runner.protojson import EFFECTIVE_PERMISSION_NAMES, ENUM_NAMES
from runner.resources import bundled_openapi_file, bundled_schemas_dir
from runner.schemagen.build import build_schema_files
from runner.schemagen.convert import OpenAPIDocument, convert_document

SCHEMAS = bundled_schemas_dir()


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


SPEC_2020 = Draft202012Validator(_load("query-spec.schema.json"))
SPEC_07 = Draft7Validator(_load("draft-07/query-spec.schema.json"))
FILE_2020 = Draft202012Validator(_load("query-file.schema.json"))
FILE_07 = Draft7Validator(_load("draft-07/query-file.schema.json"))

NULL_SPEC: dict[str, Any] = {
    "query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{
        "node_type": "OktaUser", "node_id": "", "condition_expression": None, "count_condition_expression": None,
        "node_type_grouping_constraint": None, "properties_to_get": [], "tags_to_get": None, "conditions": None,
        "tags": [], "excluded_tags": None, "count_conditions": None}], "nodes_operator": "AND"},
    "relates_to_exp": {"specs": [{"node_types": {"nodes": [{"node_type": "S3Bucket", "condition_expression": {
        "specs": [{"fn": "EQ", "property": "name", "value": None, "value_property_name": ""}],
        "tag_specs": [{"tag": None, "exclude": False, "fn": ""}], "child_expressions": None}}]},
        "required_intermediate_node_types": None, "avoided_intermediate_node_types": None, "raw_permissions": None,
        "effective_permissions": {"values": [], "operator": "AND"}, "no_relation": False, "direction": ""}],
        "child_expressions": [], "operator": "AND", "not": False, "and_op_type": "INFERRED"},
    "access_filter": None, "all_entity_condition": None, "path_summary_node_types": None,
    "path_summary_count_conditions": None, "additional_columns_to_get": [], "variables": None,
    "customized_variables": [], "destination_node_types": None, "raw_permissions": None,
    "effective_permissions": None, "required_intermediate_node_types": None,
    "avoided_intermediate_node_types": None, "snapshot_id": "0", "page_token": "",
}


@pytest.mark.parametrize("validator", [SPEC_2020, SPEC_07], ids=["2020-12", "draft-07"])
def test_null_messages_and_lists_are_valid_in_the_spec_schema(validator: Any) -> None:
    assert [e.message for e in validator.iter_errors(NULL_SPEC)] == []


@pytest.mark.parametrize("validator", [FILE_2020, FILE_07], ids=["2020-12", "draft-07"])
def test_null_messages_and_lists_are_valid_in_the_templated_query_file_schema(validator: Any) -> None:
    document = {"name": "q", "spec": {**NULL_SPEC, "source_node_types": "{{ fragments.users }}"}}
    assert [e.message for e in validator.iter_errors(document)] == []


@pytest.mark.parametrize(("spec", "why"), [
    ({"relates_to_exp": None, "bogus": None}, "an unknown key, even a null one"),
    ({"relates_to_exp": {"specs": None, "bogus": []}}, "an unknown key inside a nullable message"),
    ({"source_node_types": {"nodes": [None]}}, "a null list item (protojson never writes one)"),
    ({"page_token": None}, "a null string (protojson writes \"\")"),
    ({"include_nodes": None}, "a null bool (protojson writes false)"),
    ({"query_type": None}, "a null enum (protojson writes its zero name)"),
    ({"page_token": {}}, "a string field given an object"),
    ({"relates_to_exp": "x"}, "a message given a string"),
    ({"variables": "x"}, "a list given a string"),
])
def test_the_policy_stays_strict(spec: dict[str, Any], why: str) -> None:
    assert not SPEC_2020.is_valid(spec), why
    assert not FILE_2020.is_valid({"name": "q", "spec": spec}), why


def _vendor(version: str) -> OpenAPIDocument:
    # A vendor-shaped document: prefixed names, an enum behind a $ref, a message behind allOf, a map, a list.
    prefix = "#/definitions/" if version.startswith("2") else "#/components/schemas/"
    schemas = {
        "vezaSpec": {"type": "object", "properties": {
            "kind": {"$ref": prefix + "vezaKind"},
            "filter": {"allOf": [{"$ref": prefix + "vezaFilter"}], "description": "a message behind allOf"},
            "direct": {"$ref": prefix + "vezaFilter"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "extra": {"type": "object", "additionalProperties": {"type": "string"}},
            "name": {"type": "string"}, "count": {"type": "string", "format": "int64"}, "on": {"type": "boolean"}}},
        "vezaKind": {"type": "integer", "format": "int32", "enum": [0, 1]},
        "vezaFilter": {"type": "object", "properties": {"op": {"type": "string"}}},
    }
    raw: dict[str, Any] = {"info": {"title": "t", "version": "1"}, "paths": {}}
    if version.startswith("2"):
        raw.update(swagger=version, definitions=schemas)
    else:
        raw.update(openapi=version, components={"schemas": schemas})
    return OpenAPIDocument(raw, name="vendor")


@pytest.mark.parametrize("version", ["2.0", "3.0.3", "3.1.0"])
def test_a_vendor_document_gets_the_same_policy(version: str) -> None:
    doc = _vendor(version)
    root = {"$ref": doc.prefix + "vezaSpec"}
    schema = convert_document(doc, root, schema_id="https://x/s.json", title="T")
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"filter": None, "direct": None, "labels": None, "extra": None})
    assert validator.is_valid({"filter": {"op": "x"}, "labels": ["a"], "kind": 1})
    wrong: dict[str, Any]
    for wrong in ({"kind": None}, {"name": None}, {"on": None}, {"count": None}, {"filter": {"bogus": 1}},
                  {"bogus": None}, {"name": {}}):
        assert not validator.is_valid(wrong), wrong


def test_the_build_from_a_vendor_file_keeps_nulls_in_every_variant(tmp_path: Path) -> None:
    raw = YAML(typ="safe").load(bundled_openapi_file().read_text(encoding="utf-8"))
    vendor = tmp_path / "openapi.json"
    vendor.write_text(json.dumps(raw), encoding="utf-8")
    files = build_schema_files(vendor, SCHEMAS)
    spec = Draft7Validator(json.loads(files["draft-07/query-spec.schema.json"]))
    assert spec.is_valid({"relates_to_exp": None, "variables": None, "source_node_types": {"nodes": []}})
    assert not spec.is_valid({"relates_to_exp": None, "bogus": 1})


def _subset_component(name: str) -> dict[str, Any]:
    raw = YAML(typ="safe").load(bundled_openapi_file().read_text(encoding="utf-8"))
    component: dict[str, Any] = raw["components"]["schemas"][name]
    return component


@pytest.mark.parametrize(("component", "names"), [
    ("QueryType", ENUM_NAMES["query_type"]), ("NodeRelationshipType", ENUM_NAMES["node_relationship_type"]),
    ("ResultValueType", ENUM_NAMES["result_value_type"]), ("LogicalOperator", ENUM_NAMES["operator"]),
    ("LogicalOperator", ENUM_NAMES["nodes_operator"]), ("ConditionFn", ENUM_NAMES["fn"]),
    ("EffectivePermission", EFFECTIVE_PERMISSION_NAMES),
])
def test_the_subset_numbers_enums_as_the_one_table_does(component: str, names: tuple[str, ...]) -> None:
    numbering = _subset_component(component)["x-enum-integers"]
    assert numbering == {name: number for number, name in enumerate(names)}
    assert sorted(_subset_component(component)["enum"]) == sorted(names)


def test_the_templated_variant_does_not_wrap_a_ref_or_null_again() -> None:
    # The `$ref`'s target is itself templated and a template is never null: `anyOf: [$ref, null]` stays as it is,
    # while a list (a real value position) may still be one `{{ expr }}`.
    spec = _load("query-file.schema.json")["$defs"]["AssessmentQuerySpec"]["anyOf"][0]["properties"]
    assert spec["relates_to_exp"] == {"anyOf": [{"$ref": "#/$defs/RelatesToExpression"}, {"type": "null"}]}
    assert spec["variables"]["anyOf"][1] == {"$ref": "#/$defs/TemplateExpression"}
    assert FILE_2020.is_valid({"name": "q", "spec": {"variables": "{{ names }}", "relates_to_exp": "{{ r }}"}})
