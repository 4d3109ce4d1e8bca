"""Engine tests on hand-built access graphs: every expected answer can be read off the edges in `company()`
(tests/unit/sandbox/company.py). The spec forms (zero values, legacy fields) are in test_spec_forms.py."""

from __future__ import annotations

from typing import Any

import pytest

from runner.sandbox.engine import SpecError, count, evaluate
from runner.sandbox.graph import Graph
from tests.unit.sandbox.company import company, ids, spec, to

# --- node types, ids, conditions ----------------------------------------------------------------------------------

def test_node_type_rows_are_sorted_by_id(graph: Graph) -> None:
    assert ids(graph, spec()) == ["u-alice", "u-bob", "u-carol", "u-dave"]


def test_grouping_expands_to_member_types(graph: Graph) -> None:
    assert ids(graph, spec("User")) == ["az-guest", "sf-alice", "u-alice", "u-bob", "u-carol", "u-dave"]


def test_node_id_pins_one_entity(graph: Graph) -> None:
    assert ids(graph, spec({"node_type": "OktaUser", "node_id": "u-carol"})) == ["u-carol"]
    assert ids(graph, spec({"node_type": "OktaGroup", "node_id": "u-carol"})) == []


@pytest.mark.parametrize(("condition", "expected"), [
    ({"property": "status", "value": "ACTIVE"}, ["u-alice", "u-carol"]),  # fn omitted means EQ
    ({"fn": "NEQ", "property": "status", "value": "ACTIVE"}, ["u-bob", "u-dave"]),
    ({"fn": "IN", "property": "status", "value": ["STAGED", "SUSPENDED"]}, ["u-bob", "u-dave"]),
    ({"fn": "NOT_IN", "property": "status", "value": ["STAGED", "SUSPENDED"]}, ["u-alice", "u-carol"]),
    ({"fn": "CONTAINS", "property": "email", "value": "@corp."}, ["u-carol"]),
    ({"fn": "STARTS_WITH", "property": "email", "value": "da"}, ["u-dave"]),
    ({"fn": "ENDS_WITH", "property": "email", "value": "acme.example"}, ["u-alice", "u-bob", "u-dave"]),
    ({"fn": "EQ", "property": "is_active", "value": "false"}, ["u-bob"]),  # booleans also as strings
    ({"fn": 0, "property": "status", "value": "SUSPENDED"}, ["u-bob"]),  # enums as integers
    ({"fn": "EQ", "property": "status", "value": "ACTIVE", "not": True}, ["u-bob", "u-dave"]),
    # Timestamps compare as instants, nanoseconds included; null never orders.
    ({"fn": "LT", "property": "last_login_at", "value": "$COOKIE_TIMEVAR_90_DAY_AGO"}, ["u-bob"]),
    ({"fn": "GTE", "property": "last_login_at", "value": "$COOKIE_TIMEVAR_10_DAY_AGO"}, ["u-alice", "u-dave"]),
    ({"fn": "GT", "property": "last_login_at", "value": "2025-05-30T23:59:59.999+00:00"}, ["u-dave"]),
    ({"fn": "LTE", "property": "last_login_at", "value": "2025-05-22T12:00:00Z"}, ["u-alice", "u-bob"]),
    ({"fn": "EQ", "property": "last_login_at", "value": None}, ["u-carol"]),
])
def test_condition_functions(graph: Graph, condition: dict[str, Any], expected: list[str]) -> None:
    assert ids(graph, spec(condition={"specs": [condition]})) == expected


def test_numbers_compare_with_int64_strings(graph: Graph) -> None:
    assert ids(graph, spec("OktaGroup", condition={"specs": [{"fn": "GT", "property": "member_count",
                                                                 "value": "1"}]})) == ["g-eng"]


