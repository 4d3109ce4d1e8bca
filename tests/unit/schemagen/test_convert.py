"""The OpenAPI -> JSON Schema converter (schemagen.py) and its variants (schemavariants.py), rule by rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from ruamel.yaml import YAML

from runner.errors import ProjectError
from runner.resources import INT64_PATTERN, TEMPLATE_REF
from runner.schemagen.convert import OpenAPIDocument, convert_document, dumps_schema
from runner.schemagen.variants import TEMPLATE_SCHEMA, templated_defs, to_draft07

SUBSET = Path(__file__).resolve().parents[3] / "schemas" / "openapi" / "veza-query-api.yaml"


def openapi(schemas: dict[str, Any], *, version: str = "3.0.3", paths: dict[str, Any] | None = None) -> OpenAPIDocument:
    return OpenAPIDocument({"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths or {},
                            "components": {"schemas": schemas}}, name="api.yaml")


def convert(schemas: dict[str, Any], root: str, **kwargs: Any) -> dict[str, Any]:
    doc = openapi(schemas, **kwargs)
    return convert_document(doc, {"$ref": f"#/components/schemas/{root}"}, schema_id="https://x/s.json", title="T")


def valid(schema: dict[str, Any], instance: Any) -> bool:
    Draft202012Validator.check_schema(schema)
    return bool(Draft202012Validator(schema).is_valid(instance))


def test_refs_are_rewritten_into_defs_and_only_reachable_components_are_emitted() -> None:
    schemas = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "array", "items": {"$ref": "#/components/schemas/C"}},
        "C": {"type": "string"},
        "Unrelated": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
    }
    out = convert(schemas, "A")
    assert out["$ref"] == "#/$defs/A"
    assert sorted(out["$defs"]) == ["A", "B", "C"]
    # B is a list, so the protojson policy lets the property be null too (Veza writes unset lists and messages so)
    assert out["$defs"]["A"]["properties"]["b"] == {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]}
    assert out["$defs"]["B"]["items"] == {"$ref": "#/$defs/C"}
    assert out["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (out["$id"], out["title"]) == ("https://x/s.json", "T")


def test_objects_with_properties_reject_unknown_keys_but_free_form_objects_stay_open() -> None:
    schemas = {"A": {"type": "object", "properties": {"x": {"type": "string"},
                                                       "free": {"type": "object"},
                                                       "map": {"type": "object", "additionalProperties": True}}}}
    out = convert(schemas, "A")
    assert out["$defs"]["A"]["additionalProperties"] is False
    assert valid(out, {"x": "1", "free": {"anything": 1}, "map": {"k": [1]}})
    assert not valid(out, {"y": "1"})


def test_nullable_becomes_a_type_union_or_an_anyof_with_null() -> None:
    schemas = {"A": {"type": "object", "properties": {
        "s": {"type": "string", "nullable": True},
        "e": {"type": "string", "enum": ["X"], "nullable": True},
        "r": {"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": True, "description": "d"}}},
        "B": {"type": "object", "properties": {"k": {"type": "integer"}}}}
    out = convert(schemas, "A")
    props = out["$defs"]["A"]["properties"]
    assert props["s"] == {"type": ["string", "null"]}
    assert props["e"] == {"type": ["string", "null"], "enum": ["X", None]}
    assert props["r"] == {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}], "description": "d"}
    assert valid(out, {"s": None, "e": None, "r": None})
    assert valid(out, {"r": {"k": 1}})
    assert not valid(out, {"r": {"k": "1"}})


def test_int64_accepts_a_string_of_digits_or_an_integer() -> None:
    out = convert({"A": {"type": "object", "properties": {"n": {"type": "string", "format": "int64"},
                                                            "m": {"type": "integer", "format": "int64"}}}}, "A")
    n = out["$defs"]["A"]["properties"]["n"]
    assert n == {"type": ["string", "integer"], "pattern": INT64_PATTERN}
    assert out["$defs"]["A"]["properties"]["m"] == n
    assert valid(out, {"n": "123", "m": -5})
    assert valid(out, {"n": "-9223372036854775808"})
    for bad in ("12a", "", "1.5", True):
        assert not valid(out, {"n": bad}), bad


def test_enums_accept_names_and_their_integer_aliases() -> None:
    out = convert({"Q": {"type": "string", "enum": ["A", "B"], "x-enum-integers": {"A": 0, "B": 1}},
                   "R": {"type": "string", "enum": ["X"]},
                   "Root": {"type": "object", "properties": {"q": {"$ref": "#/components/schemas/Q"},
                                                              "r": {"$ref": "#/components/schemas/R"}}}}, "Root")
    assert out["$defs"]["Q"] == {"enum": ["A", "B", 0, 1]}  # no type union beside it: ajv's strictTypes logs one
    assert out["$defs"]["R"] == {"type": "string", "enum": ["X"]}
    assert valid(out, {"q": "B"}) and valid(out, {"q": 1})
    assert not valid(out, {"q": 2}) and not valid(out, {"q": "C"}) and not valid(out, {"r": 0})


def test_allof_composition_keeps_members_open_and_closes_the_whole() -> None:
    schemas = {
        "Base": {"type": "object", "properties": {"id": {"type": "string"}}},
        "Derived": {"allOf": [{"$ref": "#/components/schemas/Base"},
                              {"type": "object", "properties": {"extra": {"type": "integer"}}}]},
    }
    out = convert(schemas, "Derived")
    assert "additionalProperties" not in out["$defs"]["Base"]
    assert out["$defs"]["Derived"]["allOf"][0] == {"$ref": "#/$defs/Base"}
    assert valid(out, {"id": "a", "extra": 1})
    assert not valid(out, {"id": "a", "extra": 1, "typo": 2})


def test_oneof_and_anyof_are_kept_and_single_ref_allof_becomes_an_annotated_ref() -> None:
    schemas = {"Body": {"type": "object", "properties": {
        "a": {"type": "boolean"}, "b": {"type": "boolean"},
        "old": {"allOf": [{"$ref": "#/components/schemas/Old"}], "deprecated": True, "x-replacement": "a",
                "x-vendor-noise": 1, "x-assumed": True}},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        "x-internal": "dropped"},
        "Old": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}
    out = convert(schemas, "Body")
    body = out["$defs"]["Body"]
    assert body["oneOf"] == [{"required": ["a"]}, {"required": ["b"]}]
    assert body["additionalProperties"] is False
    assert "x-internal" not in body
    # Vendor notes stay in the OpenAPI document; the replacement becomes a sentence of the description.
    assert body["properties"]["old"] == {"$ref": "#/$defs/Old", "deprecated": True,
                                         "description": "Deprecated: use 'a' instead."}
    assert out["$defs"]["Old"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert valid(out, {"a": True}) and not valid(out, {"a": True, "b": True}) and not valid(out, {})


def test_openapi30_boolean_exclusive_bounds_and_example_are_translated() -> None:
    out = convert({"A": {"type": "object", "properties": {
        "n": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 9, "exclusiveMaximum": False,
              "example": 3, "discriminator": {"propertyName": "x"}, "xml": {"name": "n"}}}}}, "A")
    assert out["$defs"]["A"]["properties"]["n"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 9,
                                                    "examples": [3]}


def test_openapi31_passes_through_with_ref_rewriting() -> None:
    schemas = {"A": {"type": "object", "properties": {
        "s": {"type": ["string", "null"]}, "c": {"const": "k"}, "e": {"$ref": "#/components/schemas/E",
                                                                       "description": "sibling kept"},
        "p": {"type": "array", "prefixItems": [{"type": "string"}]}}},
        "E": {"type": "string", "enum": ["X", "Y"], "examples": ["X"]}}
    out = convert(schemas, "A", version="3.1.0")
    props = out["$defs"]["A"]["properties"]
    assert props["s"] == {"type": ["string", "null"]}
    assert props["c"] == {"const": "k"}
    assert props["e"] == {"$ref": "#/$defs/E", "description": "sibling kept"}
    assert props["p"] == {"type": ["array", "null"], "prefixItems": [{"type": "string"}]}  # protojson: [] or null
    assert out["$defs"]["E"] == {"type": "string", "enum": ["X", "Y"], "examples": ["X"]}


def test_swagger2_definitions_and_body_parameters_are_understood() -> None:
    raw = {"swagger": "2.0", "paths": {"/v1/x:go": {"post": {"parameters": [
        {"in": "body", "name": "body", "schema": {"$ref": "#/definitions/v1Go"}}]}}},
        "definitions": {"v1Go": {"type": "object", "properties": {"n": {"type": "string", "format": "int64"}}}}}
    doc = OpenAPIDocument(raw, name="swagger.json")
    root = doc.request_schema("x:go")
    assert root == {"$ref": "#/definitions/v1Go"}
    out = convert_document(doc, root, schema_id="i", title="t")
    assert out["$ref"] == "#/$defs/v1Go"
    assert valid(out, {"n": "5"}) and not valid(out, {"m": 1})


@pytest.mark.parametrize(("ref", "message"), [("#/components/schemas/Missing", "points at no component"),
                                               ("other.yaml#/components/schemas/A", r"unsupported \$ref")])
def test_bad_refs_are_project_errors(ref: str, message: str) -> None:
    with pytest.raises(ProjectError, match=message):
        convert({"A": {"type": "object", "properties": {"x": {"$ref": ref}}}}, "A")


def test_a_document_that_is_not_openapi_is_a_project_error() -> None:
    with pytest.raises(ProjectError, match="not an OpenAPI document"):
        OpenAPIDocument({"title": "x"}, name="x.yaml")


def _subset() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(SUBSET.read_text(encoding="utf-8"))
    return loaded


def _vendor_document(components: int, paths: int) -> dict[str, Any]:
    """A big vendor-like document: our components among hundreds of unrelated, inter-referencing ones."""
    subset = _subset()
    schemas: dict[str, Any] = {}
    for i in range(components):
        schemas[f"vendor{i}Message"] = {
            "type": "object", "description": f"noise {i}", "x-go-type": "pkg.T",
            "properties": {
                "id": {"type": "string", "format": "int64"},
                "next": {"$ref": f"#/components/schemas/vendor{(i + 1) % components}Message"},
                "items": {"type": "array",
                          "items": {"$ref": f"#/components/schemas/vendor{(i * 7) % components}Message"}},
                "state": {"type": "string", "enum": ["A", "B", "C"], "nullable": True},
            },
        }
    schemas.update(copy.deepcopy(subset["components"]["schemas"]))
    vendor_paths = {f"/api/v1/vendor/thing{i}": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/vendor{i}Message"}}}}}} for i in range(paths)}
    vendor_paths.update(subset["paths"])
    return {"openapi": "3.0.1", "info": {"title": "Veza", "version": "1"}, "paths": vendor_paths,
            "components": {"schemas": schemas}}


def test_a_large_vendor_document_converts_to_the_same_schema_as_the_subset() -> None:
    vendor = _vendor_document(components=650, paths=220)
    assert len(vendor["components"]["schemas"]) > 600 and len(vendor["paths"]) > 200
    doc = OpenAPIDocument(vendor, name="vendor.yaml")
    spec_root = doc.request_schema("query_spec:nodes")
    create_root = doc.request_schema("query_spec:nodes_async_create")
    assert spec_root is not None and create_root is not None
    spec = convert_document(doc, spec_root, schema_id="s", title="t")
    create = convert_document(doc, create_root, schema_id="c", title="t")
    subset_doc = OpenAPIDocument(_subset(), name="subset.yaml")
    expected = convert_document(subset_doc, {"$ref": "#/components/schemas/AssessmentQuerySpec"}, schema_id="s",
                                title="t")
    assert dumps_schema(spec) == dumps_schema(expected)
    assert not any(name.startswith("vendor") for name in (*spec["$defs"], *create["$defs"]))
    Draft202012Validator.check_schema(create)
    assert Draft202012Validator(create).is_valid(
        {"immediate_run": {"request": {"body": {"query_type": "SOURCE_TO_DESTINATION"}}}})


def test_templated_defs_widen_every_non_string_value_and_only_those() -> None:
    defs = {"A": {"type": "object", "description": "keep me", "properties": {
        "s": {"type": "string"}, "b": {"type": "boolean", "deprecated": True}, "r": {"$ref": "#/$defs/B"},
        "l": {"type": "array", "items": {"type": "integer"}}, "any": {"description": "anything"}},
        "additionalProperties": False, "oneOf": [{"required": ["s"]}, {"required": ["b"]}]},
        "B": {"type": "string", "enum": ["X"]}}
    out = templated_defs(defs)
    a = out["A"]
    assert a["description"] == "keep me" and a["anyOf"][1] == {"$ref": TEMPLATE_REF}
    inner = a["anyOf"][0]
    assert inner["oneOf"] == [{"required": ["s"]}, {"required": ["b"]}]  # in-place branches are never widened
    assert inner["properties"]["s"] == {"type": "string"}
    assert inner["properties"]["r"] == {"$ref": "#/$defs/B"}
    assert inner["properties"]["any"] == {"description": "anything"}
    assert inner["properties"]["b"] == {"anyOf": [{"type": "boolean"}, {"$ref": TEMPLATE_REF}], "deprecated": True}
    assert inner["properties"]["l"]["anyOf"][0]["items"] == {"anyOf": [{"type": "integer"}, {"$ref": TEMPLATE_REF}]}
    assert out["B"] == {"anyOf": [{"type": "string", "enum": ["X"]}, {"$ref": TEMPLATE_REF}]}
    schema = {"$ref": "#/$defs/A", "$defs": {**out, "TemplateExpression": TEMPLATE_SCHEMA}}
    assert valid(schema, "{{ whole }}")
    assert valid(schema, {"b": "{{ flag }}", "l": [1, " {{ n }} "]})
    assert valid(schema, {"s": "x", "l": "{{ items }}", "r": "{{ r }}"})
    assert not valid(schema, {"s": "x", "b": "yes"})
    assert not valid(schema, {"s": "x", "r": "Y"})


def test_draft07_copy_renames_defs_and_wraps_ref_siblings() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://x/a.json", "title": "T",
              "$ref": "#/$defs/A",
              "$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B", "deprecated": True,
                                                                      "description": "Deprecated."},
                                                                "t": {"prefixItems": [{"type": "string"}],
                                                                      "items": False},
                                                                "e": {"enum": ["#/$defs/not-a-ref"]}},
                              "dependentRequired": {"b": ["t"]}, "unevaluatedProperties": False},
                        "B": {"type": "integer"}}}
    out = to_draft07(schema, schema_id="https://x/draft-07/a.json")
    assert out["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert out["$id"] == "https://x/draft-07/a.json"
    assert out["allOf"] == [{"$ref": "#/definitions/A"}]
    a = out["definitions"]["A"]
    # `deprecated` is a 2019-09 keyword: draft-07 keeps only the description that says it.
    assert a["properties"]["b"] == {"allOf": [{"$ref": "#/definitions/B"}], "description": "Deprecated."}
    assert a["properties"]["t"] == {"items": [{"type": "string"}], "additionalItems": False}
    assert a["properties"]["e"] == {"enum": ["#/$defs/not-a-ref"]}  # literal values are never rewritten
    assert a["dependencies"] == {"b": ["t"]}
    assert "unevaluatedProperties" not in a
    Draft7Validator.check_schema(out)
    assert Draft7Validator(out).is_valid({"b": 1, "t": ["x"]})
    assert not Draft7Validator(out).is_valid({"b": "1", "t": ["x"]})
    assert not Draft7Validator(out).is_valid({"b": 1})


def test_dumps_schema_is_canonical() -> None:
    expected = '{\n  "a": {\n    "é": [\n      2\n    ]\n  },\n  "b": 1\n}\n'.encode()
    assert dumps_schema({"b": 1, "a": {"é": [2]}}) == expected
