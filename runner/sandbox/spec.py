"""Parses an AssessmentQuerySpec (a JSON mapping) into the engine's frozen form, or raises `SpecError`.

Pure, no I/O. Enums arrive as names or integers, int64 values as strings or ints. Deprecated top-level relation
fields are folded into one relates-to spec with a warning; legacy NodeSpec fields are ignored with a warning.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from runner.catalog import NODE_TYPES
from runner.protojson import EFFECTIVE_PERMISSION_NAMES, ENUM_NAMES
from runner.sandbox.node_types import resolve_node_type

ENUMS = {**ENUM_NAMES, "effective_permissions": EFFECTIVE_PERMISSION_NAMES}
DEFAULT_RESULT = "SOURCE_NODES_WITH_COUNTS"  # [assumed]: what Veza's query builder shows by default
DEPRECATED = ("destination_node_types", "required_intermediate_node_types", "avoided_intermediate_node_types",
              "raw_permissions", "effective_permissions", "no_relation")
LEGACY_NODE_FIELDS = ("tags", "conditions", "excluded_tags", "count_conditions")


class SpecError(Exception):
    """A spec the sandbox refuses: `code` is a gRPC code name (InvalidArgument, NotFound), `field` the JSON path."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "InvalidArgument") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True, kw_only=True)
class Condition:
    fn: str
    prop: str
    value: Any
    negate: bool
    value_property: str | None  # compare with this property instead of `value`
    from_other_node: bool  # ... of the other node of the relation (the source, for a destination)


@dataclass(frozen=True, kw_only=True)
class TagFilter:
    type: str | None
    key: str
    value: str | None
    exclude: bool


@dataclass(frozen=True, kw_only=True)
class ConditionExpr:
    conditions: tuple[Condition, ...]
    tags: tuple[TagFilter, ...]
    children: tuple[ConditionExpr, ...]
    use_and: bool
    negate: bool


@dataclass(frozen=True, kw_only=True)
class CountExpr:
    specs: tuple[tuple[str, int], ...]  # (fn, value)
    children: tuple[CountExpr, ...]
    use_and: bool
    negate: bool
    include_zero: bool


@dataclass(frozen=True, kw_only=True)
class NodeSpec:
    types: tuple[str, ...]  # concrete types (a grouping expanded)
    node_id: str | None
    condition: ConditionExpr | None
    count: CountExpr | None
    direct_only: bool
    properties: tuple[str, ...] | None
    tags_to_get: tuple[tuple[str | None, str], ...] | None


@dataclass(frozen=True, kw_only=True)
class NodeSet:
    specs: tuple[NodeSpec, ...]
    use_and: bool


@dataclass(frozen=True, kw_only=True)
class PermissionFilter:
    values: tuple[str, ...]
    use_and: bool


@dataclass(frozen=True, kw_only=True)
class RelatesSpec:
    destinations: NodeSet | None  # None: any node
    required: tuple[str, ...] | None
    avoided: tuple[str, ...]
    effective: PermissionFilter | None
    raw: PermissionFilter | None
    no_relation: bool


@dataclass(frozen=True, kw_only=True)
class RelatesExpr:
    specs: tuple[RelatesSpec, ...]
    children: tuple[RelatesExpr, ...]
    use_and: bool
    negate: bool


@dataclass(frozen=True, kw_only=True)
class Query:
    sources: NodeSet
    relates: RelatesExpr | None
    configured: bool  # node_relationship_type CONFIGURED (direct edges) rather than EFFECTIVE_ACCESS
    result: str
    all_entities: ConditionExpr | None
    source_tags: bool
    destination_tags: bool
    include_nodes: bool
    warnings: tuple[str, ...]


def enum_value(kind: str, raw: Any, field: str, default: str) -> str:
    """An enum given by name or number (names are matched case-insensitively)."""
    names = ENUMS[kind]
    if raw is None or raw == "":
        return default
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(names):
        return names[raw]
    if isinstance(raw, str):
        if raw.isdigit() and int(raw) < len(names):
            return names[int(raw)]
        if raw.upper() in names:
            return raw.upper()
    raise SpecError(f"invalid value for enum {kind}: {raw!r}", field=field)


def _mapping(raw: Any, field: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"{field} must be an object", field=field)
    return raw


