"""Deterministic drift of a generated graph: a few percent of nodes gain or lose an access edge or change a property.

`advance_graph` mutates the graph in place (copy-on-write for properties, new edge lists for touched nodes, so
results computed earlier keep their snapshot) and bumps `graph.version`. No I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from runner.model import JSONValue
from runner.sandbox.graph import EdgeKind, Graph, edge_kind, edge_target
from runner.sandbox.vocab import RISK_LEVELS


@dataclass(frozen=True, kw_only=True)
class AdvanceSummary:
    """What one drift step changed (ids sorted), and the graph version it produced."""

    version: int
    changed_ids: tuple[str, ...]  # nodes whose properties changed
    added_edges: tuple[tuple[str, str], ...]  # (source id, target id) access edges gained
    removed_edges: tuple[tuple[str, str], ...]  # access edges lost


def _toggled(type_name: str, props: dict[str, JSONValue], rng: random.Random) -> dict[str, JSONValue]:
    """The property change drift applies to one node, by type (offboarding, MFA, public access...)."""
    if type_name == "OktaUser":
        status = "ACTIVE" if props.get("status") != "ACTIVE" else rng.choice(("SUSPENDED", "DEPROVISIONED"))
        return {"status": status, "is_active": status == "ACTIVE"}
    flips = {"AwsIamUser": "mfa_enabled", "S3Bucket": "block_public_access_enabled", "SnowflakeUser": "disabled",
             "AzureADUser": "account_enabled", "OAA.Github.User": "is_active", "GoogleWorkspaceUser": "suspended"}
    if type_name in flips:
        name = flips[type_name]
        return {name: not props.get(name)}
    levels = [level for level, _ in RISK_LEVELS if level != props.get("risk_level")]
    return {"risk_level": rng.choice(levels)}


DEFAULT_FRACTION = 0.03  # share of the nodes one `/_sandbox/advance` changes


def advance_graph(graph: Graph, *, seed: int, fraction: float = DEFAULT_FRACTION) -> AdvanceSummary:
    """Drift about `fraction` of the nodes; deterministic in (graph seed, `seed`, graph version)."""
    with graph.lock:
        rng = random.Random(f"vqr-drift:{graph.seed}:{seed}:{graph.version}")  # noqa: S311  (reproducible, not secret)
        size = len(graph)
        changes: dict[int, dict[str, JSONValue]] = {}
        added: set[tuple[int, int]] = set()
        removed: set[tuple[int, int]] = set()
        for _ in range(max(1, int(size * fraction))):
            node = int(rng.random() * size)
            action = rng.random()
            edges = graph.out[node]
            access = [e for e in edges if edge_kind(e) != EdgeKind.CONTAINS]
            if action < 0.4 and access:
                gone = access[int(rng.random() * len(access))]
                graph.set_out_edges(node, [e for e in edges if e != gone])
                removed.add((node, edge_target(gone)))
            elif action < 0.8:
                # Copy an edge from a peer of the same type, so the new access looks like the peer's.
                block = graph.nodes_of_type(graph.type_name(node))
                peer = block.start + int(rng.random() * len(block))
                candidates = [e for e in graph.out[peer] if edge_kind(e) != EdgeKind.CONTAINS and e not in edges]
                if candidates:
                    new = candidates[int(rng.random() * len(candidates))]
                    graph.set_out_edges(node, [*edges, new])
                    added.add((node, edge_target(new)))
            else:
                current = {**graph.properties(node), **changes.get(node, {})}
                changes.setdefault(node, {}).update(_toggled(graph.type_name(node), current, rng))
        graph.override_properties(changes)
        graph.bump()
        ids = graph.ids
        return AdvanceSummary(
            version=graph.version,
            changed_ids=tuple(sorted(ids[i] for i in changes)),
            added_edges=tuple(sorted((ids[a], ids[b]) for a, b in added - removed)),
            removed_edges=tuple(sorted((ids[a], ids[b]) for a, b in removed - added)))
