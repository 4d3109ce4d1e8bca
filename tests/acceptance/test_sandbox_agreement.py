"""Lint and sandbox agree over real HTTP: each spec here is linted through the real pipeline and sent to the real
embedded sandbox (`:nodes`); lint reports spec/rejected exactly when the sandbox answers 400, in its words.

The hypothesis property (tests/unit/sandbox/test_lint_agreement.py) covers generated specs in-process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.sandbox_fixtures import NODES, spec
from tests.unit.sandbox.test_lint_agreement import lint_findings

CONDITION_WITHOUT_PROPERTY = spec(source_node_types={"nodes": [{"node_type": "OktaUser", "condition_expression": {
    "specs": [{"fn": "EQ", "value": "ACTIVE"}]}}]})
CASES: list[tuple[dict[str, Any], str | None]] = [
    ({}, "source_node_types must name at least one node type"),
    (CONDITION_WITHOUT_PROPERTY, "a condition needs a property"),
    (spec(source_node_types={"nodes": [{"node_id": "1"}]}), "a node spec needs a node_type"),
    (spec(source_node_types={"nodes": [{"node_type": "OktaUser", "tags": [{"value": "prod"}]}]}),
     "a tag needs a key"),
    (spec(relates_to_exp={"specs": [{"required_intermediate_node_types": {"nodes": [
        {"node_type": "OktaGroup", "count_conditions": [{"fn": "GT", "value": "1"}]}]}}]}),
     "an intermediate node takes no count condition: it counts no destinations"),
    (spec(), None),
    (spec(source_node_types={"nodes": [{"node_type": "OktaUser", "condition_expression": {
        "specs": [{"fn": "EQ", "property": "is_active", "value": True}]}}]}), None),
]


@pytest.mark.parametrize(("body", "refusal"), CASES)
def test_lint_and_the_sandbox_agree_over_http(sandbox_client: httpx.Client, tmp_path: Path, body: dict[str, Any],
                                             refusal: str | None) -> None:
    (tmp_path / "queries").mkdir()
    (tmp_path / "vqr.yaml").write_text('{"queries": "queries/"}', encoding="utf-8")
    errors = lint_findings(tmp_path, body)
    reply = sandbox_client.post(NODES, json=body)
    if refusal is None:
        assert errors == [] and reply.status_code == 200, reply.text
    else:
        assert reply.status_code == 400 and reply.json()["message"] == refusal, reply.text
        assert f"spec/rejected: {refusal}" in errors
