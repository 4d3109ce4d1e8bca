"""Variants of a generated 2020-12 schema: the *templated* spec defs and the draft-07 downgrade for older editors.

Inputs and outputs are plain JSON-able dicts; pure, no I/O. `templated_defs` lets a value that is one `{{ expr }}`
stand wherever a non-string is expected (query files are checked before rendering); `to_draft07` rewrites `$defs`,
`$ref` siblings and 2020-12-only keywords. The draft-07 copy is a little looser: it cannot express
`unevaluatedProperties`, which it drops (and `deprecated`, which only its description then states).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.model import JSONObject
from runner.resources import TEMPLATE_PATTERN, TEMPLATE_REF
from runner.schemagen.nulls import is_null_branch

DIALECT_DRAFT_07 = "http://json-schema.org/draft-07/schema#"
TEMPLATE_SCHEMA: JSONObject = {
    "type": "string",
    "pattern": TEMPLATE_PATTERN,
    "description": "A template expression, `{{ expr }}`, rendered into a JSON value before the query is sent.",
}

_ANNOTATIONS = frozenset({"description", "title", "deprecated", "default", "examples", "readOnly", "writeOnly",
                          "$comment"})
# Where an instance value sits (wrapped when templated) versus in-place applicators (left alone: wrapping a oneOf
# branch would let a template string satisfy every branch at once).
_VALUE_MAPS = ("properties", "patternProperties")
_VALUE_SINGLE = ("items", "additionalProperties", "unevaluatedProperties", "contains", "additionalItems")
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_SINGLE = ("not", "if", "then", "else")


def _needs_template(schema: Mapping[str, Any]) -> bool:
    constraints = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
    if not constraints or set(constraints) == {"$ref"}:  # accepts anything, or its target is itself templated
        return False
    branches = constraints.get("anyOf")
    if set(constraints) == {"anyOf"} and isinstance(branches, list) and all(
            is_null_branch(b) or (isinstance(b, Mapping) and set(b) == {"$ref"}) for b in branches):
        return False  # the protojson `$ref or null`: the target is templated, and a template is never null
    return constraints != {"type": "string"}


def _templated(schema: Any, *, value_position: bool) -> Any:
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _VALUE_MAPS and isinstance(value, Mapping):
            out[key] = {name: _templated(sub, value_position=True) for name, sub in value.items()}
        elif key == "prefixItems" and isinstance(value, list):
            out[key] = [_templated(sub, value_position=True) for sub in value]
        elif key in _VALUE_SINGLE:
            out[key] = _templated(value, value_position=True)
        elif key in _IN_PLACE_LISTS and isinstance(value, list):
            out[key] = [_templated(sub, value_position=False) for sub in value]
        elif key in _IN_PLACE_SINGLE:
            out[key] = _templated(value, value_position=False)
        else:
            out[key] = value
    if not (value_position and _needs_template(out)):
        return out
    annotations = {k: out.pop(k) for k in list(out) if k in _ANNOTATIONS}
    return {"anyOf": [out, {"$ref": TEMPLATE_REF}], **annotations}


def templated_defs(defs: Mapping[str, Any]) -> dict[str, Any]:
    """Every def with each non-string value position widened to `anyOf: [original, TemplateExpression]`."""
    return {name: _templated(schema, value_position=True) for name, schema in defs.items()}


def _ref07(ref: str) -> str:
    return "#/definitions/" + ref[len("#/$defs/"):] if ref.startswith("#/$defs/") else ref


def _downgrade(schema: Any) -> Any:
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    dependencies: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("$defs", "definitions", *_VALUE_MAPS, "dependentSchemas") and isinstance(value, Mapping):
            converted = {name: _downgrade(sub) for name, sub in value.items()}
            if key == "dependentSchemas":
                dependencies.update(converted)
            else:
                out["definitions" if key == "$defs" else key] = converted
        elif key == "dependentRequired" and isinstance(value, Mapping):
            dependencies.update(value)
        elif key == "$ref" and isinstance(value, str):
            out[key] = _ref07(value)
        elif key in ("unevaluatedProperties", "deprecated"):  # 2019-09 keywords; the description says deprecated
            continue
        elif key == "prefixItems" and isinstance(value, list):
            out["items"] = [_downgrade(sub) for sub in value]
            if "items" in schema:
                out["additionalItems"] = _downgrade(schema["items"])
        elif key == "items" and "prefixItems" in schema:
            continue
        elif key in (*_IN_PLACE_LISTS,) and isinstance(value, list):
            out[key] = [_downgrade(sub) for sub in value]
        elif key in (*_VALUE_SINGLE, *_IN_PLACE_SINGLE, "propertyNames"):
            out[key] = _downgrade(value)
        else:
            out[key] = value
    if dependencies:
        out["dependencies"] = dependencies
    if "$ref" in out and len(out) > 1:  # draft-07 ignores every sibling of $ref
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}, *out.get("allOf", [])]
    return out


def to_draft07(schema: Mapping[str, Any], *, schema_id: str) -> dict[str, Any]:
    """The same schema in draft-07 terms (`definitions`, no `$ref` siblings), for editors that lack 2020-12."""
    body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    out: dict[str, Any] = {"$schema": DIALECT_DRAFT_07, "$id": schema_id}
    out.update(_downgrade(body))
    return out
