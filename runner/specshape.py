"""The shape rules of an AssessmentQuerySpec that the sandbox refuses with 400 and `vqr lint` reports: one source.

`spec_problems(normal)` takes a spec in protojson's normal form and returns every `Problem` (path, message) in the
order the sandbox meets them; pure, no I/O. Not here, because they are facts about one graph, not shapes: an
unknown snapshot (NotFound) and a string node_type that is not a NodeType of the graph (lint only warns on those).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.model import JSONPath
from runner.protojson import EFFECTIVE_PERMISSION_NAMES, ENUM_NAMES

ENUMS = {**ENUM_NAMES, "effective_permissions": EFFECTIVE_PERMISSION_NAMES}
# The deprecated top-level relation fields; with any of them present the top level is read as one relates-to spec.
DEPRECATED = ("destination_node_types", "required_intermediate_node_types", "avoided_intermediate_node_types",
              "raw_permissions", "effective_permissions", "no_relation")


@dataclass(frozen=True)
class Problem:
    path: JSONPath  # inside the spec
    message: str

    @property
    def field(self) -> str:
        """The path as the sandbox's error names it: `a.b[0].c`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


def enum_name(kind: str, raw: Any) -> str | None:
    """An enum given by name or number (names matched case-insensitively) as its name; absent means its zero value
    (proto3); None when `raw` is no value of the enum."""
    names = ENUMS[kind]
    if raw is None or raw == "":
        return names[0]
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(names):
        return names[raw]
    if isinstance(raw, str):
        if raw.isascii() and raw.isdigit() and int(raw) < len(names):  # str.isdigit() also takes '²'
            return names[int(raw)]
        if raw.upper() in names:
            return raw.upper()
    return None


def _field(path: JSONPath) -> str:
    return Problem(path, "").field


