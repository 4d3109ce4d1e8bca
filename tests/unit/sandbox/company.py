"""The hand-built company graph the engine tests read their answers off, and spec helpers for them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from runner.model.values import JSONValue
from runner.sandbox.engine import evaluate
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