def test_nested_expressions_and_not(graph: Graph) -> None:
    active = {"specs": [{"property": "status", "value": "ACTIVE"}]}
    engineering = {"specs": [{"property": "department", "value": "Engineering"}]}
    either = {"operator": "OR", "child_expressions": [active, {"specs": [{"property": "department",
                                                                           "value": "Sales"}]}]}
    assert ids(graph, spec(condition=either)) == ["u-alice", "u-carol", "u-dave"]
    assert ids(graph, spec(condition={"operator": "AND", "child_expressions": [either, engineering]})) == ["u-alice"]
    assert ids(graph, spec(condition={**either, "not": True})) == ["u-bob"]


def test_value_property_name_compares_two_properties(graph: Graph) -> None:
    same = {"specs": [{"property": "login", "value_property_name": "email"}]}
    assert ids(graph, spec(condition=same)) == ["u-alice", "u-carol", "u-dave"]


def test_unknown_property_yields_zero_rows_even_negated(graph: Graph) -> None:
    typo = {"property": "stauts", "value": "ACTIVE"}
    assert ids(graph, spec(condition={"specs": [typo]})) == []
    assert ids(graph, spec(condition={"specs": [{**typo, "not": True}]})) == []
    assert ids(graph, spec(condition={"specs": [typo], "not": True})) == []
    # Kleene OR: a definite true wins over unknown.
    assert ids(graph, spec(condition={"operator": "OR", "specs": [typo, {"property": "department",
                                                                          "value": "Data"}]})) == ["u-carol"]


def test_tag_specs_and_exclude(graph: Graph) -> None:
    prod = {"tag": {"type": "aws", "key": "env", "value": "prod"}}  # tag types compare case-insensitively
    assert ids(graph, spec("S3Bucket", condition={"tag_specs": [prod]})) == ["b1"]
    assert ids(graph, spec("S3Bucket", condition={"tag_specs": [{**prod, "exclude": True}]})) == ["b2"]
    assert ids(graph, spec("S3Bucket", condition={"tag_specs": [{"tag": {"key": "env"}}]})) == ["b1", "b2"]


def test_all_entity_condition_applies_to_sources_and_destinations(graph: Graph) -> None:
    body = spec(relates=to("S3Bucket"), all_entity_condition={"specs": [{"property": "team", "value": "Finance"}]})
    assert ids(graph, body) == []  # Okta users have no `team`: unknown, so excluded
    body = spec("S3Bucket", all_entity_condition={"specs": [{"property": "team", "value": "Finance"}]})
    assert ids(graph, body) == ["b2"]


# --- relations --------------------------------------------------------------------------------------------------

def test_effective_access_is_multi_hop_with_counts(graph: Graph) -> None:
    outcome = evaluate(graph, spec(relates=to("S3Bucket", effective_permissions={"values": ["DATA_WRITE"]})))
    values, paths = outcome.page(0, 10)
    assert outcome.result_value_type == "SOURCE_NODES_WITH_COUNTS" and paths == []
    assert [(r["id"], r["destination_node_count"]) for r in values] == [("u-alice", 1), ("u-bob", 2), ("u-carol", 1)]
    bob = values[1]
    assert bob["raw_permissions"] == ["s3:*"] and "DATA_DELETE" in bob["effective_permissions"]
    assert bob["risk_level"] == "HIGH" and bob["tags"] == [] and bob["destination_node_ids"] == []


def test_identity_links_carry_access(graph: Graph) -> None:
    assert ids(graph, spec(relates=to("SnowflakeTable", effective_permissions={"values": ["DATA_READ"]}))) == [
        "u-alice"]
    # Intermediates are destinations too in effective mode.
    assert ids(graph, spec(relates=to("AwsIamRole"))) == ["u-alice", "u-bob", "u-carol"]


