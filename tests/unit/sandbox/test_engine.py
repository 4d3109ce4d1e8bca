"""Engine tests on hand-built access graphs: every expected answer can be read off the edges in `company()`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from runner.model.values import JSONValue
from runner.sandbox.engine import SpecError, count, evaluate
from runner.sandbox.graph import EdgeKind, Graph, Tag, encode_edge

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


class TableAttributes:
    """Attributes looked up in tables filled by the test, by (type, ordinal)."""

    def __init__(self, props: Mapping[tuple[str, int], dict[str, JSONValue]],
                 tags: Mapping[tuple[str, int], tuple[Tag, ...]]) -> None:
        self._props, self._tags = props, tags

    def properties(self, type_name: str, ordinal: int) -> dict[str, JSONValue]:
        return dict(self._props[(type_name, ordinal)])

    def tags(self, type_name: str, ordinal: int) -> tuple[Tag, ...]:
        return self._tags.get((type_name, ordinal), ())


def build(nodes: list[tuple[str, str, dict[str, JSONValue], tuple[Tag, ...]]],
          edges: list[tuple[str, str, EdgeKind, int]]) -> Graph:
    """A graph from (type, id, properties, tags) nodes and (source id, target id, kind, bundle) edges."""
    order: list[str] = []
    for type_name, *_ in nodes:
        if type_name not in order:
            order.append(type_name)
    ordered = sorted(nodes, key=lambda node: order.index(node[0]))
    blocks: dict[str, range] = {}
    props: dict[tuple[str, int], dict[str, JSONValue]] = {}
    tags: dict[tuple[str, int], tuple[Tag, ...]] = {}
    for position, (type_name, _, node_props, node_tags) in enumerate(ordered):
        block = blocks.get(type_name)
        blocks[type_name] = range(block.start if block else position, position + 1)
        ordinal = position - blocks[type_name].start
        props[(type_name, ordinal)] = {"name": node_props.get("name", ordered[position][1]), **node_props}
        tags[(type_name, ordinal)] = node_tags
    ids = [node_id for _, node_id, _, _ in ordered]
    out: list[list[int]] = [[] for _ in ids]
    for source, target, kind, bundle in edges:
        out[ids.index(source)].append(encode_edge(ids.index(target), kind, bundle))
    return Graph(seed=0, now=NOW, blocks=blocks, ids=ids, out=out, attributes=TableAttributes(props, tags))


M, A, L, T, G = EdgeKind.MEMBER, EdgeKind.ASSUME, EdgeKind.IDENTITY, EdgeKind.ATTACH, EdgeKind.GRANT
NONE = 20  # permissions.NO_PERMISSION


def company() -> Graph:
    """Alice and Carol (Engineering) write bucket b1 through group eng -> role dev -> policy rw; Bob (Finance) has
    s3:* on b1 and b2 through fin -> admin -> full; Dave reads b2 directly; Alice's Snowflake account can SELECT t1;
    the guest is in Global Administrators."""
    user = "OktaUser"
    nodes: list[tuple[str, str, dict[str, JSONValue], tuple[Tag, ...]]] = [
        (user, "u-alice", {"email": "alice@acme.example", "login": "alice@acme.example", "status": "ACTIVE",
                           "is_active": True, "department": "Engineering", "last_login_at": "2025-05-22T12:00:00Z",
                           "risk_level": "LOW"}, ()),
        (user, "u-bob", {"email": "bob@acme.example", "login": "bob", "status": "SUSPENDED", "is_active": False,
                         "department": "Finance", "last_login_at": "2024-11-13T12:00:00Z", "risk_level": "HIGH"}, ()),
        (user, "u-carol", {"email": "carol@corp.example", "login": "carol@corp.example", "status": "ACTIVE",
                           "is_active": True, "department": "Data", "last_login_at": None, "risk_level": "NONE"}, ()),
        (user, "u-dave", {"email": "dave@acme.example", "login": "dave@acme.example", "status": "STAGED",
                          "is_active": True, "department": "Sales", "last_login_at": "2025-05-31T00:00:00.123456789Z",
                          "risk_level": "LOW"}, ()),
        ("OktaGroup", "g-eng", {"member_count": 2}, ()),
        ("OktaGroup", "g-fin", {"member_count": 1}, ()),
        ("AwsIamRole", "r-dev", {"aws_account_id": "111111111111"}, ()),
        ("AwsIamRole", "r-admin", {"aws_account_id": "222222222222"}, ()),
        ("AwsIamPolicy", "p-rw", {"is_aws_managed": False}, ()),
        ("AwsIamPolicy", "p-full", {"is_aws_managed": True}, ()),
        ("S3Bucket", "b1", {"data_classification": "CONFIDENTIAL", "team": "Engineering"},
         (Tag(type="AWS", key="env", value="prod"),)),
        ("S3Bucket", "b2", {"data_classification": "PUBLIC", "team": "Finance"},
         (Tag(type="AWS", key="env", value="dev"),)),
        ("SnowflakeUser", "sf-alice", {"disabled": False}, ()),
        ("SnowflakeRole", "sf-analyst", {"is_default": False}, ()),
        ("SnowflakeTable", "t1", {"row_count": 10}, (Tag(type="SNOWFLAKE", key="data_category", value="PII"),)),
        ("AzureADUser", "az-guest", {"user_type": "Guest", "account_enabled": True}, ()),
        ("AzureADGroup", "az-global-admins", {"name": "Global Administrators"}, ()),
    ]
    edges = [
        ("u-alice", "g-eng", M, NONE), ("u-carol", "g-eng", M, NONE), ("u-bob", "g-fin", M, NONE),
        ("g-eng", "r-dev", A, NONE), ("g-fin", "r-admin", A, NONE),
        ("r-dev", "p-rw", T, NONE), ("r-admin", "p-full", T, NONE),
        ("p-rw", "b1", G, 1), ("p-full", "b1", G, 3), ("p-full", "b2", G, 3),
        ("u-dave", "b2", G, 0),
        ("u-alice", "sf-alice", L, NONE), ("sf-alice", "sf-analyst", M, NONE), ("sf-analyst", "t1", G, 6),
        ("az-guest", "az-global-admins", M, NONE),
    ]
    return build(nodes, edges)


# --- helpers ----------------------------------------------------------------------------------------------------

def spec(source: str | dict[str, Any] = "OktaUser", *, condition: Any = None, relates: Any = None,
         **top: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"node_type": source} if isinstance(source, str) else dict(source)
    if condition is not None:
        node["condition_expression"] = condition
    body: dict[str, Any] = {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [node]},
                            "result_value_type": "SOURCE_NODES_WITH_COUNTS"}
    if relates is not None:
        body["relates_to_exp"] = relates
    body.update(top)
    return body


def to(node_type: str, **extra: Any) -> dict[str, Any]:
    """A relates-to expression with one spec towards `node_type`."""
    node = {"node_type": node_type, **extra.pop("node", {})}
    return {"specs": [{"node_types": {"nodes": [node]}, **extra}]}


def ids(graph: Graph, body: dict[str, Any]) -> list[str]:
    outcome = evaluate(graph, body)
    values, _ = outcome.page(0, 1000)
    return [row["id"] for row in values]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return company()


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
