"""The generated company graph: determinism, catalog compliance, realistic answers, and drift."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from runner.catalog import NODE_TYPES, properties_of
from runner.sandbox.engine import evaluate
from runner.sandbox.generate import advance_graph, generate_graph, plan_counts
from runner.sandbox.graph import EdgeKind, Graph, edge_kind, edge_target

NOW = datetime(2025, 6, 1, tzinfo=UTC)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def default() -> Graph:
    return generate_graph(nodes=5000, seed=7, now=NOW)


def sample(graph: Graph, type_name: str, count: int = 5) -> list[int]:
    block = graph.nodes_of_type(type_name)
    step = max(1, len(block) // count)
    return list(block[::step])


def test_same_arguments_same_graph() -> None:
    one, two = generate_graph(nodes=1500, seed=3, now=NOW), generate_graph(nodes=1500, seed=3, now=NOW)
    assert one.ids == two.ids and one.out == two.out
    assert [one.properties(i) for i in range(0, 1500, 37)] == [two.properties(i) for i in range(0, 1500, 37)]
    other = generate_graph(nodes=1500, seed=4, now=NOW)
    assert other.out != one.out


def test_sizes_types_and_unique_ids(default: Graph) -> None:
    assert len(default) == 5000 == sum(plan_counts(5000).values())
    assert set(default.type_names) == set(NODE_TYPES)
    assert len(set(default.ids)) == len(default)
    assert default.edge_count() > 2 * len(default)


def test_properties_come_from_the_catalog(default: Graph) -> None:
    for type_name in default.type_names:
        allowed = properties_of(type_name)
        for index in sample(default, type_name):
            props = default.properties(index)
            assert set(props) <= allowed, (type_name, set(props) - allowed)
            assert props["id"] == default.ids[index]
            assert props["risk_level"] in ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL")
            for name in ("created_at", "last_login_at", "last_used_at", "last_logon_at"):
                value = props.get(name)
                assert value is None or RFC3339.match(str(value)), (name, value)


def test_okta_users_look_real(default: Graph) -> None:
    users = [default.properties(i) for i in default.nodes_of_type("OktaUser")]
    statuses = {u["status"] for u in users}
    assert statuses == {"ACTIVE", "STAGED", "SUSPENDED", "DEPROVISIONED"}
    active = sum(u["status"] == "ACTIVE" for u in users) / len(users)
    assert 0.7 < active < 0.95
    assert len({u["email"] for u in users}) == len(users)
    assert all(u["is_active"] == (u["status"] == "ACTIVE") for u in users)
    first = users[0]
    assert str(first["email"]).endswith("@acme.example") and first["login"] == first["email"]


def test_linked_accounts_share_the_okta_identity(default: Graph) -> None:
    okta = default.nodes_of_type("OktaUser")
    links = [(i, edge_target(e)) for i in okta for e in default.out[i] if edge_kind(e) == EdgeKind.IDENTITY]
    assert len(links) > len(okta) // 2
    for user, account in links[:50]:
        assert default.properties(user)["email"] == default.properties(account)["email"]


def test_sandbox_accounts_and_named_groups_exist(default: Graph) -> None:
    accounts = {default.properties(i)["account_id"] for i in default.nodes_of_type("AwsAccount")}
    assert {"111111111111", "222222222222"} <= accounts
    groups = {default.properties(i)["name"] for i in default.nodes_of_type("AzureADGroup")}
    assert {"Global Administrators", "Privileged Role Administrators"} <= groups


def _nodes(node_type: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"node_type": node_type}
    if condition:
        node["condition_expression"] = {"specs": [condition]}
    return {"nodes": [node]}


TYPICAL: dict[str, dict[str, Any]] = {
    "okta users who can write to S3": {
        "source_node_types": _nodes("OktaUser"),
        "relates_to_exp": {"specs": [{"node_types": _nodes("S3Bucket"),
                                      "effective_permissions": {"values": ["DATA_WRITE"]}}]}},
    "IAM users with full_admin": {
        "source_node_types": _nodes("AwsIamUser", {"property": "full_admin", "value": True})},
    "Snowflake roles with access to PII tables": {
        "source_node_types": _nodes("SnowflakeRole"),
        "relates_to_exp": {"specs": [{"node_types": {"nodes": [{"node_type": "SnowflakeTable", "condition_expression": {
            "tag_specs": [{"tag": {"type": "SNOWFLAKE", "key": "data_category", "value": "PII"}}]}}]}}]}},
    "inactive Okta users with access to anything": {
        "source_node_types": _nodes("OktaUser", {"property": "is_active", "value": False}),
        "relates_to_exp": {"specs": [{"node_types": _nodes("Resource")}]}},
    "Azure AD guests in groups": {
        "source_node_types": _nodes("AzureADUser", {"property": "user_type", "value": "Guest"}),
        "relates_to_exp": {"specs": [{"node_types": _nodes("AzureADGroup")}]}, "node_relationship_type": "CONFIGURED"},
    "stale IAM roles": {
        "source_node_types": _nodes("AwsIamRole", {"fn": "LT", "property": "last_used_at",
                                                   "value": "$COOKIE_TIMEVAR_90_DAY_AGO"})},
    "Okta paths to restricted buckets through roles": {
        "source_node_types": _nodes("OktaUser"), "result_value_type": "SOURCE_AND_DESTINATION_NODES",
        "relates_to_exp": {"specs": [{"node_types": _nodes("S3Bucket", {"property": "data_classification",
                                                                        "value": "RESTRICTED"}),
                                      "required_intermediate_node_types": _nodes("AwsIamRole")}]}},
}


@pytest.mark.parametrize("question", sorted(TYPICAL))
def test_typical_questions_have_non_trivial_answers(default: Graph, question: str) -> None:
    outcome = evaluate(default, TYPICAL[question])
    candidates = len(default.nodes_of_type(TYPICAL[question]["source_node_types"]["nodes"][0]["node_type"]))
    assert outcome.total > 0
    if outcome.result_value_type != "SOURCE_AND_DESTINATION_NODES":
        assert outcome.total < candidates


def test_advance_drifts_deterministically(default: Graph) -> None:
    one, two = generate_graph(nodes=2000, seed=5, now=NOW), generate_graph(nodes=2000, seed=5, now=NOW)
    first, second = advance_graph(one, seed=1), advance_graph(two, seed=1)
    assert first == second and first.version == one.version == 1
    assert first.changed_ids and first.added_edges and first.removed_edges
    assert one.out == two.out
    third = advance_graph(one, seed=1)  # same seed, next version: a different step
    assert third.version == 2 and third != first
    changed = one.index_of(first.changed_ids[0])
    assert changed is not None and one.properties(changed) != generate_graph(
        nodes=2000, seed=5, now=NOW).properties(changed)


def test_advance_is_visible_to_queries_but_not_to_earlier_results() -> None:
    graph = generate_graph(nodes=2000, seed=5, now=NOW)
    body = {"source_node_types": _nodes("OktaUser", {"property": "status", "value": "ACTIVE"}),
            "relates_to_exp": {"specs": [{"node_types": _nodes("Resource")}]}}
    before = evaluate(graph, body)
    rows_before = before.page(0, before.total)[0]
    advance_graph(graph, seed=9, fraction=0.2)
    after = evaluate(graph, body)
    assert after.page(0, after.total)[0] != rows_before
    assert before.page(0, before.total)[0] == rows_before
