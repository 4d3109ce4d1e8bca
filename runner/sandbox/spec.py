"""Parses an AssessmentQuerySpec (a JSON mapping) into the engine's frozen form, or raises `SpecError`.

Pure, no I/O. The spec is put in protojson's normal form and its shape checked by `runner.specshape` (what `vqr lint`
reports as spec/rejected); only the graph's own refusals (snapshots, node type names) are made here. Legacy forms
(NodeSpec `conditions`, `tags`, `count_conditions`..., top-level relation fields) are folded in, each with a warning.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from runner.catalog import NODE_TYPES
from runner.model import JSONValue
from runner.protojson import normalise
from runner.sandbox.node_types import legacy_modern_name, resolve_node_type
from runner.sandbox.specmodel import (
    Condition,
    ConditionExpr,
    CountExpr,
    NodeSet,
    NodeSpec,
    PermissionFilter,
    Query,
    RelatesExpr,
    RelatesSpec,
    SpecError,
    TagFilter,
)
from runner.specshape import enum_name, spec_problems

__all__ = ["Condition", "ConditionExpr", "CountExpr", "NodeSet", "NodeSpec", "PermissionFilter", "Query",
           "RelatesExpr", "RelatesSpec", "SpecError", "TagFilter", "enum_value", "parse_spec"]
# Each deprecated top-level relation field, and where it lives in relates_to_exp today (veza-api.md §4).
DEPRECATED = {"destination_node_types": "node_types",
              "required_intermediate_node_types": "required_intermediate_node_types",
              "avoided_intermediate_node_types": "avoided_intermediate_node_types",
              "raw_permissions": "raw_permissions", "effective_permissions": "effective_permissions",
              "no_relation": "no_relation"}
# Each legacy NodeSpec field and its modern replacement; the engine evaluates both, ANDed [assumed].
LEGACY_NODE_FIELDS = {"tags": "condition_expression.tag_specs",
                      "conditions": "condition_expression.specs",
                      "excluded_tags": "condition_expression.tag_specs with exclude: true",
                      "count_conditions": "count_condition_expression.specs"}


def enum_value(kind: str, raw: Any, field: str) -> str:
    """An enum given by name or number (names matched case-insensitively); absent means its zero value (proto3)."""
    name = enum_name(kind, raw)
    if name is None:  # never after `spec_problems`; kept for callers that pass raw values
        raise SpecError(f"invalid value for enum {kind}: {raw!r}", field=field)
    return name


# The parser below runs on a spec `spec_problems` found nothing in, so these shapes hold; `field` is unused.
def _mapping(raw: Any, field: str) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _list(raw: Any, field: str) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _int64(raw: Any, field: str) -> int:
    return int(raw)


class _Parser:
    def __init__(self, node_types: Collection[str]) -> None:
        self.warnings: list[str] = []
        self.node_types = node_types  # the graph's concrete types (what node_type names resolve to)

    def condition_expr(self, raw: Any, field: str) -> ConditionExpr | None:
        data = _mapping(raw, field)
        if not data:
            return None
        conditions = [self.condition(item, f"{field}.specs[{i}]")
                      for i, item in enumerate(_list(data.get("specs"), f"{field}.specs"))]
        tag_specs = [_mapping(item, f"{field}.tag_specs[{i}]")
                     for i, item in enumerate(_list(data.get("tag_specs"), f"{field}.tag_specs"))]
        tags = [self.tag(item.get("tag"), f"{field}.tag_specs[{i}].tag", exclude=bool(item.get("exclude")))
                for i, item in enumerate(tag_specs)]
        children = tuple(child for i, item in enumerate(_list(data.get("child_expressions"), f"{field}.children"))
                         if (child := self.condition_expr(item, f"{field}.child_expressions[{i}]")) is not None)
        return ConditionExpr(conditions=tuple(conditions), tags=tuple(tags), children=children,
                             use_and=enum_value("operator", data.get("operator"), f"{field}.operator") == "AND",
                             negate=bool(data.get("not")))

    @staticmethod
    def condition(raw: Any, at: str) -> Condition:
        cond = _mapping(raw, at)
        return Condition(fn=enum_value("fn", cond.get("fn"), f"{at}.fn"), prop=cond["property"],
                         value=cond.get("value"), negate=bool(cond.get("not")),
                         value_property=cond.get("value_property_name") or None,
                         from_other_node=bool(cond.get("value_property_from_other_node")))

    @staticmethod
    def tag(raw: Any, at: str, *, exclude: bool) -> TagFilter:
        """A tag (`{type, key, value}`): the entity must carry it, or, with `exclude`, must not."""
        tag = _mapping(raw, at)
        value = tag.get("value")  # "" is protojson's unset string: any value [assumed]
        return TagFilter(type=tag.get("type") or None, key=tag["key"],
                         value=None if value in (None, "") else str(value), exclude=exclude)

    @staticmethod
    def count_spec(raw: Any, at: str) -> tuple[str, int]:
        spec = _mapping(raw, at)
        value = spec.get("value")  # an int64 string: "" is its unset value, 0
        return enum_value("fn", spec.get("fn"), f"{at}.fn"), 0 if value in (None, "") else _int64(value, f"{at}.value")

    def node_condition(self, node: Mapping[str, Any], at: str) -> ConditionExpr | None:
        """`condition_expression` ANDed with the legacy `conditions`, `tags` and `excluded_tags`."""
        modern = self.condition_expr(node.get("condition_expression"), f"{at}.condition_expression")
        conditions = tuple(self.condition(item, f"{at}.conditions[{i}]")
                           for i, item in enumerate(_list(node.get("conditions"), f"{at}.conditions")))
        tags = tuple(self.tag(item, f"{at}.{name}[{i}]", exclude=name == "excluded_tags")
                     for name in ("tags", "excluded_tags")
                     for i, item in enumerate(_list(node.get(name), f"{at}.{name}")))
        if not conditions and not tags:
            return modern
        return ConditionExpr(conditions=conditions, tags=tags, children=(modern,) if modern else (), use_and=True,
                             negate=False)

    def node_count(self, node: Mapping[str, Any], at: str) -> CountExpr | None:
        """`count_condition_expression` ANDed with the legacy `count_conditions`."""
        modern = self.count_expr(node.get("count_condition_expression"), f"{at}.count_condition_expression")
        specs = tuple(self.count_spec(item, f"{at}.count_conditions[{i}]")
                      for i, item in enumerate(_list(node.get("count_conditions"), f"{at}.count_conditions")))
        if not specs:
            return modern
        return CountExpr(specs=specs, children=(modern,) if modern else (), use_and=True, negate=False,
                         include_zero=modern is not None and modern.include_zero)

    def count_expr(self, raw: Any, field: str) -> CountExpr | None:
        data = _mapping(raw, field)
        if not data:
            return None
        specs = [self.count_spec(item, f"{field}.specs[{i}]")
                 for i, item in enumerate(_list(data.get("specs"), f"{field}.specs"))]
        children = tuple(child for i, item in enumerate(_list(data.get("child_expressions"), f"{field}.children"))
                         if (child := self.count_expr(item, f"{field}.child_expressions[{i}]")) is not None)
        return CountExpr(specs=tuple(specs), children=children,
                         use_and=enum_value("operator", data.get("operator"), f"{field}.operator") == "AND",
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
            if (modern := legacy_modern_name(name, node)) is not None:
                self.warnings.append(f"{at}.node_type {name} is a legacy (pre-2023-10) OAA type: use {modern}")
            for legacy in LEGACY_NODE_FIELDS:
                if node.get(legacy):
                    self.warnings.append(f"{at}.{legacy} is a legacy field: use {LEGACY_NODE_FIELDS[legacy]}")
            props = node.get("properties_to_get")
            tags = node.get("tags_to_get")
            specs.append(NodeSpec(
                types=types, node_id=str(node["node_id"]) if node.get("node_id") else None,
                condition=self.node_condition(node, at), count=self.node_count(node, at),
                direct_only=bool(node.get("direct_relationship_only")),
                properties=tuple(str(p) for p in _list(props, f"{at}.properties_to_get")) if props else None,
                tags_to_get=tuple((t.get("type") or None, str(t.get("key"))) for t in _list(tags, f"{at}.tags_to_get"))
                if tags else None))
        use_and = enum_value("operator", data.get("nodes_operator"), f"{field}.nodes_operator") == "AND"
        return NodeSet(specs=tuple(specs), use_and=use_and)

    def intermediates(self, raw: Any, field: str) -> NodeSet | None:
        """Required or avoided intermediates: node specs whose type, node_id and conditions all count. A count
        condition, `direct_relationship_only` or a comparison with the other node has no meaning on a node in
        the middle of a path: `spec_problems` refuses those, so the engine ignores them here."""
        return self.node_set(raw, field)

    def permissions(self, raw: Any, field: str, *, effective: bool) -> PermissionFilter | None:
        data = _mapping(raw, field)
        values = _list(data.get("values"), f"{field}.values")
        if not values:
            return None
        names = tuple(enum_value("effective_permissions", v, f"{field}.values[{i}]") if effective else str(v)
                      for i, v in enumerate(values))
        return PermissionFilter(values=names, use_and=enum_value(
            "operator", data.get("operator"), f"{field}.operator") == "AND")

    def relates_spec(self, data: Mapping[str, Any], field: str, *,
                     names: Mapping[str, str] | None = None) -> RelatesSpec:
        """One relates-to spec; `names` maps each of its fields to the key `data` holds it under (the top level
        spells `node_types` as `destination_node_types`), so a refusal names the field the client sent."""
        def at(name: str) -> tuple[Any, str]:
            key = names.get(name, name) if names is not None else name
            return data.get(key), f"{field}.{key}" if field else key

        return RelatesSpec(
            destinations=self.node_set(*at("node_types")),
            required=self.intermediates(*at("required_intermediate_node_types")),
            avoided=self.intermediates(*at("avoided_intermediate_node_types")),
            effective=self.permissions(*at("effective_permissions"), effective=True),
            raw=self.permissions(*at("raw_permissions"), effective=False),
            no_relation=bool(at("no_relation")[0]))

    def relates_expr(self, raw: Any, field: str) -> RelatesExpr | None:
        data = _mapping(raw, field)
        specs = tuple(self.relates_spec(_mapping(item, f"{field}.specs[{i}]"), f"{field}.specs[{i}]")
                      for i, item in enumerate(_list(data.get("specs"), f"{field}.specs")))
        children = tuple(child for i, item in enumerate(_list(data.get("child_expressions"), f"{field}.children"))
                         if (child := self.relates_expr(item, f"{field}.child_expressions[{i}]")) is not None)
        if not specs and not children:
            return None
        return RelatesExpr(specs=specs, children=children, negate=bool(data.get("not")),
                           use_and=enum_value("operator", data.get("operator"), f"{field}.operator") == "AND")


def parse_spec(raw: Mapping[str, Any], *, node_types: Collection[str] = tuple(NODE_TYPES)) -> Query:
    """The engine's form of a spec; `SpecError` (InvalidArgument or NotFound) when the sandbox must refuse it.
    `node_types`: the concrete types of the graph (node_type names resolve to them, `node_types.py`)."""
    normal = normalise(dict(raw))
    assert isinstance(normal, dict)
    spec: dict[str, JSONValue] = normal
    parser = _Parser(node_types)
    snapshot = spec.get("snapshot_id")
    if snapshot is not None:  # the sandbox's own refusal: it keeps no snapshots (not a shape, lint cannot know)
        raise SpecError(f"snapshot {snapshot} not found", field="snapshot_id", code="NotFound",
                        resolution='Send snapshot_id "0" (the current graph) or the id of an existing snapshot.')
    problems = spec_problems(spec)
    if problems:
        raise SpecError(problems[0].message, field=problems[0].field)
    enum_value("query_type", spec.get("query_type"), "query_type")
    mode = enum_value("node_relationship_type", spec.get("node_relationship_type"), "node_relationship_type")
    result = enum_value("result_value_type", spec.get("result_value_type"), "result_value_type")
    sources = parser.node_set(spec.get("source_node_types"), "source_node_types")
    assert sources is not None  # spec_problems refuses a spec without sources
    relates = parser.relates_expr(spec.get("relates_to_exp"), "relates_to_exp")
    used = [name for name in DEPRECATED if name in spec]
    if used:
        parser.warnings += [f"{name} is deprecated: use relates_to_exp.specs[].{DEPRECATED[name]}" for name in used]
        folded = parser.relates_spec(spec, "", names={"node_types": "destination_node_types"})
        deprecated = RelatesExpr(specs=(folded,), children=(), use_and=True, negate=False)
        relates = deprecated if relates is None else RelatesExpr(specs=(), children=(relates, deprecated),
                                                                 use_and=True, negate=False)
    return Query(
        sources=sources, relates=relates, configured=mode == "CONFIGURED", result=result,
        all_entities=parser.condition_expr(spec.get("all_entity_condition"), "all_entity_condition"),
        source_tags=bool(spec.get("include_all_source_tags_in_results")),
        destination_tags=bool(spec.get("include_all_destination_tags_in_results")),
        include_nodes=bool(spec.get("include_nodes")), warnings=tuple(parser.warnings))