@pytest.mark.parametrize(("permissions", "expected"), [
    ({"effective_permissions": {"values": ["DATA_READ", "DATA_DELETE"], "operator": "AND"}}, ["u-bob"]),
    ({"effective_permissions": {"values": ["DATA_DELETE", "DATA_CREATE"], "operator": "OR"}},
     ["u-alice", "u-bob", "u-carol"]),
    # 2 = DATA_WRITE in protojson's table
    ({"effective_permissions": {"values": [2], "operator": 1}}, ["u-alice", "u-bob", "u-carol"]),
    ({"raw_permissions": {"values": ["s3:PutObject"]}}, ["u-alice", "u-carol"]),
    ({"raw_permissions": {"values": ["s3:GetObject", "s3:ListBucket"], "operator": "AND"}},
     ["u-alice", "u-carol", "u-dave"]),
    ({"raw_permissions": {"values": ["s3:GetObject", "no:such"], "operator": "AND"}}, []),
])
def test_permission_filters(graph: Graph, permissions: dict[str, Any], expected: list[str]) -> None:
    assert ids(graph, spec(relates=to("S3Bucket", **permissions))) == expected


def test_required_and_avoided_intermediates(graph: Graph) -> None:
    assert ids(graph, spec(relates=to("S3Bucket", required_intermediate_node_types={
        "nodes": [{"node_type": "AwsIamRole"}]}))) == ["u-alice", "u-bob", "u-carol"]
    assert ids(graph, spec(relates=to("S3Bucket", required_intermediate_node_types={
        "nodes": [{"node_type": "AwsIamGroup"}]}))) == []
    assert ids(graph, spec(relates=to("S3Bucket", avoided_intermediate_node_types={
        "nodes": [{"node_type": "OktaGroup"}]}))) == ["u-dave"]
    # A required type that is the destination itself is no intermediate.
    assert ids(graph, spec(relates=to("AwsIamRole", required_intermediate_node_types={
        "nodes": [{"node_type": "AwsIamRole"}]}))) == []


def test_direct_relationship_only(graph: Graph) -> None:
    assert ids(graph, spec(relates=to("S3Bucket", node={"direct_relationship_only": True}))) == ["u-dave"]


def test_no_relation_and_negated_expressions(graph: Graph) -> None:
    assert ids(graph, spec(relates={"specs": [{"node_types": {"nodes": [{"node_type": "SnowflakeTable"}]},
                                               "no_relation": True}]})) == ["u-bob", "u-carol", "u-dave"]
    negated = {**to("AwsIamRole"), "not": True}
    assert ids(graph, spec(relates=negated)) == ["u-dave"]


def test_relates_and_or_with_children(graph: Graph) -> None:
    tables, writes = to("SnowflakeTable"), to("S3Bucket", effective_permissions={"values": ["DATA_WRITE"]})
    both = {"operator": "AND", "child_expressions": [tables, writes]}
    assert ids(graph, spec(relates=both)) == ["u-alice"]
    either = {"operator": "OR", "specs": tables["specs"] + to("S3Bucket", node={"node_id": "b2"})["specs"]}
    outcome = evaluate(graph, spec(relates=either))
    values, _ = outcome.page(0, 10)
    assert [(r["id"], r["destination_node_count"]) for r in values] == [("u-alice", 1), ("u-bob", 1), ("u-dave", 1)]


def test_destination_conditions_and_other_node_property(graph: Graph) -> None:
    confidential = {"specs": [{"property": "data_classification", "value": "CONFIDENTIAL"}]}
    assert ids(graph, spec(relates=to("S3Bucket", node={"condition_expression": confidential}))) == [
        "u-alice", "u-bob", "u-carol"]
    own_team = {"specs": [{"property": "team", "value_property_name": "department",
                           "value_property_from_other_node": True}]}
    assert ids(graph, spec(relates=to("S3Bucket", node={"condition_expression": own_team}))) == [
        "u-alice", "u-bob"]


