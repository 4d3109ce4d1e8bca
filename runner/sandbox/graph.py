"""The sandbox's access graph: nodes in contiguous blocks per type, typed edges packed into ints, lazy attributes.

In memory only, no I/O. Node attributes (properties, tags) are derived on demand from (type, ordinal) by an
`AttributeSource`, plus copy-on-write overrides written by drift; `view()` is an immutable snapshot of them.
Per-version caches hold derived indexes; `version` is bumped by every mutation, which drops them.
"""

from __future__ import annotations

import bisect
import enum
import threading
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from runner.model import JSONValue

T = TypeVar("T")
PROPERTIES_CACHED = 50_000  # nodes whose derived properties a view keeps (~1 KiB each)


class EdgeKind(enum.IntEnum):
    """What a directed edge means; access flows along the edge's direction."""

    MEMBER = 0  # user -> group, Snowflake user -> role, role -> inherited role
    ASSUME = 1  # principal -> AWS IAM role it can assume (trust policy, Okta federation)
    IDENTITY = 2  # identity-provider user -> the account it signs in as (SSO link)
    ATTACH = 3  # AWS principal -> policy or bucket-policy statement naming it
    GRANT = 4  # policy, role or principal -> resource, with raw permissions
    CONTAINS = 5  # AWS account -> what it holds: structure, not access


ACCESS_KINDS: frozenset[int] = frozenset({EdgeKind.MEMBER, EdgeKind.ASSUME, EdgeKind.IDENTITY, EdgeKind.ATTACH,
                                          EdgeKind.GRANT})


def encode_edge(target: int, kind: int, bundle: int) -> int:
    """Pack an edge as one int: target index, kind, permission bundle (see permissions.BUNDLES)."""
    return (target << 16) | (kind << 8) | bundle


def edge_target(edge: int) -> int:
    return edge >> 16


def edge_kind(edge: int) -> int:
    return (edge >> 8) & 0xFF


def edge_bundle(edge: int) -> int:
    return edge & 0xFF


@dataclass(frozen=True, kw_only=True, slots=True)
class Tag:
    """A tag on a node: `type` is its origin (AWS, SNOWFLAKE, VEZA...), `key` and `value` are free text."""

    type: str
    key: str
    value: str

    def to_wire(self) -> dict[str, JSONValue]:
        return {"type": self.type, "key": self.key, "value": self.value}


class AttributeSource(Protocol):
    """Derives a node's attributes from its type and its ordinal within that type (deterministic, pure)."""

    def properties(self, type_name: str, ordinal: int) -> dict[str, JSONValue]: ...

    def tags(self, type_name: str, ordinal: int) -> tuple[Tag, ...]: ...


@dataclass(frozen=True, kw_only=True)
class NodeView:
    """An immutable snapshot of node identities and attributes; results keep one so later drift cannot leak in."""

    ids: Sequence[str]
    type_names: tuple[str, ...]
    type_of: array[int]
    starts: tuple[int, ...]  # first index of each type's block, by type code
    attributes: AttributeSource
    overrides: Mapping[int, Mapping[str, JSONValue]]
    # Derived properties by node index. A nightly batch reads the same nodes in query after query (every subset of
    # risk levels of one type holds the same users), and deriving them was the sandbox's largest cost per row. A
    # view never changes, so nothing here goes stale; it is emptied when full rather than tracked entry by entry.
    _properties: dict[int, dict[str, JSONValue]] = field(default_factory=dict, compare=False, repr=False)

    def type_name(self, index: int) -> str:
        return self.type_names[self.type_of[index]]

    def properties(self, index: int) -> dict[str, JSONValue]:
        """The node's properties. Shared between callers: read them, never change them."""
        cached = self._properties.get(index)
        if cached is not None:
            return cached
        code = self.type_of[index]
        props = self.attributes.properties(self.type_names[code], index - self.starts[code])
        props["id"] = self.ids[index]
        extra = self.overrides.get(index)
        if extra:
            props.update(extra)
        if len(self._properties) >= PROPERTIES_CACHED:
            self._properties.clear()
        self._properties[index] = props
        return props

    def tags(self, index: int) -> tuple[Tag, ...]:
        code = self.type_of[index]
        return self.attributes.tags(self.type_names[code], index - self.starts[code])


