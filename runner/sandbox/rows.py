"""A query result in compact form (arrays of node indexes and permission masks) and its wire-shaped pages.

Pure, no I/O. `QueryOutcome.page(offset, limit)` materializes only the rows asked for, from the `NodeView`
snapshot taken at evaluation time, so a million-row result costs a few arrays and later drift never leaks in.
Row shapes follow veza-api.md §5.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.sandbox.graph import NodeView
from runner.sandbox.permissions import effective_names, raw_names
from runner.sandbox.specmodel import NodeSet, RelatesExpr

PropertyChoice = Mapping[str, tuple[str, ...] | None]  # node type -> properties_to_get (None: all)
TagChoice = Mapping[str, tuple[tuple[str | None, str], ...] | None]  # node type -> tags_to_get (None: none)
# The risk level of an entity that has none: an enum is never null on the wire; NONE is Veza's lowest [assumed].
NO_RISK = "NONE"


@dataclass(frozen=True, kw_only=True)
class RowSet:
    """Rows in id order. Entity rows: `nodes` (+ `counts`, `masks`, optional `related` as CSR `starts`/`targets`);
    path rows: `nodes` are sources and `targets` their destinations, one pair per row."""

    view: NodeView
    paths: bool
    nodes: array[int]
    counts: array[int]
    masks: array[int]
    starts: array[int] | None = None  # CSR offsets into targets (entity rows with destination_node_ids)
    targets: array[int] | None = None
    properties: PropertyChoice = field(default_factory=dict)
    target_properties: PropertyChoice = field(default_factory=dict)
    all_tags: bool = False
    target_tags: bool = False
    tags_to_get: TagChoice = field(default_factory=dict)

    def _entity(self, index: int, chosen: PropertyChoice, tags: bool, tag_keys: TagChoice) -> dict[str, Any]:
        view = self.view
        type_name = view.type_name(index)
        props = view.properties(index)
        wanted = chosen.get(type_name)
        shown = props if wanted is None else {name: props[name] for name in wanted if name in props}
        node_tags = view.tags(index) if tags or tag_keys.get(type_name) else ()
        keys = tag_keys.get(type_name)
        if not tags and keys:
            node_tags = tuple(t for t in node_tags
                              if any(k == t.key and (ty is None or ty.upper() == t.type.upper()) for ty, k in keys))
        return {"id": view.ids[index], "type": type_name, "properties": shown,
                "tags": [tag.to_wire() for tag in node_tags], "risk_level": props.get("risk_level") or NO_RISK}

    def entity_row(self, position: int) -> dict[str, Any]:
        index, mask = self.nodes[position], self.masks[position]
        row = self._entity(index, self.properties, self.all_tags, self.tags_to_get)
        related: list[str] = []
        if self.starts is not None and self.targets is not None:
            ids = self.view.ids
            related = [ids[t] for t in self.targets[self.starts[position]:self.starts[position + 1]]]
        row.update(destination_node_count=self.counts[position], destination_node_ids=related, permissions=[],
                   raw_permissions=list(raw_names(mask)), effective_permissions=list(effective_names(mask)),
                   access_stats=None, engagement_access_stats=None)
        return row

    def path_row(self, position: int) -> dict[str, Any]:
        assert self.targets is not None
        mask = self.masks[position]
        source = self._entity(self.nodes[position], self.properties, self.all_tags, self.tags_to_get)
        target = self._entity(self.targets[position], self.target_properties, self.target_tags, {})
        if not self.all_tags:
            source.pop("tags")
        if not self.target_tags:
            target.pop("tags")
        return {"source": source, "destination": target, "abstract_permissions": list(effective_names(mask)),
                "concrete_permissions": list(raw_names(mask))}


@dataclass(frozen=True, kw_only=True)
class QueryOutcome:
    """The result of one evaluation: its (defaulted) result type, row count, abstract cost, warnings, and rows."""

    result_value_type: str
    total: int  # rows: values, or path_values for SOURCE_AND_DESTINATION_NODES
    cost: int  # nodes and edges visited; the server turns it into time
    warnings: tuple[str, ...]
    rows: RowSet = field(repr=False, compare=False)

    def page(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Rows `offset..offset+limit-1` as `(values, path_values)`; one of the two lists is always empty."""
        stop = min(self.total, max(0, offset) + max(0, limit))
        positions = range(max(0, offset), stop)
        if self.rows.paths:
            return [], [self.rows.path_row(p) for p in positions]
        return [self.rows.entity_row(p) for p in positions], []


def chosen_properties(nodes: NodeSet) -> dict[str, tuple[str, ...] | None]:
    """The properties each source type's rows carry: the first node spec naming the type decides."""
    chosen: dict[str, tuple[str, ...] | None] = {}
    for spec in nodes.specs:
        for name in spec.types:
            chosen.setdefault(name, spec.properties)
    return chosen


def chosen_tags(nodes: NodeSet) -> dict[str, tuple[tuple[str | None, str], ...] | None]:
    """The tags each source type's rows carry (`tags_to_get`): the first node spec naming the type decides."""
    return {name: spec.tags_to_get for spec in reversed(nodes.specs) for name in spec.types}


def target_properties(expr: RelatesExpr | None) -> dict[str, tuple[str, ...] | None]:
    """The properties of destination rows, from the relates-to expression's destination node specs, first wins."""
    chosen: dict[str, tuple[str, ...] | None] = {}
    if expr is None:
        return chosen
    for spec in expr.specs:
        if spec.destinations is not None:
            for name, props in chosen_properties(spec.destinations).items():
                chosen.setdefault(name, props)
    for child in expr.children:
        for name, props in target_properties(child).items():
            chosen.setdefault(name, props)
    return chosen
