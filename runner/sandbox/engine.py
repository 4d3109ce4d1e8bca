"""The sandbox's query engine: evaluates an AssessmentQuerySpec over a `Graph` into a compact `QueryOutcome`.

Input: a graph and a spec mapping (wire JSON); output: a `QueryOutcome` whose `page()` yields wire-shaped rows, or a
`SpecError` (InvalidArgument; NotFound for a snapshot other than the current one). No I/O. Property columns and
reach maps are cached on the graph per version, so repeated queries are cheap. Semantics: the README's sandbox part.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from runner.sandbox.conditions import MISSING, Getter, count_satisfies, evaluate_expression, needs_other_node
from runner.sandbox.graph import Graph
from runner.sandbox.permissions import EFFECTIVE_BIT, RAW_BIT, effective_mask
from runner.sandbox.relations import AccessIndex, Marks, ReachMap, configured_reach, direct_reach
from runner.sandbox.rows import QueryOutcome, RowSet, chosen_properties, chosen_tags, target_properties
from runner.sandbox.spec import (
    NodeSet,
    NodeSpec,
    PermissionFilter,
    Query,
    RelatesExpr,
    RelatesSpec,
    SpecError,
    parse_spec,
)

__all__ = ["Query", "QueryOutcome", "SpecError", "count", "evaluate", "prepare", "run"]
Columns = dict[str, list[Any]]
Matched = dict[int, int]  # destination -> raw permission mask


def evaluate(graph: Graph, spec: Mapping[str, Any], *, now: datetime | None = None) -> QueryOutcome:
    """Runs `spec` against the graph's current version; placeholders resolve against `now` (default: graph.now)."""
    return run(graph, prepare(graph, spec), now=now)[0]


def prepare(graph: Graph, spec: Mapping[str, Any]) -> Query:
    """The parse half of `evaluate`: cheap, and where every `SpecError` comes from, so an async create can refuse a
    spec in its reply and leave the evaluation to run after it."""
    return parse_spec(spec, node_types=graph.type_names)


def run(graph: Graph, query: Query, *, now: datetime | None = None) -> tuple[QueryOutcome, int]:
    """The evaluation half: the outcome and the graph version it was computed on. The version is read under the
    lock, because a drift may land between a create and its evaluation."""
    with graph.lock:
        return _Evaluation(graph, query, now or graph.now).run(), graph.version


def count(graph: Graph, spec: Mapping[str, Any]) -> int:
    """The number of rows `evaluate` would return (for `query_spec:result`)."""
    return evaluate(graph, spec).total


def _permission_test(flt: PermissionFilter | None, bits: Mapping[str, int],
                     convert: Callable[[int], int]) -> Callable[[int], bool] | None:
    if flt is None:
        return None
    wanted = 0
    unknown = False
    for name in flt.values:
        wanted |= bits.get(name, 0)
        unknown = unknown or name not in bits
    if flt.use_and:
        return (lambda mask: False) if unknown else (lambda mask: convert(mask) & wanted == wanted)
    return lambda mask: convert(mask) & wanted != 0


@dataclass(frozen=True, kw_only=True)
class _Plan:
    index: AccessIndex | None  # effective-access reach (None in CONFIGURED mode)
    targets: frozenset[int] | None  # destination type codes (None: any)
    need: Marks | None  # the required intermediates (relations.Marks)
    effective_ok: Callable[[int], bool] | None
    raw_ok: Callable[[int], bool] | None


def _column_value(columns: Columns, ordinal: int, name: str) -> Any:
    return columns[name][ordinal] if name in columns else MISSING