def test_count_conditions(graph: Graph) -> None:
    more_than_one = {"specs": [{"fn": "GT", "value": "1"}]}
    assert ids(graph, spec({"node_type": "OktaUser", "count_condition_expression": more_than_one},
                           relates=to("S3Bucket"))) == ["u-bob"]
    none = {"specs": [{"fn": "LT", "value": 1}], "include_zero_count_results": True}
    assert ids(graph, spec({"node_type": "OktaUser", "count_condition_expression": none},
                           relates=to("SnowflakeTable"))) == ["u-bob", "u-carol", "u-dave"]
    without_zero = {"specs": [{"fn": "LT", "value": 1}]}
    assert ids(graph, spec({"node_type": "OktaUser", "count_condition_expression": without_zero},
                           relates=to("SnowflakeTable"))) == []
    # On a destination node spec: the count of that spec's destinations.
    assert ids(graph, spec(relates=to("S3Bucket", node={"count_condition_expression": {
        "specs": [{"fn": "EQ", "value": "2"}]}}))) == ["u-bob"]


def test_configured_is_one_edge_either_direction(graph: Graph) -> None:
    configured = {"node_relationship_type": "CONFIGURED"}
    assert ids(graph, spec(relates=to("OktaGroup"), **configured)) == ["u-alice", "u-bob", "u-carol"]
    assert ids(graph, spec(relates=to("S3Bucket"), **configured)) == ["u-dave"]
    assert ids(graph, spec(relates=to("AwsIamRole"), **configured)) == []
    outcome = evaluate(graph, spec("OktaGroup", relates=to("OktaUser"), node_relationship_type=1))
    assert [(r["id"], r["destination_node_count"]) for r in outcome.page(0, 9)[0]] == [("g-eng", 2), ("g-fin", 1)]
    guests = spec("AzureADUser", condition={"specs": [{"property": "user_type", "value": "Guest"}]},
                  relates=to("AzureADGroup", node={"condition_expression": {"specs": [
                      {"fn": "IN", "property": "name", "value": ["Global Administrators"]}]}}), **configured)
    assert ids(graph, guests) == ["az-guest"]


# --- result types and rows ----------------------------------------------------------------------------------------

def test_source_and_destination_nodes_are_path_rows(graph: Graph) -> None:
    outcome = evaluate(graph, spec({"node_type": "OktaUser", "properties_to_get": ["email"]},
                                   relates=to("S3Bucket", effective_permissions={"values": ["DATA_WRITE"]},
                                              node={"properties_to_get": ["team"]}),
                                   result_value_type="SOURCE_AND_DESTINATION_NODES"))
    values, paths = outcome.page(0, 10)
    assert values == [] and outcome.total == 4
    assert [(p["source"]["id"], p["destination"]["id"]) for p in paths] == [
        ("u-alice", "b1"), ("u-bob", "b1"), ("u-bob", "b2"), ("u-carol", "b1")]
    assert paths[0]["source"] == {"id": "u-alice", "type": "OktaUser", "properties": {"email": "alice@acme.example"},
                                  "risk_level": "LOW"}
    assert paths[0]["destination"]["properties"] == {"team": "Engineering"}
    assert paths[1]["source"]["risk_level"] == "HIGH" and paths[0]["destination"]["risk_level"] == "NONE"
    assert paths[0]["concrete_permissions"] == ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
    assert paths[1]["concrete_permissions"] == ["s3:*"]
    assert "DATA_WRITE" in paths[0]["abstract_permissions"] and "DATA_DELETE" not in paths[0]["abstract_permissions"]


def test_destination_nodes(graph: Graph) -> None:
    body = spec(condition={"specs": [{"property": "is_active", "value": True}]}, relates=to("S3Bucket"),
                result_value_type="DESTINATION_NODES", include_all_destination_tags_in_results=True)
    values, _ = evaluate(graph, body).page(0, 10)
    assert [r["id"] for r in values] == ["b1", "b2"]
    assert values[0]["tags"] == [{"type": "AWS", "key": "env", "value": "prod"}]
    assert values[1]["effective_permissions"] == ["DATA_READ", "METADATA_READ"]  # Dave's s3 read


