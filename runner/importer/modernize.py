"""`vqr import --modernize`: legacy spec forms → their modern replacement, only where the mapping is certain.

Input: a normalised spec. Output: a new spec (the input untouched), what was rewritten and what was left (each naming
its place). Pure; used by import only (the sandbox evaluates legacy forms itself, lint warns about them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Final

from runner.catalog import LEGACY_TYPES
from runner.model import JSONObject, JSONValue
from runner.protojson import OPAQUE_KEYS

# The mappings (veza-api.md §4), each applied only when its meaning cannot change:
# - NodeSpec `conditions` → `condition_expression.specs`, `tags` / `excluded_tags` → `condition_expression.tag_specs`
#   (`exclude: true`), when the node has no condition expression or a plain AND one (ANDing more in keeps it);
# - NodeSpec `count_conditions` → `count_condition_expression.specs`, on the same terms;
# - the deprecated top-level relation fields → one `relates_to_exp.specs[0]`, when there is no `relates_to_exp`.
# Anything else is left and reported: an OR or negated expression beside a legacy list, a malformed legacy item,
# `and_op_type` (undocumented), a legacy `Custom*` node type (its OAA name is the app's own).
# Top-level deprecated field → its RelatesToSpec field.
RELATION_FIELDS: Final[dict[str, str]] = {
    "destination_node_types": "node_types",
    "no_relation": "no_relation",
    "raw_permissions": "raw_permissions",
    "effective_permissions": "effective_permissions",
    "required_intermediate_node_types": "required_intermediate_node_types",
    "avoided_intermediate_node_types": "avoided_intermediate_node_types",
}
TAG_KEYS: Final[frozenset[str]] = frozenset({"type", "key", "value", "properties"})


@dataclass
class Modernized:
    spec: JSONObject
    rewritten: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def modernize(spec: JSONObject) -> Modernized:
    """The spec with every certain legacy mapping applied; see the module docstring."""
    result = Modernized(spec=copy.deepcopy(spec))
    _relations(result)
    _walk(result.spec, "spec", result)
    return result


def _is_plain_and(expression: JSONValue) -> bool:
    """An expression that legacy items may join: absent, or AND (the zero value) and not negated. ANDing more items
    into it keeps its meaning only then."""
    if expression is None:
        return True
    return (isinstance(expression, dict) and expression.get("operator", "AND") == "AND"
            and not expression.get("not"))


def _relations(result: Modernized) -> None:
    spec = result.spec
    legacy = [name for name in RELATION_FIELDS if name in spec]
    if not legacy:
        return
    if "relates_to_exp" in spec:
        result.left.append(f"spec: {', '.join(legacy)} kept beside relates_to_exp (how the two combine is not "
                           "certain)")
        return
    relation: JSONObject = {RELATION_FIELDS[name]: spec.pop(name) for name in legacy}
    spec["relates_to_exp"] = {"specs": [relation]}
    result.rewritten.append(f"spec: {', '.join(legacy)} → relates_to_exp.specs[0]")


def _walk(value: JSONValue, where: str, result: Modernized) -> None:
    """Every NodeSpec (an item of a `nodes` list), wherever it is."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", result)
        return
    if not isinstance(value, dict):
        return
    if "and_op_type" in value:
        result.left.append(f"{where}: and_op_type {value['and_op_type']} kept (its meaning is not documented)")
    for key, item in value.items():
        if key in OPAQUE_KEYS:  # user data: never walked into
            continue
        if key == "nodes" and isinstance(item, list):
            for index, node in enumerate(item):
                if isinstance(node, dict):
                    _node(node, f"{where}.nodes[{index}]", result)
        _walk(item, f"{where}.{key}", result)


def _all_objects(items: JSONValue, allowed: frozenset[str] | None = None) -> bool:
    return isinstance(items, list) and all(
        isinstance(item, dict) and (allowed is None or set(item) <= allowed) for item in items)


def _node(node: JSONObject, where: str, result: Modernized) -> None:
    if node.get("node_type") in LEGACY_TYPES:  # its OAA name depends on the app's own naming: lint suggests one
        result.left.append(f"{where}: legacy node type {node['node_type']} kept (lint names its OAA form)")
    conditions, tags, excluded = node.get("conditions"), node.get("tags"), node.get("excluded_tags")
    present = [name for name in ("conditions", "tags", "excluded_tags") if name in node]
    if present:
        expression = node.get("condition_expression")
        well_formed = (_all_objects(conditions or []) and _all_objects(tags or [], TAG_KEYS)
                       and _all_objects(excluded or [], TAG_KEYS))
        if not well_formed:
            result.left.append(f"{where}: {', '.join(present)} kept (an item is not the legacy shape)")
        elif not _is_plain_and(expression):
            result.left.append(f"{where}: {', '.join(present)} kept beside an OR or negated condition_expression")
        else:
            merged: JSONObject = dict(expression) if isinstance(expression, dict) else {}
            if conditions:
                merged["specs"] = [*_list(merged.get("specs")), *_list(conditions)]
            tag_specs = [{"tag": tag} for tag in _list(tags)] + [{"tag": tag, "exclude": True}
                                                                 for tag in _list(excluded)]
            if tag_specs:
                merged["tag_specs"] = [*_list(merged.get("tag_specs")), *tag_specs]
            for name in present:
                del node[name]
            if merged:
                node["condition_expression"] = merged
            result.rewritten.append(f"{where}: {', '.join(present)} → condition_expression")
    if "count_conditions" in node:
        counts, expression = node["count_conditions"], node.get("count_condition_expression")
        if not _all_objects(counts):
            result.left.append(f"{where}: count_conditions kept (an item is not the legacy shape)")
        elif not _is_plain_and(expression):
            result.left.append(f"{where}: count_conditions kept beside an OR or negated count_condition_expression")
        else:
            merged = dict(expression) if isinstance(expression, dict) else {}
            merged["specs"] = [*_list(merged.get("specs")), *_list(counts)]
            del node["count_conditions"]
            node["count_condition_expression"] = merged
            result.rewritten.append(f"{where}: count_conditions → count_condition_expression.specs")


def _list(value: JSONValue) -> list[JSONValue]:
    return list(value) if isinstance(value, list) else []