def _list(raw: Any, field: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SpecError(f"{field} must be a list", field=field)
    return raw


def _int64(raw: Any, field: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise SpecError(f"{field} must be an integer", field=field) from None


class _Parser:
    def __init__(self, node_types: Collection[str]) -> None:
        self.warnings: list[str] = []
        self.node_types = node_types  # the graph's concrete types (what node_type names resolve to)

    def condition_expr(self, raw: Any, field: str) -> ConditionExpr | None:
        data = _mapping(raw, field)
        if not data:
            return None
        conditions = []
        for i, item in enumerate(_list(data.get("specs"), f"{field}.specs")):
            at = f"{field}.specs[{i}]"
            cond = _mapping(item, at)
            if not isinstance(cond.get("property"), str):
                raise SpecError("a condition needs a property", field=f"{at}.property")
            conditions.append(Condition(
                fn=enum_value("fn", cond.get("fn"), f"{at}.fn", "EQ"), prop=cond["property"],
                value=cond.get("value"), negate=bool(cond.get("not")),
                value_property=cond.get("value_property_name") or None,
                from_other_node=bool(cond.get("value_property_from_other_node"))))
        tags = []
        for i, item in enumerate(_list(data.get("tag_specs"), f"{field}.tag_specs")):
            tag = _mapping(_mapping(item, f"{field}.tag_specs[{i}]").get("tag"), f"{field}.tag_specs[{i}].tag")
            if not isinstance(tag.get("key"), str):
                raise SpecError("a tag spec needs a key", field=f"{field}.tag_specs[{i}].tag.key")
            tags.append(TagFilter(type=tag.get("type") or None, key=tag["key"], value=tag.get("value"),
                                  exclude=bool(item.get("exclude"))))
        children = tuple(child for i, item in enumerate(_list(data.get("child_expressions"), f"{field}.children"))
                         if (child := self.condition_expr(item, f"{field}.child_expressions[{i}]")) is not None)
        return ConditionExpr(conditions=tuple(conditions), tags=tuple(tags), children=children,
                             use_and=enum_value("operator", data.get("operator"), f"{field}.operator", "AND") == "AND",
                             negate=bool(data.get("not")))

    def count_expr(self, raw: Any, field: str) -> CountExpr | None:
        data = _mapping(raw, field)
        if not data:
            return None
        specs = []
        for i, item in enumerate(_list(data.get("specs"), f"{field}.specs")):
            spec = _mapping(item, f"{field}.specs[{i}]")
            specs.append((enum_value("fn", spec.get("fn"), f"{field}.specs[{i}].fn", "EQ"),
                          _int64(spec.get("value", 0), f"{field}.specs[{i}].value")))
        children = tuple(child for i, item in enumerate(_list(data.get("child_expressions"), f"{field}.children"))
                         if (child := self.count_expr(item, f"{field}.child_expressions[{i}]")) is not None)
        return CountExpr(specs=tuple(specs), children=children,
                         use_and=enum_value("operator", data.get("operator"), f"{field}.operator", "AND") == "AND",
                         negate=bool(data.get("not")), include_zero=bool(data.get("include_zero_count_results")))

    def node_set(self, raw: Any, field: str) -> NodeSet | None:
        data = _mapping(raw, field)
        nodes = _list(data.get("nodes"), f"{field}.nodes")
        if not nodes:
            return None
        specs = []
        for i, item in enumerate(nodes):
            at = f"{field}.nodes[{i}]"
            node = _mapping(item, at)
            name = node.get("node_type")
            types = resolve_node_type(name, self.node_types)
            if types is None:
                raise SpecError(f"{name} is not a valid NodeType", field=f"{at}.node_type")
            for legacy in LEGACY_NODE_FIELDS:
                if node.get(legacy):
                    self.warnings.append(f"{at}.{legacy} is a legacy field; the sandbox ignores it")
            props = node.get("properties_to_get")
            tags = node.get("tags_to_get")
            specs.append(NodeSpec(
                types=types, node_id=str(node["node_id"]) if node.get("node_id") else None,
                condition=self.condition_expr(node.get("condition_expression"), f"{at}.condition_expression"),
                count=self.count_expr(node.get("count_condition_expression"), f"{at}.count_condition_expression"),
                direct_only=bool(node.get("direct_relationship_only")),
                properties=tuple(str(p) for p in _list(props, f"{at}.properties_to_get")) if props else None,
                tags_to_get=tuple((t.get("type") or None, str(t.get("key"))) for t in _list(tags, f"{at}.tags_to_get"))
                if tags else None))
        use_and = enum_value("operator", data.get("nodes_operator"), f"{field}.nodes_operator", "OR") == "AND"
        return NodeSet(specs=tuple(specs), use_and=use_and)

    def types_of(self, raw: Any, field: str) -> tuple[str, ...] | None:
        nodes = self.node_set(raw, field)
        return None if nodes is None else tuple(sorted({t for spec in nodes.specs for t in spec.types}))

    def permissions(self, raw: Any, field: str, *, effective: bool) -> PermissionFilter | None:
        data = _mapping(raw, field)
        values = _list(data.get("values"), f"{field}.values")
        if not values:
            return None
        names = tuple(enum_value("effective_permissions", v, f"{field}.values[{i}]", "") if effective else str(v)
                      for i, v in enumerate(values))
        return PermissionFilter(values=names, use_and=enum_value(
            "operator", data.get("operator"), f"{field}.operator", "OR") == "AND")

    def relates_spec(self, data: Mapping[str, Any], field: str) -> RelatesSpec:
        return RelatesSpec(
            destinations=self.node_set(data.get("node_types"), f"{field}.node_types"),
            required=self.types_of(data.get("required_intermediate_node_types"),
                                   f"{field}.required_intermediate_node_types"),
            avoided=self.types_of(data.get("avoided_intermediate_node_types"),
                                  f"{field}.avoided_intermediate_node_types") or (),
            effective=self.permissions(data.get("effective_permissions"), f"{field}.effective_permissions",
                                       effective=True),
            raw=self.permissions(data.get("raw_permissions"), f"{field}.raw_permissions", effective=False),
            no_relation=bool(data.get("no_relation")))

    def relates_expr(self, raw: Any, field: str) -> RelatesExpr | None:
        data = _mapping(raw, field)
        specs = tuple(self.relates_spec(_mapping(item, f"{field}.specs[{i}]"), f"{field}.specs[{i}]")
                      for i, item in enumerate(_list(data.get("specs"), f"{field}.specs")))
        children = tuple(child for i, item in enumerate(_list(data.get("child_expressions"), f"{field}.children"))
                         if (child := self.relates_expr(item, f"{field}.child_expressions[{i}]")) is not None)
        if not specs and not children:
            return None
        return RelatesExpr(specs=specs, children=children, negate=bool(data.get("not")),
                           use_and=enum_value("operator", data.get("operator"), f"{field}.operator", "AND") == "AND")


def parse_spec(spec: Mapping[str, Any], *, node_types: Collection[str] = tuple(NODE_TYPES)) -> Query:
    """The engine's form of a spec; `SpecError` (InvalidArgument or NotFound) when the sandbox must refuse it.
    `node_types`: the concrete types of the graph (node_type names resolve to them, `node_types.py`)."""
    parser = _Parser(node_types)
    snapshot = spec.get("snapshot_id")
    if snapshot not in (None, "", 0, "0"):
        raise SpecError(f"snapshot {snapshot} not found", field="snapshot_id", code="NotFound")
    enum_value("query_type", spec.get("query_type"), "query_type", "SOURCE_TO_DESTINATION")
    mode = enum_value("node_relationship_type", spec.get("node_relationship_type"), "node_relationship_type",
                      "EFFECTIVE_ACCESS")
    result = enum_value("result_value_type", spec.get("result_value_type"), "result_value_type", DEFAULT_RESULT)
    sources = parser.node_set(spec.get("source_node_types"), "source_node_types")
    if sources is None:
        raise SpecError("source_node_types must name at least one node type", field="source_node_types.nodes")
    relates = parser.relates_expr(spec.get("relates_to_exp"), "relates_to_exp")
    used = [name for name in DEPRECATED if spec.get(name) not in (None, False, [], {})]
    if used:
        parser.warnings.append(f"deprecated fields {', '.join(used)}: use relates_to_exp instead")
        folded = parser.relates_spec({**{name: spec.get(name) for name in used},
                                      "node_types": spec.get("destination_node_types")}, "")
        deprecated = RelatesExpr(specs=(folded,), children=(), use_and=True, negate=False)
        relates = deprecated if relates is None else RelatesExpr(specs=(), children=(relates, deprecated),
                                                                 use_and=True, negate=False)
    return Query(
        sources=sources, relates=relates, configured=mode == "CONFIGURED", result=result,
        all_entities=parser.condition_expr(spec.get("all_entity_condition"), "all_entity_condition"),
        source_tags=bool(spec.get("include_all_source_tags_in_results")),
        destination_tags=bool(spec.get("include_all_destination_tags_in_results")),
        include_nodes=bool(spec.get("include_nodes")), warnings=tuple(parser.warnings))
