"""OAA and legacy node types in the linter: the naming rule (catalog.parse_oaa), declared apps, closest matches,
legacy Custom* types and their modern names; and the vqr.yaml schema's pattern agreeing with the catalog."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner import catalog
from runner.model.values import Finding
from runner.rules import RuleContext, check_unit
from tests.unit.rules.test_rules import make_unit

REPO = Path(__file__).resolve().parents[3]
CTX = RuleContext(known_node_types=catalog.known_node_types())
DECLARED = RuleContext(known_node_types=catalog.known_node_types(frozenset({"OAA.Acme.User"})))


def query(node_type: str, extra: str = "") -> str:
    return ("name: q\nspec:\n  query_type: SOURCE_TO_DESTINATION\n  source_node_types:\n    nodes:\n"
            f"      - node_type: {node_type}\n{extra}")


def findings(node_type: str, ctx: RuleContext = CTX, extra: str = "") -> list[Finding]:
    return [f for f in check_unit(make_unit(query(node_type, extra)), ctx) if f.rule.startswith("spec/")]


WELL_FORMED = [
    ("OAA.Github.User", catalog.OaaName(app="Github", kind="User")),
    ("OAA.Acme.Role", catalog.OaaName(app="Acme", kind="Role")),
    ("OAA.Acme.Application", catalog.OaaName(app="Acme", kind="Application")),
    ("OAA.Github.repository.Resource", catalog.OaaName(app="Github", kind="Resource", resource_type="repository")),
    ("OAA.Bitbucket.Repo.SubResource", catalog.OaaName(app="Bitbucket", kind="SubResource", resource_type="Repo")),
    ("OAA.my-app_2.project_space.Resource",
     catalog.OaaName(app="my-app_2", kind="Resource", resource_type="project_space")),
]
MALFORMED = ["OAA.Github.Repository", "OAA.Github", "OAA..User", "OAA.Github.user", "OAA.Jira.project.Role",
             "OAA.Github.repository.Resources", "OAA.a.b.c.Resource", "OAA.Git hub.User", "OAA.Github.User.",
             "oaa.Github.User"]


@pytest.mark.parametrize(("name", "parsed"), WELL_FORMED)
def test_the_naming_rule_parses_well_formed_names_and_round_trips(name: str, parsed: catalog.OaaName) -> None:
    assert catalog.parse_oaa(name) == parsed
    assert parsed.name == name


@pytest.mark.parametrize("name", MALFORMED)
def test_the_naming_rule_refuses_malformed_names(name: str) -> None:
    assert catalog.parse_oaa(name) is None


def test_the_catalog_holds_only_well_formed_oaa_names() -> None:
    oaa = [name for name in catalog.NODE_TYPES if catalog.is_oaa_like(name)]
    assert oaa and all(catalog.parse_oaa(name) is not None for name in oaa)
    assert catalog.oaa_apps(catalog.NODE_TYPES) == {"Github", "Jira"}


def test_the_project_schema_pattern_says_what_the_catalog_says() -> None:
    schema = json.loads((REPO / "schemas" / "project.schema.json").read_text())
    pattern = re.compile(schema["properties"]["node_types"]["items"]["pattern"])
    for name, _ in WELL_FORMED:
        assert pattern.search(name), name
    for name in MALFORMED:
        assert bool(pattern.search(name)) == (not catalog.is_oaa_like(name)), name
    assert pattern.search("GitHubRepository") and pattern.search("CustomUser")


@pytest.mark.parametrize("name", ["OAA.Github.User", "OAA.Github.team.Resource", "OAA.Jira.project.Resource",
                                  "OAA.Github.Role", "User", "Resource"])
def test_types_of_the_catalog_apps_and_groupings_are_clean(name: str) -> None:
    assert findings(name) == []


@pytest.mark.parametrize("name", ["OAA.Acme.User", "OAA.Acme.Group", "OAA.Acme.document.Resource",
                                  "OAA.Acme.folder.SubResource", "OAA.Acme.Permission"])
def test_listing_one_type_of_an_app_declares_every_well_formed_type_of_it(name: str) -> None:
    assert findings(name, DECLARED) == []


def test_an_undeclared_app_is_a_warning_with_the_closest_match_and_how_to_declare_it() -> None:
    [finding] = findings("OAA.GitHub.repository.Resource")
    assert finding.rule == "spec/unknown-node-type" and finding.severity.value == "warning"
    assert "did you mean 'OAA.Github.repository.Resource'?" in finding.message
    assert "declare the app GitHub by listing this type (or any OAA.GitHub.… type) in node_types" in finding.message
    [far] = findings("OAA.ServiceNow.Application")
    assert "did you mean" not in far.message and "declare the app" in far.message


def test_a_malformed_oaa_name_names_the_rule_and_the_closest_type() -> None:
    [finding] = findings("OAA.Github.Repository")
    assert finding.rule == "spec/malformed-oaa-type" and finding.severity.value == "warning"
    assert catalog.OAA_RULE in finding.message
    assert "Did you mean 'OAA.Github.repository.Resource'?" in finding.message
    [acme] = findings("OAA.Acme.Documents", DECLARED)  # a declared app does not excuse a malformed name
    assert acme.rule == "spec/malformed-oaa-type"


def test_a_legacy_type_names_its_modern_form_filled_from_the_conditions() -> None:
    narrowed = ("        condition_expression:\n          specs:\n"
                "            - {property: application_type, value: Bitbucket}\n"
                "            - {property: resource_type, fn: EQ, value: Repo}\n")
    [finding] = findings("CustomSubResource", extra=narrowed)
    assert finding.rule == "spec/legacy-node-type" and finding.severity.value == "warning"
    assert "'OAA.Bitbucket.Repo.SubResource'" in finding.message
    [bare] = findings("CustomUser")
    assert "'OAA.<App>.User'" in bare.message
    negated = ("        condition_expression:\n          specs:\n"
               "            - {property: application_type, value: Jira, not: true}\n")
    [other] = findings("CustomApplication", extra=negated)
    assert "'OAA.<App>.Application'" in other.message  # "not Jira" names no app


def test_a_legacy_type_is_flagged_even_when_vqr_yaml_lists_it() -> None:
    ctx = RuleContext(known_node_types=catalog.known_node_types(frozenset({"CustomResource"})))
    assert [f.rule for f in findings("CustomResource", ctx)] == ["spec/legacy-node-type"]


def test_plain_unknown_types_keep_their_warning() -> None:
    [finding] = findings("OktaUsr")
    assert finding.rule == "spec/unknown-node-type" and "did you mean 'OktaUser'?" in finding.message
