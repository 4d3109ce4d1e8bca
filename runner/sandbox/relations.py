"""Which nodes a source relates to, with the raw permissions of each relation: effective access and configured edges.

Pure computation over a `Graph`, no I/O. Effective access follows MEMBER/ASSUME/IDENTITY/ATTACH/GRANT edges any
number of hops; every node reached is a destination, carrying the union of the raw permissions of the GRANT edges
that reach it. Reach maps of intermediate nodes are memoized per (required, avoided) constraint and graph version.
A constraint is a `Marks` set: type codes (>= 0) for whole types, `~index` (< 0) for single filtered nodes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from runner.sandbox.graph import ACCESS_KINDS, EdgeKind, Graph
from runner.sandbox.permissions import BUNDLE_MASKS

ReachMap = dict[int, int]  # destination index -> raw permission bitmask (0: related, no permission)
Marks = frozenset[int]  # type codes (>= 0) and ~node indexes (< 0): the intermediates a constraint names
_EMPTY: ReachMap = {}
_ACCESS_KIND_BITS = frozenset(int(kind) for kind in ACCESS_KINDS)
_CONTAINS = int(EdgeKind.CONTAINS)
KEEP_INDEXES = 6  # access indexes kept per graph version, most recently used first


class AccessIndex:
    """Effective-access reach of nodes under one constraint: avoided intermediate types, and the destination types
    the query asks for (None: all). Restricting destinations keeps maps small; `for_graph` shares indexes per version.

    A memo key is (node, open requirement): the requirement is the `Marks` of which one must still appear as an
    intermediate, or None once satisfied. The node itself has already been checked as an intermediate by its
    caller; a source is never an intermediate. Node marks cost one more set lookup per edge, so they are looked up
    only when the constraint has some (a filtered intermediate node spec).
    """

    def __init__(self, graph: Graph, avoided: Marks, targets: frozenset[int] | None) -> None:
        self.graph = graph
        self.avoided = avoided
        self.avoid_nodes = any(mark < 0 for mark in avoided)
        self.targets = targets
        self.memo: dict[tuple[int, Marks | None], ReachMap] = {}
        self.needs: dict[Marks, Marks] = {}
        self.work = 0  # edges visited, the engine's cost measure

    def canonical(self, need: Marks | None) -> Marks | None:
        """One object per requirement, so memo keys compare by identity, not element by element."""
        return None if need is None else self.needs.setdefault(need, need)

    @staticmethod
    def for_graph(graph: Graph, avoided: Marks, targets: frozenset[int] | None) -> AccessIndex:
        """The shared index for this constraint; only the most recently used few are kept (memory)."""
        indexes: OrderedDict[Any, AccessIndex] = graph.cached(("access",), OrderedDict)
        key = (avoided, targets)
        index = indexes.get(key)
        if index is None:
            index = indexes[key] = AccessIndex(graph, avoided, targets)
            while len(indexes) > KEEP_INDEXES:
                indexes.popitem(last=False)
        indexes.move_to_end(key)
        return index

    def _children(self, node: int, need: Marks | None) -> Iterable[tuple[int, Marks | None]]:
        type_of, avoided, avoid_nodes = self.graph.type_of, self.avoided, self.avoid_nodes
        for edge in self.graph.out[node]:
            if (edge >> 8) & 0xFF == _CONTAINS:
                continue
            target = edge >> 16
            code = type_of[target]
            if code in avoided or (avoid_nodes and ~target in avoided):
                continue
            yield target, (None if need is None or code in need or ~target in need else need)

    def _combine(self, node: int, need: Marks | None, fill: bool) -> ReachMap:
        """The reach of `node` from its own edges and its children's reaches (missing children: filled first when
        `fill`, else taken as empty: a cycle back to a node being computed)."""
        memo, type_of, avoided, targets = self.memo, self.graph.type_of, self.avoided, self.targets
        avoid_nodes = self.avoid_nodes
        result: ReachMap = {}
        parts: list[ReachMap] = []
        edges = self.graph.out[node]
        self.work += len(edges)
        for edge in edges:
            if (edge >> 8) & 0xFF == _CONTAINS:
                continue
            target = edge >> 16
            code = type_of[target]
            if need is None and (targets is None or code in targets):
                result[target] = result.get(target, 0) | BUNDLE_MASKS[edge & 0xFF]
            if code in avoided or (avoid_nodes and ~target in avoided):
                continue
            key = (target, None if need is None or code in need or ~target in need else need)
            part = memo.get(key)
            if part is None and fill:
                self._fill(key)
                part = memo[key]
            if part:
                parts.append(part)
        if not result and len(parts) == 1:
            return parts[0]  # one path onwards (a linked account, a single group): share, never copy
        for part in parts:
            self.work += len(part)
            if not result:
                result = dict(part)
                continue
            for target, mask in part.items():
                previous = result.get(target)
                result[target] = mask if previous is None else previous | mask
        return result

    def reach(self, source: int, need: Marks | None) -> ReachMap:
        """Every node the source relates to by effective access (source excluded unless a cycle returns to it).

        The source's own map is not memoized: sources are numerous (every Okta user), intermediates are shared.
        The returned map may be shared: never mutate it.
        """
        known = self.memo.get((source, need))
        if known is not None:
            return known
        return self._combine(source, need, fill=True)

    def _fill(self, root: tuple[int, Marks | None]) -> None:
        """Memoizes `root` and everything below it, iteratively (role chains may be deep) and cycle-safe."""
        memo, open_keys = self.memo, set()
        stack = [root]
        while stack:
            key = stack[-1]
            if key in memo:
                stack.pop()
                continue
            if key not in open_keys:
                open_keys.add(key)
                stack.extend(child for child in self._children(*key) if child not in memo and child not in open_keys)
                continue
            stack.pop()
            open_keys.discard(key)
            memo[key] = self._combine(key[0], key[1], fill=False)


def direct_reach(graph: Graph, source: int) -> ReachMap:
    """Access edges leaving the source, with their permissions (a destination's `direct_relationship_only`)."""
    result: ReachMap = {}
    for edge in graph.out[source]:
        if (edge >> 8) & 0xFF in _ACCESS_KIND_BITS:
            target = edge >> 16
            result[target] = result.get(target, 0) | BUNDLE_MASKS[edge & 0xFF]
    return result


def configured_reach(graph: Graph, source: int) -> ReachMap:
    """CONFIGURED relations: nodes joined to the source by one edge of any kind, in either direction [assumed]."""
    result: ReachMap = {}
    for edges in (graph.out[source], graph.in_edges(source)):
        for edge in edges:
            target = edge >> 16
            result[target] = result.get(target, 0) | BUNDLE_MASKS[edge & 0xFF]
    return result
