"""Veza's JSON as protojson writes it: what "unset" looks like, each enum's numbering and zero value, one normal form.

Pure data and functions, no I/O. Veza emits every field (EmitUnpopulated): an unset message is `null`, a string
`""`, a list `[]`, a bool `false`, an enum its zero name (veza-api.md §1, §4). `normalise` drops all of those, so
that `null`, `""`, a zero value and absence never change a query's meaning or split its history. `ENUM_NAMES` is the
one table of enum numberings: only `query_type` is documented, every other numbering is [assumed].
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
OPAQUE_KEYS: Final[frozenset[str]] = frozenset({"value", "properties"})


def zero_value(field: str) -> str | None:
    """The name an absent enum `field` means, or None when `field` is not a known enum."""
    names = ENUM_NAMES.get(field)
    return names[0] if names else None


def enum_name(field: str, raw: JSONValue) -> JSONValue:
    """`raw` as its enum name when `field` is a known enum given by number (or digits); otherwise `raw` unchanged."""
    names = ENUM_NAMES.get(field)
    if names is None or isinstance(raw, bool):
        return raw
    number = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
    if isinstance(number, int) and 0 <= number < len(names):
        return names[number]
    return raw


def is_unset(field: str, value: JSONValue) -> bool:
    """Whether `value` of `field` is how protojson writes "not set": null, "", [], {}, false, "0", or the zero enum."""
    if value is None or value is False or value == "" or value == [] or value == {}:
        return True
    if field in INT64_ZERO_FIELDS and value in ("0", 0) and not isinstance(value, bool):
        return True
    zero = zero_value(field)
    name = enum_name(field, value)
    return zero is not None and isinstance(name, str) and name.upper() == zero


def normalise(value: JSONValue) -> JSONValue:
    """`value` with every unset field dropped and numbered enums named: equal meaning, equal form.

    List items are kept (even an emptied one), so every path that remains points where it did in the source.
    """
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, JSONValue] = {}
    for key, item in value.items():
        if key in OPAQUE_KEYS:
            if item is not None and not (key == "properties" and item == {}):
                out[key] = item
            continue
        named = enum_name(key, normalise(item))
        if not is_unset(key, named):
            out[key] = named
    return out