class Graph:
    """Nodes `0..len-1` grouped in one contiguous block per type; `out[i]` lists node i's packed edges."""

    def __init__(self, *, seed: int, now: datetime, blocks: Mapping[str, range], ids: list[str],
                 out: list[list[int]], attributes: AttributeSource) -> None:
        self.seed = seed
        self.now = now
        self.version = 0
        self.lock = threading.RLock()  # evaluation and drift take it: a query never sees a half-applied drift
        ordered = sorted(blocks.items(), key=lambda item: item[1].start)
        self.type_names: tuple[str, ...] = tuple(name for name, _ in ordered)
        self._blocks = dict(ordered)
        self._starts = tuple(block.start for _, block in ordered)
        self.type_of = array("B")
        for code, (_, block) in enumerate(ordered):
            self.type_of.extend(bytes([code]) * len(block))
        if len(self.type_of) != len(ids) or len(out) != len(ids):
            raise ValueError("blocks, ids and edge lists disagree on the number of nodes")
        self.ids = ids
        self.out = out
        self.attributes = attributes
        self._overrides: dict[int, dict[str, JSONValue]] = {}
        self._cache: dict[Any, Any] = {}
        self._index_of: dict[str, int] | None = None
        self._rank: array[int] | None = None
        self._view: NodeView | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def edge_count(self) -> int:
        return sum(len(edges) for edges in self.out)

    # --- nodes -----------------------------------------------------------------------------------------------
    def nodes_of_type(self, name: str) -> range:
        """The index block of a concrete type (empty for types the graph has none of)."""
        return self._blocks.get(name, range(0))

    def type_code(self, name: str) -> int | None:
        try:
            return self.type_names.index(name)
        except ValueError:
            return None

    def type_name(self, index: int) -> str:
        return self.type_names[self.type_of[index]]

    def ordinal(self, index: int) -> int:
        """The position of a node within its type's block (what attributes are derived from)."""
        code = bisect.bisect_right(self._starts, index) - 1
        return index - self._starts[code]

    def index_of(self, node_id: str) -> int | None:
        if self._index_of is None:
            self._index_of = {node_id: i for i, node_id in enumerate(self.ids)}
        return self._index_of.get(node_id)

    def rank(self) -> array[int]:
        """`rank[i]` is node i's position in id order: rows sort by it (ids never change, so neither does it)."""
        if self._rank is None:
            order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
            rank = array("i", bytes(4 * len(order)))
            for position, index in enumerate(order):
                rank[index] = position
            self._rank = rank
        return self._rank

    def view(self) -> NodeView:
        if self._view is None:
            self._view = NodeView(ids=self.ids, type_names=self.type_names, type_of=self.type_of,
                                  starts=self._starts, attributes=self.attributes, overrides=self._overrides)
        return self._view

    def properties(self, index: int) -> dict[str, JSONValue]:
        return self.view().properties(index)

    def tags(self, index: int) -> tuple[Tag, ...]:
        return self.view().tags(index)

    # --- edges -----------------------------------------------------------------------------------------------
    def in_edges(self, index: int) -> Sequence[int]:
        """Edges pointing at `index`, packed like `out` but naming their source (built lazily per version)."""
        reverse: list[list[int]] = self.cached(("reverse",), self._build_reverse)
        return reverse[index]

    def _build_reverse(self) -> list[list[int]]:
        reverse: list[list[int]] = [[] for _ in range(len(self.ids))]
        for source, edges in enumerate(self.out):
            low = source << 16
            for edge in edges:
                reverse[edge >> 16].append(low | (edge & 0xFFFF))
        return reverse

    # --- caches and mutation ---------------------------------------------------------------------------------
    def cached(self, key: Any, factory: Callable[[], T]) -> T:
        """A value derived from the current version, computed once (dropped by the next mutation)."""
        try:
            value: T = self._cache[key]
        except KeyError:
            value = factory()
            self._cache[key] = value
        return value

    def set_out_edges(self, index: int, edges: list[int]) -> None:
        self.out[index] = edges

    def override_properties(self, changes: Mapping[int, Mapping[str, JSONValue]]) -> None:
        """Copy-on-write: views taken before this call keep seeing the old values."""
        merged = dict(self._overrides)
        for index, props in changes.items():
            merged[index] = {**merged.get(index, {}), **props}
        self._overrides = merged
        self._view = None

    def bump(self) -> None:
        self.version += 1
        self._cache = {}