class _Evaluation:
    def __init__(self, graph: Graph, query: Query, now: datetime) -> None:
        self.graph, self.query, self.now = graph, query, now
        self.cost = 0
        self._sets: dict[int, frozenset[int] | None] = {}  # id(NodeSpec) -> matching nodes (None: pairwise)
        self._plans: dict[int, _Plan] = {}  # id(RelatesSpec) -> its plan

    # --- node filters ---------------------------------------------------------------------------------------
    def columns(self, type_name: str) -> Columns:
        def build() -> Columns:
            view = self.graph.view()
            block = self.graph.nodes_of_type(type_name)
            if not block:
                return {}
            columns: Columns = {name: [] for name in view.properties(block.start)}
            lists = list(columns.items())
            for index in block:
                props = view.properties(index)
                for name, values in lists:
                    values.append(props.get(name, MISSING))
            return columns

        columns: Columns = self.graph.cached(("columns", type_name), build)
        return columns

    def getter(self, index: int) -> Getter:
        columns = self.columns(self.graph.type_name(index))
        ordinal = self.graph.ordinal(index)
        return lambda name: columns[name][ordinal] if name in columns else MISSING

    def node_passes(self, spec: NodeSpec, index: int, other: Getter | None = None,
                    get: Getter | None = None, *, entities: bool = True) -> bool:
        """Whether a node meets its spec and, with `entities` (a node of the result), all_entity_condition."""
        self.cost += 1
        if spec.node_id is not None and self.graph.ids[index] != spec.node_id:
            return False
        get = get or self.getter(index)
        tags = lambda: self.graph.tags(index)  # noqa: E731
        for expr in (spec.condition, self.query.all_entities if entities else None):
            if expr is not None and evaluate_expression(expr, get, tags, other, self.now) is not True:
                return False
        return True

    def members(self, spec: NodeSpec, *, entities: bool = True) -> list[int]:
        if spec.node_id is not None:
            index = self.graph.index_of(spec.node_id)
            if index is None or self.graph.type_name(index) not in spec.types:
                return []
            return [index] if self.node_passes(spec, index, entities=entities) else []
        if spec.condition is None and (not entities or self.query.all_entities is None):
            every = [i for name in spec.types for i in self.graph.nodes_of_type(name)]
            self.cost += len(every)
            return every
        found: list[int] = []
        for name in spec.types:
            columns = self.columns(name)
            for ordinal, index in enumerate(self.graph.nodes_of_type(name)):
                get: Getter = partial(_column_value, columns, ordinal)
                if self.node_passes(spec, index, get=get, entities=entities):
                    found.append(index)
        return found

    def destination_set(self, spec: NodeSpec) -> frozenset[int] | None:
        key = id(spec)
        if key not in self._sets:
            pairwise = needs_other_node(spec.condition) or needs_other_node(self.query.all_entities)
            self._sets[key] = None if pairwise else frozenset(self.members(spec))
        return self._sets[key]

    # --- relations ------------------------------------------------------------------------------------------
    def plan(self, spec: RelatesSpec) -> _Plan:
        """What a relates-to spec needs, computed once per evaluation (not once per source)."""
        plan = self._plans.get(id(spec))
        if plan is None:
            graph = self.graph
            codes = {name: code for code, name in enumerate(graph.type_names)}
            targets = None if spec.destinations is None else frozenset(
                codes[name] for node_spec in spec.destinations.specs for name in node_spec.types if name in codes)
            index = need = None
            if not self.query.configured:
                index = AccessIndex.for_graph(graph, self.marks(spec.avoided, codes) or frozenset(), targets)
                need = index.canonical(self.marks(spec.required, codes))
            plan = self._plans[id(spec)] = _Plan(
                index=index, targets=targets, need=need,
                effective_ok=_permission_test(spec.effective, EFFECTIVE_BIT, effective_mask),
                raw_ok=_permission_test(spec.raw, RAW_BIT, lambda mask: mask))
        return plan

    def marks(self, nodes: NodeSet | None, codes: Mapping[str, int]) -> Marks | None:
        """The intermediates a node set names: a bare type by its code, a filtered spec by its matching nodes
        (all_entity_condition is for the result's entities, not for the nodes on a path [assumed])."""
        if nodes is None:
            return None
        found: set[int] = set()
        for spec in nodes.specs:
            if spec.node_id is None and spec.condition is None:
                found.update(codes[name] for name in spec.types if name in codes)
            else:
                found.update(~index for index in self.members(spec, entities=False))
        return frozenset(found)

    def reach(self, spec: RelatesSpec, plan: _Plan, source: int, direct: bool) -> ReachMap:
        if self.query.configured:
            return {} if spec.required is not None else configured_reach(self.graph, source)
        if direct:
            return {} if spec.required is not None else direct_reach(self.graph, source)
        assert plan.index is not None
        before = plan.index.work
        result = plan.index.reach(source, plan.need)
        self.cost += plan.index.work - before + len(result)
        return result

    def relates_spec(self, spec: RelatesSpec, source: int) -> tuple[bool, Matched]:
        plan = self.plan(spec)
        effective_ok, raw_ok = plan.effective_ok, plan.raw_ok
        node_specs = spec.destinations.specs if spec.destinations else (None,)
        results: list[bool] = []
        matched: Matched = {}
        for node_spec in node_specs:
            direct = node_spec is not None and node_spec.direct_only
            found: Matched = {}
            members = self.destination_set(node_spec) if node_spec is not None else None
            source_get = self.getter(source) if node_spec is not None and members is None else None
            for target, mask in self.reach(spec, plan, source, direct).items():
                if node_spec is not None:
                    if members is not None:
                        if target not in members:
                            continue
                    elif (self.graph.type_name(target) not in node_spec.types
                          or not self.node_passes(node_spec, target, source_get)):
                        continue
                if (effective_ok is None or effective_ok(mask)) and (raw_ok is None or raw_ok(mask)):
                    found[target] = mask
            counted = node_spec.count if node_spec is not None else None
            ok = bool(found) if counted is None else (
                count_satisfies(counted, len(found)) and (bool(found) or counted.include_zero))
            results.append(ok)
            if ok:
                matched.update(found)
        use_and = spec.destinations.use_and if spec.destinations else False
        ok = all(results) if use_and else any(results)
        if spec.no_relation:
            return not ok, {}
        return ok, (matched if ok else {})

    def relates_expr(self, expr: RelatesExpr, source: int) -> tuple[bool, Matched]:
        matched: Matched = {}
        results = []
        parts: list[Callable[[], tuple[bool, Matched]]] = [
            *(partial(self.relates_spec, spec, source) for spec in expr.specs),
            *(partial(self.relates_expr, child, source) for child in expr.children)]
        for part in parts:
            ok, found = part()
            results.append(ok)
            if ok:
                for target, mask in found.items():
                    matched[target] = matched.get(target, 0) | mask
            elif expr.use_and:
                break  # AND already failed: the remaining parts cannot change the answer
        ok = all(results) if expr.use_and else any(results)
        if expr.negate:
            return not ok, {}
        return ok, (matched if ok else {})

    # --- the whole query ------------------------------------------------------------------------------------
    def sources(self, nodes: NodeSet) -> list[tuple[int, NodeSpec]]:
        chosen: dict[int, NodeSpec] = {}
        sets = []
        for spec in nodes.specs:
            found = self.members(spec)
            sets.append(set(found))
            for index in found:
                chosen.setdefault(index, spec)
        keep = set.intersection(*sets) if nodes.use_and else set(chosen)
        rank = self.graph.rank()
        return sorted(((i, chosen[i]) for i in keep), key=lambda pair: rank[pair[0]])

    def run(self) -> QueryOutcome:
        query, graph = self.query, self.graph
        rank = graph.rank()
        result = query.result
        paths = result == "SOURCE_AND_DESTINATION_NODES"
        keep_targets = paths or result == "DESTINATION_NODES" or query.include_nodes
        nodes, counts, masks = array("i"), array("i"), array("Q")
        starts, targets, path_masks = array("i", [0]), array("i"), array("Q")
        path_sources = array("i")
        reached: dict[int, int] = {}
        for source, spec in self.sources(query.sources):
            matched: Matched = {}
            if query.relates is not None:
                ok, matched = self.relates_expr(query.relates, source)
                if spec.count is not None:
                    ok = count_satisfies(spec.count, len(matched)) and (
                        ok or (spec.count.include_zero and not matched))
                if not ok:
                    continue
            union = 0
            for mask in matched.values():
                union |= mask
            nodes.append(source)
            counts.append(len(matched))
            masks.append(union)
            if keep_targets:
                ordered = sorted(matched, key=rank.__getitem__)
                if paths:
                    path_sources.extend([source] * len(ordered))
                    path_masks.extend(matched[t] for t in ordered)
                elif result == "DESTINATION_NODES":
                    for target in ordered:
                        reached[target] = reached.get(target, 0) | matched[target]
                targets.extend(ordered)
                starts.append(len(targets))
        view = graph.view()
        common: dict[str, Any] = {
            "view": view, "all_tags": query.source_tags, "target_tags": query.destination_tags,
            "properties": chosen_properties(query.sources), "tags_to_get": chosen_tags(query.sources),
            "target_properties": target_properties(query.relates)}
        if paths:
            rows = RowSet(paths=True, nodes=path_sources, counts=array("i", bytes(4 * len(targets))),
                          masks=path_masks, targets=targets, **common)
        elif result == "DESTINATION_NODES":
            order = sorted(reached, key=rank.__getitem__)
            common.update(properties=common["target_properties"], all_tags=query.destination_tags, tags_to_get={})
            rows = RowSet(paths=False, nodes=array("i", order), counts=array("i", bytes(4 * len(order))),
                          masks=array("Q", (reached[t] for t in order)), **common)
        else:
            related = query.include_nodes
            rows = RowSet(paths=False, nodes=nodes, counts=counts if result != "SOURCE_NODES" else
                          array("i", bytes(4 * len(nodes))), masks=masks, starts=starts if related else None,
                          targets=targets if related else None, **common)
        return QueryOutcome(result_value_type=result, total=len(rows.nodes), cost=self.cost,
                            warnings=query.warnings, rows=rows)