def test_source_nodes_properties_tags_and_node_ids(graph: Graph) -> None:
    body = spec({"node_type": "S3Bucket", "properties_to_get": ["data_classification", "nope"]},
                include_all_source_tags_in_results=True, result_value_type="SOURCE_NODES")
    values, _ = evaluate(graph, body).page(0, 1)
    assert values[0]["properties"] == {"data_classification": "CONFIDENTIAL"}
    assert values[0]["tags"] == [{"type": "AWS", "key": "env", "value": "prod"}]
    assert values[0]["destination_node_count"] == 0 and values[0]["access_stats"] is None
    related = evaluate(graph, spec(relates=to("S3Bucket"), include_nodes=True)).page(1, 1)[0]
    assert related[0]["id"] == "u-bob" and related[0]["destination_node_ids"] == ["b1", "b2"]


def test_paging(graph: Graph) -> None:
    outcome = evaluate(graph, spec("User"))
    assert outcome.total == 6
    assert [r["id"] for r in outcome.page(4, 10)[0]] == ["u-carol", "u-dave"]
    assert outcome.page(6, 10) == ([], [])
    assert outcome.cost > 0


# --- spec handling --------------------------------------------------------------------------------------------------

def test_deprecated_top_level_fields_are_folded_with_a_warning(graph: Graph) -> None:
    body = spec(destination_node_types={"nodes": [{"node_type": "S3Bucket"}]},
                effective_permissions={"values": ["DATA_WRITE"]})
    outcome = evaluate(graph, body)
    assert [r["id"] for r in outcome.page(0, 9)[0]] == ["u-alice", "u-bob", "u-carol"]
    assert any("deprecated" in warning for warning in outcome.warnings)
    assert ids(graph, spec(destination_node_types={"nodes": [{"node_type": "SnowflakeTable"}]},
                           no_relation=True)) == ["u-bob", "u-carol", "u-dave"]


def test_unknown_node_type_is_an_invalid_argument(graph: Graph) -> None:
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec("OktaUsr"))
    assert caught.value.code == "InvalidArgument"
    assert caught.value.message == "OktaUsr is not a valid NodeType"
    assert caught.value.field == "source_node_types.nodes[0].node_type"
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(relates=to("Bucket")))
    assert caught.value.field == "relates_to_exp.specs[0].node_types.nodes[0].node_type"


def test_snapshots_and_enums(graph: Graph) -> None:
    assert ids(graph, spec(snapshot_id="0")) == ids(graph, spec())
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(snapshot_id="42"))
    assert caught.value.code == "NotFound" and caught.value.field == "snapshot_id"
    # one numbering for wire and engine: the OpenAPI subset's declaration order ([assumed] beyond query_type)
    assert evaluate(graph, spec(result_value_type=3)).result_value_type == "SOURCE_AND_DESTINATION_NODES"
    assert evaluate(graph, spec(result_value_type=2)).result_value_type == "DESTINATION_NODES"
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(result_value_type="ALL_THE_THINGS"))
    assert caught.value.field == "result_value_type"
    assert count(graph, spec(relates=to("S3Bucket"))) == 4


def test_caches_follow_the_graph_version(graph: Graph) -> None:
    body = spec(relates=to("S3Bucket", effective_permissions={"values": ["DATA_WRITE"]}))
    local = company()
    before = evaluate(local, body)
    # Alice leaves engineering: her write access must disappear once the version moves on.
    alice = local.index_of("u-alice")
    assert alice is not None
    local.set_out_edges(alice, [e for e in local.out[alice] if local.ids[e >> 16] != "g-eng"])
    local.override_properties({alice: {"department": "Legal"}})
    local.bump()
    after = evaluate(local, body)
    assert [r["id"] for r in after.page(0, 9)[0]] == ["u-bob", "u-carol"]
    # The earlier outcome is a snapshot: its pages do not change.
    assert [r["id"] for r in before.page(0, 9)[0]] == ["u-alice", "u-bob", "u-carol"]
    assert before.page(0, 1)[0][0]["properties"]["department"] == "Engineering"
