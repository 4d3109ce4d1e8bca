"""Declared OAA apps in the generated graph: determinism, the company left as it was, every entity kind with its
properties, relations that reach the app's resources, and node-type resolution (zero rows, 400, legacy Custom*)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from runner.catalog import parse_oaa
from runner.errors import UsageError
from runner.sandbox.config import SandboxConfig, option_specs
from runner.sandbox.engine import SpecError, count, evaluate
from runner.sandbox.generate import generate_graph
from runner.sandbox.graph import EdgeKind, Graph, edge_kind, edge_target
from runner.sandbox.node_types import resolve_node_type
from runner.sandbox.oaa import plan_apps

NOW = datetime(2025, 6, 1, tzinfo=UTC)
NODES = 1500
ACME = ("OAA.Acme.User", "OAA.Acme.document.Resource", "OAA.Acme.folder.SubResource")
DECLARED = (*ACME, "OAA.Bitbucket.Repo.Resource", "OAA.Github.team.Resource")


@pytest.fixture(scope="module")
def graph() -> Graph:
    return generate_graph(nodes=NODES, seed=7, now=NOW, oaa=DECLARED)


def spec(node_type: str, condition: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"node_type": node_type}
    if condition:
        node["condition_expression"] = {"specs": condition}
    return {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [node]},
            "result_value_type": "SOURCE_NODES", **extra}


def ids(graph: Graph, body: dict[str, Any]) -> list[str]:
    outcome = evaluate(graph, body)
    rows, _ = outcome.page(0, outcome.total)
    return [row["id"] for row in rows]


def test_the_plan_groups_declared_types_by_app_and_skips_built_in_apps() -> None:
    plans = plan_apps([*DECLARED, "OAA.Zeta.Group", "OAA.Broken.Thing"])
    assert [p.app for p in plans] == ["Acme", "Bitbucket", "Zeta"]  # sorted; Github is the company's own
    acme, bitbucket, zeta = plans
    assert [r.name for r in acme.resources] == ["OAA.Acme.document.Resource", "OAA.Acme.folder.SubResource"]
    assert [r.name for r in bitbucket.resources] == ["OAA.Bitbucket.Repo.Resource"]
    assert [r.name for r in zeta.resources] == ["OAA.Zeta.resource.Resource"]  # an app with none gets one
    assert zeta.type_names()[:5] == ("OAA.Zeta.User", "OAA.Zeta.Group", "OAA.Zeta.Role", "OAA.Zeta.Permission",
                                     "OAA.Zeta.Application")


def test_same_arguments_same_graph(graph: Graph) -> None:
    again = generate_graph(nodes=NODES, seed=7, now=NOW, oaa=tuple(reversed(DECLARED)))  # order does not matter
    assert again.ids == graph.ids and again.out == graph.out
    assert [again.properties(i) for i in range(0, len(graph), 41)] == [graph.properties(i)
                                                                        for i in range(0, len(graph), 41)]
    assert generate_graph(nodes=NODES, seed=8, now=NOW, oaa=DECLARED).out != graph.out


def test_declaring_apps_leaves_the_company_as_it_was(graph: Graph) -> None:
    plain = generate_graph(nodes=NODES, seed=7, now=NOW)
    assert len(plain) == NODES < len(graph)
    assert graph.ids[:NODES] == plain.ids
    assert [graph.properties(i) for i in range(0, NODES, 13)] == [plain.properties(i) for i in range(0, NODES, 13)]
    for index in range(NODES):
        # The only new edges of the company: Okta users signing in to their app accounts.
        added = [e for e in graph.out[index] if e not in plain.out[index]]
        assert graph.out[index][:len(plain.out[index])] == plain.out[index]
        assert all(edge_kind(e) == EdgeKind.IDENTITY and edge_target(e) >= NODES for e in added)
        assert not added or graph.type_name(index) == "OktaUser"


def test_every_kind_of_entity_is_generated_with_its_properties(graph: Graph) -> None:
    for kind in ("User", "Group", "Role", "Permission", "Application"):
        block = graph.nodes_of_type(f"OAA.Acme.{kind}")
        assert len(block) >= 1
        props = graph.properties(block.start)
        assert props["application_type"] == "Acme" and props["name"] and props["id"] == graph.ids[block.start]
    user = graph.properties(graph.nodes_of_type("OAA.Acme.User").start)
    assert str(user["email"]).endswith("@acme.example") and "customprop_department" in user
    for name in ("OAA.Acme.document.Resource", "OAA.Acme.folder.SubResource", "OAA.Bitbucket.Repo.Resource"):
        parsed = parse_oaa(name)
        assert parsed is not None
        props = graph.properties(graph.nodes_of_type(name).start)
        assert props["resource_type"] == parsed.resource_type and props["application_type"] == parsed.app
        assert {"customprop_classification", "customprop_owner_team"} <= set(props)
    assert len(set(graph.ids)) == len(graph.ids)
    assert len(graph.nodes_of_type("OAA.Github.team.Resource")) == 0  # built-in apps keep their own shape


def test_relations_reach_the_app_through_identities_groups_and_roles(graph: Graph) -> None:
    to_documents: dict[str, Any] = {"relates_to_exp": {"specs": [{
        "node_types": {"nodes": [{"node_type": "OAA.Acme.document.Resource"}]},
        "effective_permissions": {"values": ["DATA_WRITE"]}}]}}
    writers = ids(graph, spec("OktaUser", **to_documents))
    assert writers and all(i.startswith("00u") for i in writers)
    admins = spec("OAA.Acme.User", relates_to_exp={"specs": [{
        "node_types": {"nodes": [{"node_type": "OAA.Acme.Application"}]}, "raw_permissions": {"values": ["Manage"]}}]})
    assert 0 < count(graph, admins) < len(graph.nodes_of_type("OAA.Acme.User"))
    roles_to_permissions = spec("OAA.Acme.Role", relates_to_exp={"specs": [{
        "node_types": {"nodes": [{"node_type": "OAA.Acme.Permission"}]}}]})
    assert count(graph, roles_to_permissions) == 4
    grouped = spec("OAA.Acme.Group", relates_to_exp={"specs": [{
        "node_types": {"nodes": [{"node_type": "OAA.Acme.Role"}]}}]})
    assert count(graph, grouped) == len(graph.nodes_of_type("OAA.Acme.Group"))


@pytest.mark.parametrize("name", ["OAA.Nowhere.User", "OAA.Acme.spreadsheet.Resource", "OAA.Acme.x.SubResource",
                                  "OAA.Github.team.Resource", "CustomPermission"])
def test_a_well_formed_type_without_entities_has_zero_rows(name: str) -> None:
    plain = generate_graph(nodes=400, seed=7, now=NOW)
    assert count(plain, spec(name)) == 0
    relates = spec("OktaUser", relates_to_exp={"specs": [{"node_types": {"nodes": [{"node_type": name}]}}]})
    assert count(plain, relates) == 0


@pytest.mark.parametrize("name", ["OAA.Github.Repository", "OAA.Jira.Project", "OktaUsr", "Okta User", "oaa.x.User",
                                  42])
def test_a_malformed_or_unknown_name_is_not_a_valid_node_type(graph: Graph, name: Any) -> None:
    with pytest.raises(SpecError) as caught:
        evaluate(graph, spec(name))
    assert caught.value.message == f"{name} is not a valid NodeType"
    assert caught.value.field == "source_node_types.nodes[0].node_type"


def test_legacy_custom_types_stand_for_every_app_and_conditions_narrow_them(graph: Graph) -> None:
    acme = ids(graph, spec("OAA.Acme.User"))
    legacy = ids(graph, spec("CustomUser", [{"property": "application_type", "fn": "EQ", "value": "Acme"}]))
    assert acme and legacy == acme
    everyone = count(graph, spec("CustomUser"))
    assert everyone == sum(len(graph.nodes_of_type(f"OAA.{app}.User")) for app in ("Acme", "Bitbucket", "Github",
                                                                                      "Jira"))
    repos = ids(graph, spec("CustomResource", [{"property": "application_type", "value": "Github"},
                                                {"property": "resource_type", "value": "repository"}]))
    assert repos == ids(graph, spec("OAA.Github.repository.Resource"))
    folders = ids(graph, spec("CustomSubResource", [{"property": "resource_type", "value": "folder"}]))
    assert folders == ids(graph, spec("OAA.Acme.folder.SubResource"))
    assert count(graph, spec("CustomApplication")) == 2  # Acme's and Bitbucket's


def test_resolution_of_names() -> None:
    universe = ("OktaUser", "S3Bucket", "OAA.Acme.User", "OAA.Acme.document.Resource", "OAA.Github.User")
    assert resolve_node_type("User", universe) == ("OAA.Acme.User", "OAA.Github.User", "OktaUser")
    assert resolve_node_type("Resource", universe) == ("OAA.Acme.document.Resource", "S3Bucket")
    assert resolve_node_type("CustomResource", universe) == ("OAA.Acme.document.Resource",)
    assert resolve_node_type("S3Bucket", universe) == ("S3Bucket",)
    assert resolve_node_type("SnowflakeTable", universe) == ()  # a catalog type this graph has none of
    assert resolve_node_type("OAA.Zed.Role", universe) == ()
    assert resolve_node_type("OAA.Zed.Roles", universe) is None
    assert resolve_node_type("NoSuchType", universe) is None


def test_the_sandbox_option_checks_the_naming_rule() -> None:
    config = SandboxConfig(oaa_types=" OAA.Acme.User, ,OAA.Acme.doc.Resource ")
    assert config.oaa_type_names() == ("OAA.Acme.User", "OAA.Acme.doc.Resource")
    assert any(o.flag == "--oaa-types" and o.type is str for o in option_specs())
    with pytest.raises(UsageError, match=r"'OAA\.Acme\.Docs' breaks the OAA naming rule"):
        SandboxConfig(oaa_types="OAA.Acme.Docs")
    with pytest.raises(UsageError, match="at most"):
        SandboxConfig(oaa_types=",".join(f"OAA.App{i}.User" for i in range(40)))
