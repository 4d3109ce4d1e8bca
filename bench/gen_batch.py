"""Generate the `vqr run` benchmark projects: N distinct runnable queries (node type x risk-level subset), or one
query over every node type (a million rows on a million-node sandbox), each pointed at an external sandbox.

`batch_project(root, count, url=..., ca_file=...)` writes `vqr.yaml` and `queries/*.yaml` under `root` and returns a
`BatchProject` with the specs as sent on the wire (the peer replays them). `BatchSize` is a whole-process run's
shape, with its ideal wall `ceil(queries / concurrency) x latency` (what every "vs ideal" row is judged against).
Deterministic; file I/O only.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.sandbox.generate import WEIGHTS

NODE_TYPES = tuple(WEIGHTS)  # every type the sandbox generates
RISK_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE")
# Every non-empty subset of risk levels, smallest first: 31 of them, times 23 node types, is 713 distinct specs.
RISK_SUBSETS = tuple(subset for size in range(1, len(RISK_LEVELS) + 1)
                     for subset in itertools.combinations(RISK_LEVELS, size))
BLOCK = len(NODE_TYPES) * len(RISK_SUBSETS)
# Beyond one block, block k adds `created_at < k days ago`: every generated node was created 30 to 2000 days ago, so
# the rows stay those of block 0 while the bodies differ (10,000 distinct specs for the issue-15 rows).
MAX_BLOCKS = 29
ENV = "bench"


def ideal_seconds(queries: int, concurrency: int, latency: float) -> float:
    """A batch's ideal wall: full waves of `concurrency` jobs, each taking the sandbox's `latency`."""
    return math.ceil(queries / concurrency) * latency


def ideal_label(queries: int, concurrency: int, latency: float) -> str:
    return f"ideal ceil({queries}/{concurrency})x{latency:g}s"


@dataclass(frozen=True, kw_only=True)
class BatchSize:
    """One whole-process batch benchmark's shape at one size (FULL or QUICK)."""

    queries: int
    concurrency: int
    latency: float
    repeat: int

    @property
    def ideal(self) -> float:
        return ideal_seconds(self.queries, self.concurrency, self.latency)

    @property
    def ideal_label(self) -> str:
        return ideal_label(self.queries, self.concurrency, self.latency)


@dataclass(frozen=True, kw_only=True)
class BatchProject:
    root: Path
    specs: tuple[dict[str, Any], ...]  # in query order, as rendered and sent


def _project_file(url: str, ca_file: Path | None, concurrency: int) -> str:
    env = {"url": url, "api_key_env": "VEZA_API_KEY"}
    if ca_file is not None:
        env["ca_bundle"] = str(ca_file)
    # JSON is YAML: the URL and path need no quoting rules of their own.
    return (f"queries: queries/\nreports: reports/\ndefaults:\n  cache: {{mode: if_available, max_staleness: 24h}}\n"
            f"  concurrency: {concurrency}\n  timeout: 10m\nenvironments:\n  {ENV}: {json.dumps(env)}\n")


def batch_spec(index: int) -> dict[str, Any]:
    node_type = NODE_TYPES[index % len(NODE_TYPES)]
    risks = RISK_SUBSETS[(index // len(NODE_TYPES)) % len(RISK_SUBSETS)]
    block = index // BLOCK
    condition: dict[str, Any] = {"specs": [{"fn": "IN", "property": "risk_level", "value": list(risks)}]}
    if block:
        condition["specs"].append({"fn": "LT", "property": "created_at", "value": f"$COOKIE_TIMEVAR_{block}_DAY_AGO"})
        condition["operator"] = "AND"
    return {"query_type": "SOURCE_TO_DESTINATION",
            "source_node_types": {"nodes": [{"node_type": node_type, "condition_expression": condition}]},
            "result_value_type": "SOURCE_NODES"}


def every_node_spec() -> dict[str, Any]:
    """Every node of the graph, one row each: `--nodes N` gives exactly N rows."""
    return {"query_type": "SOURCE_TO_DESTINATION",
            "source_node_types": {"nodes": [{"node_type": node_type} for node_type in NODE_TYPES],
                                  "nodes_operator": "OR"},
            "result_value_type": "SOURCE_NODES"}


def _query_file(name: str, spec: dict[str, Any], cache: str) -> str:
    return (f"name: {name}\ndescription: benchmark query {name}\nowner: bench\ntags: [bench]\n"
            f"cache: {cache}\nspec: {json.dumps(spec)}\n")


def _write(root: Path, url: str, ca_file: Path | None, concurrency: int, queries: dict[str, str]) -> None:
    (root / "queries").mkdir(parents=True, exist_ok=True)
    (root / "vqr.yaml").write_text(_project_file(url, ca_file, concurrency), encoding="utf-8")
    for name, text in queries.items():
        (root / "queries" / f"{name}.yaml").write_text(text, encoding="utf-8")


def batch_project(root: Path, count: int, *, url: str, ca_file: Path | None = None, concurrency: int = 50,
                  cache: str = "{mode: if_available, max_staleness: 12h}") -> BatchProject:
    """`cache`: every query's policy (YAML flow text), e.g. `{mode: immediate}` for a fresh job each run."""
    if count > BLOCK * MAX_BLOCKS:
        raise ValueError(f"at most {BLOCK * MAX_BLOCKS} distinct specs")
    specs = tuple(batch_spec(i) for i in range(count))
    _write(root, url, ca_file, concurrency, {f"q{i:04d}": _query_file(f"q{i:04d}", spec, cache)
                                             for i, spec in enumerate(specs)})
    return BatchProject(root=root, specs=specs)


def big_project(root: Path, *, url: str, ca_file: Path | None = None) -> BatchProject:
    """One query returning every node; `immediate` so each repetition is a fresh execution."""
    spec = every_node_spec()
    _write(root, url, ca_file, 1, {"every-node": _query_file("every-node", spec, "{mode: immediate}")})
    return BatchProject(root=root, specs=(spec,))
