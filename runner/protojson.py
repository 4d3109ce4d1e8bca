"""Veza's JSON as protojson writes it: what "unset" looks like, each enum's numbering and zero value, one normal form.

Pure data and functions, no I/O. Veza emits every field (veza-api.md §1, §4); `normalise` drops the unset ones (null,
"", [], false, a zero enum) so that they never change a query's meaning or split its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from runner.model import JSONValue

# Each enum field, its names in number order: index 0 is the zero value, which an absent field means (proto3).
# [D] query_type. [D, medium confidence] operator, nodes_operator and fn start with AND and EQ (an older docs sample
# fills each enum with its first value). [assumed] everything else: the order of schemas/openapi/veza-query-api.yaml,
# with `NOT_IN` appended to fn. A tenant that numbers differently changes this table and nothing else.
ENUM_NAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "query_type": ("SYSTEM_CREATED", "SOURCE_TO_DESTINATION", "DESTINATION_NODES"),
    "node_relationship_type": ("EFFECTIVE_ACCESS", "CONFIGURED"),
    "result_value_type": ("SOURCE_NODES", "SOURCE_NODES_WITH_COUNTS", "DESTINATION_NODES",
                          "SOURCE_AND_DESTINATION_NODES"),
    "operator": ("AND", "OR"),
    "nodes_operator": ("AND", "OR"),
    "fn": ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "IN", "CONTAINS", "STARTS_WITH", "ENDS_WITH", "NOT_IN"),
    "direction": ("ANY_DIRECTION",),
}
# The values of an `effective_permissions: {values: [...]}` list. [D, medium confidence] the docs sample's first value
# is METADATA_WRITE, so it is number 0; [assumed] the order of the rest.
EFFECTIVE_PERMISSION_NAMES: Final[tuple[str, ...]] = (
    "METADATA_WRITE", "DATA_READ", "DATA_WRITE", "DATA_CREATE", "DATA_DELETE", "METADATA_READ", "METADATA_CREATE",
    "METADATA_DELETE", "NON_DATA", "UNCATEGORIZED",
)
# int64 fields whose zero ("0") is their unset value: snapshot 0 is the current graph.
INT64_ZERO_FIELDS: Final[frozenset[str]] = frozenset({"snapshot_id", "page_size"})
# Keys whose value is user data, never spec structure: kept byte for byte (only a null one is dropped). A condition's
# `value` may well be "", false or 0, and a tag's `properties` is a free map.
# The one table of them: lint, import and modernize never look inside either (no spec field named `properties` holds
# structure; `properties_to_get` is another key).
OPAQUE_KEYS: Final[frozenset[str]] = frozenset({"value", "properties"})
# Enums whose zero value is documented ([D] query_type; [D, medium confidence] the rest). Every other zero is
# [assumed]: `vqr import` keeps it as written (`drop_assumed_zeros=False`), so a file says what Veza said.
DOCUMENTED_ZEROS: Final[frozenset[str]] = frozenset({"query_type", "operator", "nodes_operator", "fn"})


def zero_value(field: str) -> str | None:
    """The name an absent enum `field` means, or None when `field` is not a known enum."""
    names = ENUM_NAMES.get(field)
    return names[0] if names else None


def enum_name(field: str, raw: JSONValue) -> JSONValue:
    """`raw` as its enum name when `field` is a known enum given by number (or digits); otherwise `raw` unchanged."""
    names = ENUM_NAMES.get(field)
    return raw if names is None else _name(names, raw)


def _name(names: tuple[str, ...], raw: JSONValue) -> JSONValue:
    """`raw` as `names[raw]` when it is a number (or digits) in range; otherwise unchanged (a bool is no number)."""
    if isinstance(raw, bool):
        return raw
    number = int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() else raw  # not '²'
    if isinstance(number, int) and 0 <= number < len(names):
        return names[number]
    return raw


def is_unset(field: str, value: JSONValue) -> bool:
    """Whether `value` of `field` is how protojson writes "not set": null, "", [], {}, false, "0", or the zero enum."""
    if _is_generic_unset(field, value):
        return True
    zero = zero_value(field)
    name = enum_name(field, value)
    return zero is not None and isinstance(name, str) and name.upper() == zero


def _is_generic_unset(field: str, value: JSONValue) -> bool:
    """Unset whatever the field's type: null, "", [], {}, false, and "0" of an int64 whose zero means unset."""
    if value is None or value is False or value == "" or value == [] or value == {}:
        return True
    return field in INT64_ZERO_FIELDS and value in ("0", 0) and not isinstance(value, bool)


def normalise(value: JSONValue, *, drop_assumed_zeros: bool = True) -> JSONValue:
    """`value` with every unset field dropped and numbered enums named: equal meaning, equal form.

    List items are kept (even an emptied one), so every path that remains points where it did in the source. With
    `drop_assumed_zeros=False` an explicit zero of an enum outside DOCUMENTED_ZEROS is kept (named).
    """
    return _normalise(value, None, drop_assumed_zeros)


def _enum_field(key: str, parent: str | None) -> str | None:
    """The ENUM_NAMES entry `key` is under `parent` (the enclosing field; a list item's is the list's key), if any.
    A TagSpec's `fn` (an item of `tag_specs`) is an undocumented enum of its own, not ConditionFn: kept as written."""
    if key not in ENUM_NAMES or (key == "fn" and parent == "tag_specs"):
        return None
    return key


def _normalise(value: JSONValue, parent: str | None, drop: bool) -> JSONValue:
    if isinstance(value, list):
        return [_normalise(item, parent, drop) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, JSONValue] = {}
    for key, item in value.items():
        if key in OPAQUE_KEYS:
            if item is not None and not (key == "properties" and item == {}):
                out[key] = item
            continue
        named = _normalise(item, key, drop)
        field = _enum_field(key, parent)
        if field is not None:
            named = enum_name(field, named)
        elif key == "values" and parent == "effective_permissions" and isinstance(named, list):
            named = [_name(EFFECTIVE_PERMISSION_NAMES, permission) for permission in named]
        if _is_generic_unset(key, named):
            continue
        if field is not None and (drop or field in DOCUMENTED_ZEROS) and is_unset(field, named):
            continue
        out[key] = named
    return out
