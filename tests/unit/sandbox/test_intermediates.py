"""Required and avoided intermediates are whole node specs (type, node_id, conditions, legacy forms), a node spec
without a node_type is refused at its path, a legacy Custom* type warns with its modern OAA name, and the wire layer
names effective permissions from protojson's one table. All on the hand-built company graph."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.protojson import EFFECTIVE_PERMISSION_NAMES
from runner.resources import bundled_openapi_file
from runner.sandbox import wire
from runner.sandbox.engine import SpecError, count, evaluate
from runner.sandbox.graph import Graph
from tests.unit.sandbox.company import ids, spec, to

DEV_ACCOUNT = {"specs": [{"property": "aws_account_id", "value": "111111111111"}]}


def via(field: str, node: dict[str, Any]) -> dict[str, Any]:
    """OktaUser -> S3Bucket with one intermediate node spec under `field`."""
    return spec(relates=to("S3Bucket", **{field: {"nodes": [{"node_type": "AwsIamRole", **node}]}}))


def test_a_required_intermediates_filters_change_the_rows(graph: Graph) -> None:
    required = "required_intermediate_node_types"
    assert ids(graph, via(required, {})) == ["u-alice", "u-bob", "u-carol"]
    assert ids(graph, via(required, {"condition_expression": DEV_ACCOUNT})) == ["u-alice", "u-carol"]
    assert ids(graph, via(required, {"conditions": DEV_ACCOUNT["specs"]})) == ["u-alice", "u-carol"]
    assert ids(graph, via(required, {"node_id": "r-admin"})) == ["u-bob"]
    assert ids(graph, via(required, {"node_id": "nonexistent"})) == []
    assert ids(graph, via(required, {"condition_expression": {"specs": [
        {"property": "name", "value": "zzz-none"}]}})) == []
    # The node id and the condition are ANDed: r-admin is not in the dev account.
    assert ids(graph, via(required, {"node_id": "r-admin", "condition_expression": DEV_ACCOUNT})) == []


def test_an_avoided_intermediates_filters_change_the_rows(graph: Graph) -> None:
    avoided = "avoided_intermediate_node_types"
    assert ids(graph, via(avoided, {})) == ["u-dave"]  # every role avoided: only Dave's direct grant is left
    assert ids(graph, via(avoided, {"node_id": "r-admin"})) == ["u-alice", "u-carol", "u-dave"]
    assert ids(graph, via(avoided, {"condition_expression": DEV_ACCOUNT})) == ["u-bob", "u-dave"]
    assert ids(graph, via(avoided, {"conditions": DEV_ACCOUNT["specs"]})) == ["u-bob", "u-dave"]
    assert ids(graph, via(avoided, {"node_id": "nonexistent"})) == ["u-alice", "u-bob", "u-carol", "u-dave"]


def test_a_filtered_intermediate_and_a_bare_type_mix_and_all_entity_condition_skips_intermediates(
        graph: Graph) -> None:
    nodes = {"nodes": [{"node_type": "AwsIamRole", "node_id": "r-admin"}, {"node_type": "SnowflakeRole"}],
             "nodes_operator": "OR"}
    assert ids(graph, spec(relates={"specs": [{"required_intermediate_node_types": nodes}]})) == ["u-alice", "u-bob"]
    # all_entity_condition is about the result's entities; it does not make the roles on the path fail.
    outcome = evaluate(graph, via("required_intermediate_node_types", {"node_id": "r-admin"}) | {
        "all_entity_condition": {"specs": [{"property": "name", "fn": "NEQ", "value": "r-admin"}]}})
    assert [row["id"] for row in outcome.page(0, 9)[0]] == ["u-bob"]


def test_the_legacy_intermediate_warns_and_filters_as_its_modern_form(graph: Graph) -> None:
    outcome = evaluate(graph, via("required_intermediate_node_types", {"conditions": DEV_ACCOUNT["specs"]}))
    assert outcome.warnings == ("relates_to_exp.specs[0].required_intermediate_node_types.nodes[0].conditions is a "
                                "legacy field: use condition_expression.specs",)


@pytest.mark.parametrize(("node", "field", "message"), [
    ({"count_condition_expression": {"specs": [{"fn": "GT", "value": "1"}]}}, "count_condition_expression",
     "an intermediate node takes no count condition: it counts no destinations"),
    ({"count_conditions": [{"fn": "GT", "value": "1"}]}, "count_conditions",
     "an intermediate node takes no count condition: it counts no destinations"),
    ({"direct_relationship_only": True}, "direct_relationship_only",
     "direct_relationship_only has no meaning on an intermediate node"),
    ({"condition_expression": {"specs": [{"property": "name", "value_property_name": "name",
                                          "value_property_from_other_node": True}]}}, "condition_expression",
     "an intermediate node's condition cannot compare with the other node"),
])
def test_what_means_nothing_on_an_intermediate_is_refused_at_its_path(graph: Graph, node: dict[str, Any],
                                                                      field: str, message: str) -> None:
    for where in ("required_intermediate_node_types", "avoided_intermediate_node_types"):
        with pytest.raises(SpecError) as caught:
            evaluate(graph, via(where, node))
        assert (caught.value.code, caught.value.message) == ("InvalidArgument", message)
        assert caught.value.field == f"relates_to_exp.specs[0].{where}.nodes[0].{field}"


@pytest.mark.parametrize("node", [{}, {"node_type": ""}, {"node_type": None}])
def test_a_node_spec_without_a_node_type_is_refused_at_its_path(graph: Graph, node: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(node))
    assert (caught.value.code, caught.value.message) == ("InvalidArgument", "a node spec needs a node_type")
    assert caught.value.field == "source_node_types.nodes[0].node_type"
    with pytest.raises(SpecError) as caught:
        count(graph, spec(relates={"specs": [{"node_types": {"nodes": [node]}}]}))
    assert caught.value.field == "relates_to_exp.specs[0].node_types.nodes[0].node_type"


def test_a_legacy_custom_type_warns_with_its_modern_oaa_name(graph: Graph) -> None:
    plain = evaluate(graph, spec("CustomUser"))
    assert plain.warnings == ("source_node_types.nodes[0].node_type CustomUser is a legacy (pre-2023-10) OAA type: "
                              "use OAA.<App>.User",)
    narrowed = evaluate(graph, spec("CustomResource", condition={"specs": [
        {"property": "application_type", "value": "Jira"}, {"property": "resource_type", "value": "Project"}]}))
    assert narrowed.warnings == ("source_node_types.nodes[0].node_type CustomResource is a legacy (pre-2023-10) OAA "
                                 "type: use OAA.Jira.Project.Resource",)
    assert evaluate(graph, spec("OAA.Jira.Project.Resource")).warnings == ()


def test_the_wire_layer_names_effective_permissions_from_protojsons_table() -> None:
    assert not hasattr(wire, "EFFECTIVE_PERMISSIONS")
    named = wire.normalize_enums({"effective_permissions": {"values": [0, 1]}})
    assert named["effective_permissions"]["values"] == list(EFFECTIVE_PERMISSION_NAMES[:2])


def test_the_openapi_path_node_declares_every_key_of_a_sandbox_path_row(graph: Graph) -> None:
    document = YAML(typ="safe").load(bundled_openapi_file().read_text(
        encoding="utf-8"))
    declared = set(document["components"]["schemas"]["PathNode"]["properties"])
    outcome = evaluate(graph, spec(relates=to("S3Bucket"), result_value_type="SOURCE_AND_DESTINATION_NODES"))
    rows = outcome.page(0, 9)[1]
    assert rows and all(set(row[end]) <= declared for row in rows for end in ("source", "destination"))
    assert "risk_level" in declared and rows[0]["source"]["risk_level"] in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE")


def test_a_legacy_type_with_a_bad_fn_is_refused_at_the_conditions_path(graph: Graph) -> None:
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec({"node_type": "CustomUser", "conditions": [
            {"fn": "ABOUT", "property": "application_type", "value": "Jira"}]}))
    assert caught.value.field == "source_node_types.nodes[0].conditions[0].fn"