class _Walk:
    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, path: JSONPath, message: str) -> None:
        self.found.append(Problem(path, message))

    def mapping(self, raw: Any, path: JSONPath) -> Mapping[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.add(path, f"{_field(path)} must be an object")
            return {}
        return raw

    def seq(self, raw: Any, path: JSONPath) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(path, f"{_field(path)} must be a list")
            return []
        return raw

    def enum(self, kind: str, raw: Any, path: JSONPath) -> None:
        if enum_name(kind, raw) is None:
            self.add(path, f"invalid value for enum {kind}: {raw!r}")

    def condition_expr(self, raw: Any, path: JSONPath) -> None:
        data = self.mapping(raw, path)
        if not data:
            return
        for i, item in enumerate(self.seq(data.get("specs"), (*path, "specs"))):
            self.condition(item, (*path, "specs", i))
        for i, item in enumerate(self.seq(data.get("tag_specs"), (*path, "tag_specs"))):
            self.tag(self.mapping(item, (*path, "tag_specs", i)).get("tag"), (*path, "tag_specs", i, "tag"))
        for i, item in enumerate(self.seq(data.get("child_expressions"), (*path, "child_expressions"))):
            self.condition_expr(item, (*path, "child_expressions", i))
        self.enum("operator", data.get("operator"), (*path, "operator"))

    def condition(self, raw: Any, path: JSONPath) -> None:
        cond = self.mapping(raw, path)
        if not isinstance(cond.get("property"), str):
            self.add((*path, "property"), "a condition needs a property")
        self.enum("fn", cond.get("fn"), (*path, "fn"))

    def tag(self, raw: Any, path: JSONPath) -> None:
        if not isinstance(self.mapping(raw, path).get("key"), str):
            self.add((*path, "key"), "a tag needs a key")

    def count_spec(self, raw: Any, path: JSONPath) -> None:
        spec = self.mapping(raw, path)
        self.enum("fn", spec.get("fn"), (*path, "fn"))
        value = spec.get("value")  # an int64 string: "" is its unset value, 0
        if value not in (None, ""):
            try:
                int(value)
            except (TypeError, ValueError, OverflowError):  # OverflowError: int(float('inf'))
                self.add((*path, "value"), f"{_field((*path, 'value'))} must be an integer")

    def count_expr(self, raw: Any, path: JSONPath) -> None:
        data = self.mapping(raw, path)
        if not data:
            return
        for i, item in enumerate(self.seq(data.get("specs"), (*path, "specs"))):
            self.count_spec(item, (*path, "specs", i))
        for i, item in enumerate(self.seq(data.get("child_expressions"), (*path, "child_expressions"))):
            self.count_expr(item, (*path, "child_expressions", i))
        self.enum("operator", data.get("operator"), (*path, "operator"))

    def node(self, node: Mapping[str, Any], path: JSONPath) -> None:
        name = node.get("node_type")
        if name is None:  # absent, null or "" (protojson's unset string)
            self.add((*path, "node_type"), "a node spec needs a node_type")
        elif not isinstance(name, str):
            self.add((*path, "node_type"), f"{name} is not a valid NodeType")
        self.condition_expr(node.get("condition_expression"), (*path, "condition_expression"))
        for i, item in enumerate(self.seq(node.get("conditions"), (*path, "conditions"))):
            self.condition(item, (*path, "conditions", i))
        for key in ("tags", "excluded_tags"):
            for i, item in enumerate(self.seq(node.get(key), (*path, key))):
                self.tag(item, (*path, key, i))
        self.count_expr(node.get("count_condition_expression"), (*path, "count_condition_expression"))
        for i, item in enumerate(self.seq(node.get("count_conditions"), (*path, "count_conditions"))):
            self.count_spec(item, (*path, "count_conditions", i))
        if node.get("properties_to_get"):  # the sandbox reads these two only when they hold something
            self.seq(node["properties_to_get"], (*path, "properties_to_get"))
        if node.get("tags_to_get"):
            for i, item in enumerate(self.seq(node["tags_to_get"], (*path, "tags_to_get"))):
                if not isinstance(item, Mapping):  # null too: the sandbox reads a key from each
                    self.add((*path, "tags_to_get", i), f"{_field((*path, 'tags_to_get', i))} must be an object")

    def node_set(self, raw: Any, path: JSONPath) -> list[Mapping[str, Any]]:
        """The node specs of a node set (each checked), for the callers that refuse more."""
        data = self.mapping(raw, path)
        nodes = [self.mapping(item, (*path, "nodes", i))
                 for i, item in enumerate(self.seq(data.get("nodes"), (*path, "nodes")))]
        for i, node in enumerate(nodes):
            self.node(node, (*path, "nodes", i))
        if nodes:
            self.enum("operator", data.get("nodes_operator"), (*path, "nodes_operator"))
        return nodes

    def intermediates(self, raw: Any, path: JSONPath) -> None:
        """A count condition, `direct_relationship_only` or a comparison with the other node has no meaning on a
        node in the middle of a path: refused, never dropped."""
        for i, node in enumerate(self.node_set(raw, path)):
            at = (*path, "nodes", i)
            expression = node.get("count_condition_expression")
            if node.get("count_conditions") or (isinstance(expression, Mapping) and expression):
                key = "count_conditions" if node.get("count_conditions") else "count_condition_expression"
                self.add((*at, key), "an intermediate node takes no count condition: it counts no destinations")
            if node.get("direct_relationship_only"):
                self.add((*at, "direct_relationship_only"),
                         "direct_relationship_only has no meaning on an intermediate node")
            if _compares_other_node(node):
                key = "conditions" if node.get("conditions") else "condition_expression"
                self.add((*at, key), "an intermediate node's condition cannot compare with the other node")

    def permissions(self, raw: Any, path: JSONPath, *, effective: bool) -> None:
        data = self.mapping(raw, path)
        values = self.seq(data.get("values"), (*path, "values"))
        if not values:
            return
        if effective:
            for i, value in enumerate(values):
                self.enum("effective_permissions", value, (*path, "values", i))
        self.enum("operator", data.get("operator"), (*path, "operator"))

    def relates_spec(self, data: Mapping[str, Any], path: JSONPath, *, top: bool = False) -> None:
        # The top level spells a relates-to spec's `node_types` as `destination_node_types`.
        destinations = "destination_node_types" if top else "node_types"
        self.node_set(data.get(destinations), (*path, destinations))
        for key in ("required_intermediate_node_types", "avoided_intermediate_node_types"):
            self.intermediates(data.get(key), (*path, key))
        self.permissions(data.get("effective_permissions"), (*path, "effective_permissions"), effective=True)
        self.permissions(data.get("raw_permissions"), (*path, "raw_permissions"), effective=False)

    def relates_expr(self, raw: Any, path: JSONPath) -> bool:
        """Checks one relates-to expression; whether it holds any spec (an empty one is no filter at all)."""
        data = self.mapping(raw, path)
        specs = self.seq(data.get("specs"), (*path, "specs"))
        for i, item in enumerate(specs):
            self.relates_spec(self.mapping(item, (*path, "specs", i)), (*path, "specs", i))
        children = [self.relates_expr(item, (*path, "child_expressions", i))
                    for i, item in enumerate(self.seq(data.get("child_expressions"), (*path, "child_expressions")))]
        if not specs and not any(children):
            return False
        self.enum("operator", data.get("operator"), (*path, "operator"))
        return True


def _compares_other_node(node: Mapping[str, Any]) -> bool:
    """Whether any condition of a node spec (legacy `conditions` or the expression tree) sets
    `value_property_from_other_node`."""
    def items(raw: Any) -> list[Any]:
        return raw if isinstance(raw, list) else []

    conditions = items(node.get("conditions"))
    stack = [node.get("condition_expression")]
    while stack:
        expression = stack.pop()
        if isinstance(expression, Mapping):
            conditions = [*conditions, *items(expression.get("specs"))]
            stack += items(expression.get("child_expressions"))
    return any(isinstance(c, Mapping) and c.get("value_property_from_other_node") for c in conditions)


def spec_problems(normal: Mapping[str, Any]) -> list[Problem]:
    """Every shape problem of a spec in protojson's normal form; empty when the sandbox can run it."""
    walk = _Walk()
    for kind in ("query_type", "node_relationship_type", "result_value_type"):
        walk.enum(kind, normal.get(kind), (kind,))
    if not walk.node_set(normal.get("source_node_types"), ("source_node_types",)):
        walk.add(("source_node_types", "nodes"), "source_node_types must name at least one node type")
    walk.relates_expr(normal.get("relates_to_exp"), ("relates_to_exp",))
    if any(name in normal for name in DEPRECATED):
        walk.relates_spec(normal, (), top=True)
    walk.condition_expr(normal.get("all_entity_condition"), ("all_entity_condition",))
    return walk.found
