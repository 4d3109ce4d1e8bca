"""The engine's frozen form of an AssessmentQuerySpec, and `SpecError`, the refusal of a spec.

Pure values, no I/O. `spec.parse_spec` builds them (legacy forms already folded in); `engine` and `conditions` read
them. Every operator here is already resolved: absent means the proto3 zero value (AND, EQ), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SpecError(Exception):
    """A spec the sandbox refuses: `code` is a gRPC code name (InvalidArgument, NotFound), `field` the JSON path."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "InvalidArgument",
                 resolution: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.resolution = resolution  # what the user can do; None: the generic sentence of `code`


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
    required: NodeSet | None  # intermediates, each spec evaluated in full (type, node_id, conditions)
    avoided: NodeSet | None
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
