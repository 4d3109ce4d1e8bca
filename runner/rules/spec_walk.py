"""Walks a rendered spec: every mapping in document order, and every place a node type is named.

Generators over plain JSON values, no I/O. Subtrees under `protojson.OPAQUE_KEYS` (a condition's `value`, a tag's
`properties`) are skipped: they are user data and must never be mistaken for spec structure.
"""

from __future__ import annotations

from collections.abc import Iterator

from runner.model import JSONPath, JSONValue
from runner.protojson import OPAQUE_KEYS


def iter_mappings(value: JSONValue, base: JSONPath) -> Iterator[tuple[JSONPath, dict[str, JSONValue]]]:
    """Every mapping inside `value` (itself included) with its path, parents before children, in document order."""
    # An explicit stack: templated values can nest deeper than Python's recursion limit would like.
    stack: list[tuple[JSONPath, JSONValue]] = [(base, value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, dict):
            yield path, current
            stack.extend((((*path, key), item) for key, item in reversed(current.items()) if key not in OPAQUE_KEYS))
        elif isinstance(current, list):
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(current))))


def iter_node_type_names(spec: JSONValue, base: JSONPath) -> Iterator[tuple[JSONPath, str]]:
    """Each node type named in `spec`: NodeSpec `node_type` at any depth and grouping-constraint `node_types`."""
    for path, mapping in iter_mappings(spec, base):
        name = mapping.get("node_type")
        if isinstance(name, str):
            yield (*path, "node_type"), name
        constraint = mapping.get("node_type_grouping_constraint")
        names = constraint.get("node_types") if isinstance(constraint, dict) else None
        if isinstance(names, list):
            for index, item in enumerate(names):
                if isinstance(item, str):
                    yield (*path, "node_type_grouping_constraint", "node_types", index), item


def iter_node_specs(spec: JSONValue, base: JSONPath) -> Iterator[tuple[JSONPath, dict[str, JSONValue], str]]:
    """Each NodeSpec (a mapping with a string `node_type`) with its path and type."""
    for path, mapping in iter_mappings(spec, base):
        name = mapping.get("node_type")
        if isinstance(name, str):
            yield path, mapping, name
