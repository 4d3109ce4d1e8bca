"""The spec forms the sandbox honours, on the hand-built company: proto3 zero values for absent enums, the legacy
NodeSpec fields and the deprecated top-level relation fields (evaluated, warned, refused at the path sent)."""

from __future__ import annotations

from typing import Any

import pytest

from runner.sandbox.engine import SpecError, evaluate
from runner.sandbox.graph import Graph
from tests.unit.sandbox.company import ids, spec, to


def test_absent_enums_are_their_zero_values(graph: Graph) -> None:
    # proto3: an absent enum is value 0, so absent and the zero name (or 0) mean one thing.
    for absent in (None, "SOURCE_NODES", 0):
        outcome = evaluate(graph, spec(relates=to("S3Bucket"), result_value_type=absent))
        assert outcome.result_value_type == "SOURCE_NODES"
        assert [r["destination_node_count"] for r in outcome.page(0, 9)[0]] == [0, 0, 0, 0]
    two = {"nodes": [{"node_type": "OktaUser"}, {"node_type": "OktaUser", "condition_expression": {
        "specs": [{"property": "department", "value": "Finance"}]}}]}
    assert ids(graph, {**spec(), "source_node_types": two}) == ["u-bob"]  # absent nodes_operator: AND
    assert ids(graph, {**spec(), "source_node_types": {**two, "nodes_operator": 0}}) == ["u-bob"]
    assert len(ids(graph, {**spec(), "source_node_types": {**two, "nodes_operator": "OR"}})) == 4
    reads = {"values": ["DATA_READ", "DATA_DELETE"]}
    assert ids(graph, spec(relates=to("S3Bucket", effective_permissions=reads))) == ["u-bob"]  # absent operator: AND
    assert len(ids(graph, spec(relates=to("S3Bucket", effective_permissions={**reads, "operator": "OR"})))) == 4
    # A condition without fn is EQ; a child expression without operator is AND; relates_to_exp {} is no constraint.
    assert ids(graph, spec(condition={"child_expressions": [{"specs": [
        {"property": "is_active", "value": True}, {"property": "department", "value": "Data"}]}]})) == ["u-carol"]
    assert ids(graph, spec(relates={})) == ids(graph, spec())
    # An unset int64 string is "": a count of 0.
    unset = {"specs": [{"fn": "GT", "value": ""}], "include_zero_count_results": True}
    assert ids(graph, spec({"node_type": "OktaUser", "count_condition_expression": unset},
                           relates=to("SnowflakeTable"))) == ["u-alice"]


def test_legacy_node_fields_are_evaluated_and_refused_at_their_own_path(graph: Graph) -> None:
    legacy = evaluate(graph, spec({"node_type": "OktaUser", "conditions": [{"property": "is_active", "value": True}],
                                   "excluded_tags": [{"key": "env"}]},
                                  relates=to("S3Bucket", node={"tags": [{"type": "aws", "key": "env", "value": ""}]})))
    assert [r["id"] for r in legacy.page(0, 9)[0]] == ["u-alice", "u-carol", "u-dave"]
    assert legacy.warnings == (
        "source_node_types.nodes[0].conditions is a legacy field: use condition_expression.specs",
        "source_node_types.nodes[0].excluded_tags is a legacy field: use condition_expression.tag_specs with "
        "exclude: true",
        "relates_to_exp.specs[0].node_types.nodes[0].tags is a legacy field: use condition_expression.tag_specs")
    assert ids(graph, spec({"node_type": "S3Bucket", "excluded_tags": [{"key": "env", "value": "prod"}]})) == ["b2"]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"conditions": [{"value": 1}]}, "conditions[0].property"),
        ({"tags": [{"value": "x"}]}, "tags[0].key"),
        ({"count_conditions": [{"fn": "GT", "value": "many"}]}, "count_conditions[0].value"),
        ({"conditions": {"property": "x"}}, "conditions"),
        ({"condition_expression": {"tag_specs": ["env"]}}, "condition_expression.tag_specs[0]")]
    for node, field in refused:
        with pytest.raises(SpecError) as caught:
            evaluate(graph, spec({"node_type": "OktaUser", **node}))
        assert caught.value.field == f"source_node_types.nodes[0].{field}"


def test_deprecated_fields_are_refused_at_the_path_the_client_sent(graph: Graph) -> None:
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(destination_node_types={"nodes": [{"node_type": "Bucket"}]}))
    assert caught.value.field == "destination_node_types.nodes[0].node_type"
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(effective_permissions={"values": ["DATA_EVERYTHING"]}))
    assert caught.value.field == "effective_permissions.values[0]"
    assert ids(graph, spec(raw_permissions={"values": ["SELECT"]})) == ["u-alice"]
    assert ids(graph, spec(no_relation=True)) == []
    assert ids(graph, spec("AzureADGroup", no_relation=True)) == ["az-global-admins"]
