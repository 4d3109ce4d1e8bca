"""The protojson null policy of generated schemas: where Veza's JSON may write `null`, and how a schema allows it.

Veza writes protojson with EmitUnpopulated (veza-api.md §1): an unset message is `null` and an unset list `[]`, so
every property whose raw OpenAPI schema is a message (an object, also through `$ref`/`allOf`) or a list also accepts
`null`. Scalars stay as they are (protojson writes `""`, `false`, `0`, the zero enum name). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_ANNOTATIONS = frozenset({"description", "title", "deprecated", "default", "examples", "readOnly", "writeOnly",
                          "$comment"})
_CONTAINERS = frozenset({"object", "array"})
_MAX_DEPTH = 16  # a chain of refs this long is a cycle or a pathological document: treat it as not a message


def is_message_or_list(raw: Any, components: Mapping[str, Any], depth: int = 0) -> bool:
    """Whether the raw OpenAPI schema `raw` describes an object or an array, following local `$ref`s and allOf."""
    if not isinstance(raw, Mapping) or depth > _MAX_DEPTH:
        return False
    kinds = raw.get("type")
    names = [kinds] if isinstance(kinds, str) else [k for k in kinds if isinstance(k, str)] if isinstance(
        kinds, list) else []
    if _CONTAINERS.intersection(names):
        return True
    if "properties" in raw or "items" in raw:
        return True
    ref = raw.get("$ref")
    if isinstance(ref, str):
        name = ref.rpartition("/")[2].replace("~1", "/").replace("~0", "~")
        return is_message_or_list(components.get(name), components, depth + 1)
    members = raw.get("allOf")
    return isinstance(members, list) and any(is_message_or_list(m, components, depth + 1) for m in members)


def allows_null(schema: Mapping[str, Any]) -> bool:
    """Whether a converted schema already accepts `null` at its own level (a type list or an anyOf branch)."""
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    branches = schema.get("anyOf")
    return isinstance(branches, list) and any(isinstance(b, Mapping) and b.get("type") == "null" for b in branches)


def with_null(out: dict[str, Any]) -> dict[str, Any]:
    """`out` (a converted schema) also accepting `null`: a type union when it has a type, else `anyOf` with null."""
    if allows_null(out):
        return out
    kinds = out.get("type")
    if isinstance(kinds, str):
        out["type"] = [kinds, "null"]
    elif isinstance(kinds, list):
        out["type"] = [*kinds, "null"]
    else:
        annotations = {k: out.pop(k) for k in list(out) if k in _ANNOTATIONS}
        return {"anyOf": [out, {"type": "null"}], **annotations}
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def is_null_branch(schema: Any) -> bool:
    """A branch that accepts only `null` (the policy's `{"type": "null"}`)."""
    return isinstance(schema, Mapping) and schema.get("type") == "null" and len(schema) == 1
