"""Meaning rules (runner/rules) on hand-built Documents and QueryUnits, plus durations, registry and disabling."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner import catalog
from runner.model.values import Document, Finding, JSONPath, JSONValue, Position, QueryUnit, Severity
from runner.rules import (
    PROJECT_UNKNOWN_RULE,
    QUERY_UNKNOWN_RULE,
    RuleContext,
    check_cache_policy,
    check_unit,
    describe,
    filter_disabled,
    finish_lint,
    register_rule,
    registered_rules,
    rule_matches,
    unknown_disables,
    unknown_rule_patterns,
)

CTX = RuleContext(known_node_types=catalog.known_node_types())


def _plain(node: Any) -> JSONValue:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node  # type: ignore[no-any-return]


def _positions(node: Any, path: JSONPath, values: dict[JSONPath, Position], keys: dict[JSONPath, Position]) -> None:
    # ruamel's round-trip loader records 0-based (line, col) of every key, value and item: a real parser, so the
    # documents here carry the positions the hardened loader would give.
    if isinstance(node, dict):
        for key, child in node.items():
            kline, kcol = node.lc.key(key)  # type: ignore[attr-defined]
            vline, vcol = node.lc.value(key)  # type: ignore[attr-defined]
            keys[(*path, key)] = Position(line=kline + 1, column=kcol + 1)
            values[(*path, key)] = Position(line=vline + 1, column=vcol + 1)
            _positions(child, (*path, key), values, keys)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            line, col = node.lc.item(index)  # type: ignore[attr-defined]
            values[(*path, index)] = Position(line=line + 1, column=col + 1)
            _positions(child, (*path, index), values, keys)


def make_doc(text: str, *, path: str = "queries/q.yaml", disabled: frozenset[str] = frozenset()) -> Document:
    node = YAML(typ="rt").load(textwrap.dedent(text))
    values: dict[JSONPath, Position] = {(): Position(line=1, column=1)}
    keys: dict[JSONPath, Position] = {}
    _positions(node, (), values, keys)
    return Document(path=path, data=_plain(node), values=values, keys=keys, disabled_rules=disabled)


def make_unit(text: str, *, path: str = "queries/q.yaml", matrix: Mapping[str, JSONValue] | None = None,
              body_overrides: Mapping[str, JSONValue] | None = None,
              disabled: frozenset[str] = frozenset()) -> QueryUnit:
    doc = make_doc(text, path=path, disabled=disabled)
    assert isinstance(doc.data, dict)
    body = {**doc.data, **(body_overrides or {})}
    return QueryUnit(doc=doc, name=str(body["name"]), matrix=dict(matrix or {}), body=body)


BASE = """\
name: okta-users
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser}]}
"""


def got(findings: list[Finding]) -> list[tuple[int, int, str]]:
    return sorted((f.line, f.column, f.rule) for f in findings)


def check_units(units: list[QueryUnit], ctx: RuleContext) -> list[Finding]:
    """What `compile_repository` does with rendered units: each unit's own rules (there, cached with its file), then
    `finish_lint` over them all."""
    per_unit = [finding for unit in units for finding in check_unit(unit, ctx)]
    return finish_lint(per_unit, units, ctx, doc_disabled={unit.doc.path: unit.doc.disabled_rules for unit in units})


def lint(*texts: str) -> list[Finding]:
    return check_units([make_unit(text, path=f"queries/q{i}.yaml") for i, text in enumerate(texts)], CTX)


# --- cache ---------------------------------------------------------------------------------------------------------

def test_clean_query_has_no_findings() -> None:
    assert lint(BASE + "cache: {mode: if_available, max_staleness: 1h30m}\nexpect:\n  - {rows: {max: 0}}\n") == []


def test_context_needs_cache_id_points_at_mode() -> None:
    findings = lint(BASE + "cache:\n  mode: context\n")
    assert got(findings) == [(6, 9, "cache/context-needs-cache-id")]
    assert findings[0].severity is Severity.ERROR
    assert "'previous'" in findings[0].message


def test_context_with_empty_cache_id_points_at_cache_id() -> None:
    assert got(lint(BASE + "cache: {mode: context, cache_id: ''}\n")) == [(5, 34, "cache/context-needs-cache-id")]


def test_cache_id_and_on_expired_need_context() -> None:
    findings = lint(BASE + "cache: {mode: immediate, cache_id: previous, on_expired: run}\n")
    assert got(findings) == [(5, 26, "cache/cache-id-needs-context"), (5, 46, "cache/on-expired-needs-context")]
    assert [f.severity for f in sorted(findings, key=lambda f: f.column)] == [Severity.ERROR, Severity.WARNING]


def test_bad_duration_and_staleness_with_immediate() -> None:
    findings = lint(BASE + "cache:\n  mode: immediate\n  max_staleness: 30m1h\n")
    assert got(findings) == [(7, 3, "cache/staleness-with-immediate"), (7, 18, "cache/bad-duration")]
    bad = next(f for f in findings if f.rule == "cache/bad-duration")
    assert bad.message.startswith("max_staleness '30m1h' is not a duration;")


def test_staleness_with_context_is_reported() -> None:
    findings = lint(BASE + "cache: {mode: context, cache_id: previous, max_staleness: 1h}\n")
    assert got(findings) == [(5, 44, "cache/staleness-with-immediate")]
    assert findings[0].severity is Severity.WARNING


def test_cache_rules_skip_wrong_types_the_schema_reports() -> None:
    assert lint(BASE + "cache: {mode: 3, max_staleness: 12, cache_id: 5}\n") == []
    assert lint(BASE + "cache: [context]\n") == []


def test_cache_policy_checker_works_on_project_defaults() -> None:
    doc = make_doc("defaults:\n  cache: {mode: if_available, max_staleness: 2 days}\n", path="vqr.yaml")
    assert doc.data and isinstance(doc.data, dict)
    defaults = doc.data["defaults"]
    assert isinstance(defaults, dict)
    findings = check_cache_policy(defaults["cache"], doc=doc, base=("defaults", "cache"))
    assert [(f.path, f.line, f.column, f.rule) for f in findings] == [("vqr.yaml", 2, 46, "cache/bad-duration")]


def test_timeout_must_be_a_positive_duration() -> None:
    assert got(lint(BASE + "timeout: 0s\n")) == [(5, 10, "query/bad-timeout")]
    assert got(lint(BASE + "timeout: 1m60s\n")) == []


# --- names ---------------------------------------------------------------------------------------------------------

def test_unsafe_name_says_why_and_suggests() -> None:
    findings = lint(BASE.replace("okta-users", "'Okta Users/../x'"))
    assert got(findings) == [(1, 7, "query/unsafe-name")]
    assert "file name" in findings[0].message
    assert findings[0].message.endswith("did you mean 'okta-users-..-x'?")


@pytest.mark.parametrize("name", ["nul", "com1.daily", "x" * 101, "-lead", ".hidden", "ünïcode"])
def test_unsafe_names(name: str) -> None:
    assert got(lint(BASE.replace("okta-users", f"'{name}'"))) == [(1, 7, "query/unsafe-name")]


@pytest.mark.parametrize("name", ["a", "okta.users_v2-x", "0day", "x" * 100, "console"])
def test_safe_names(name: str) -> None:
    assert lint(BASE.replace("okta-users", name)) == []


def test_duplicate_name_names_the_first_file_and_line() -> None:
    first = "# head\n\n" + BASE
    findings = lint(first, BASE)
    assert [(f.path, f.line, f.column, f.rule) for f in findings] == [("queries/q1.yaml", 1, 7,
                                                                       "query/duplicate-name")]
    assert findings[0].message == "query name 'okta-users' is already used in queries/q0.yaml:3."


def test_duplicate_name_is_reported_at_the_later_path_whatever_the_input_order() -> None:
    units = [make_unit(BASE, path="queries/b.yaml"), make_unit(BASE, path="queries/a.yaml")]
    findings = check_units(units, CTX)
    assert [f.path for f in findings] == ["queries/b.yaml"]


def test_matrix_collision_names_the_missing_variable() -> None:
    text = "matrix: {kind: [S3Bucket], env: [a, b]}\n" + BASE.replace("okta-users", "'x-{{ kind }}'")
    units = [make_unit(text, matrix={"kind": "S3Bucket", "env": env}, body_overrides={"name": "x-S3Bucket"})
             for env in ("a", "b")]
    findings = check_units(units, CTX)
    assert got(findings) == [(2, 7, "query/matrix-name-not-unique"), (2, 7, "query/unsafe-name")]
    collision = next(f for f in findings if f.rule == "query/matrix-name-not-unique")
    assert collision.message.endswith("(missing: env).")


# --- expectations --------------------------------------------------------------------------------------------------

def test_expectation_bounds() -> None:
    text = BASE + textwrap.dedent("""\
        expect:
          - {rows: {min: 5, max: 2}}
          - {new_rows: {eq: 0, max: 3}}
          - {removed_rows: {}}
          - {severity: warn}
          - {rows: {min: 0, max: 0}}
          - {rows: {eq: 3}}
        """)
    findings = lint(text)
    assert got(findings) == [(6, 26, "expect/bad-bounds"), (7, 17, "expect/bad-bounds"), (8, 6, "expect/empty"),
                             (9, 5, "expect/empty")]
    assert "min 5 greater than max 2" in findings[0].message or any("min 5" in f.message for f in findings)


def test_negative_rendered_bound_can_never_pass() -> None:
    unit = make_unit(BASE + "expect:\n  - {rows: {max: '{{ n }}'}}\n",
                     body_overrides={"expect": [{"rows": {"max": -1}}]})
    findings = check_units([unit], CTX)
    assert got(findings) == [(6, 18, "expect/bad-bounds")]
    assert "never negative" in findings[0].message


# --- node types and properties -------------------------------------------------------------------------------------

def test_unknown_node_type_suggests_the_closest() -> None:
    findings = lint(BASE.replace("node_type: OktaUser", "node_type: OktaUsr"))
    assert got(findings) == [(4, 43, "spec/unknown-node-type")]
    assert findings[0].message == "'OktaUsr' is not a known node type; did you mean 'OktaUser'?"
    assert findings[0].severity is Severity.WARNING


def test_unknown_node_type_without_a_close_match_points_to_vqr_yaml() -> None:
    findings = lint(BASE.replace("node_type: OktaUser", "node_type: Zzzzqqq"))
    assert findings[0].message == "'Zzzzqqq' is not a known node type; if your tenant has it, add it to node_types " \
                                  "in vqr.yaml."


def test_case_only_difference_is_suggested() -> None:
    findings = lint(BASE.replace("node_type: OktaUser", "node_type: s3bucket"))
    assert findings[0].message.endswith("did you mean 'S3Bucket'?")


def test_node_types_are_checked_everywhere() -> None:
    text = BASE + (
        "  relates_to_exp:\n"
        "    specs:\n"
        "      - node_types: {nodes: [{node_type: S3Buckett}]}\n"
        "        required_intermediate_node_types: {nodes: [{node_type: AwsIamRol}]}\n"
        "    child_expressions:\n"
        "      - child_expressions:\n"
        "          - specs: [{node_types: {nodes: [{node_type: SnowflakeTabel}]}}]\n"
        "  destination_node_types: {nodes: [{node_type: OktaGrup}]}\n"
        "  avoided_intermediate_node_types: {nodes: [{node_type: AwsIamGroup}]}\n"
        "  path_summary_node_types: {nodes: [{node_type: OktaAp}]}\n"
    )
    spec_text = BASE.replace("source_node_types: {nodes: [{node_type: OktaUser}]}",
                             "source_node_types: {nodes: [{node_type: User, node_type_grouping_constraint: "
                             "{node_types: [OktaUser, AzureADUsr]}}]}")
    findings = lint(text) + lint(spec_text)
    names = sorted(f.message.split("'")[1] for f in findings)
    assert names == ["AwsIamRol", "AzureADUsr", "OktaAp", "OktaGrup", "S3Buckett", "SnowflakeTabel"]
    assert all(f.rule == "spec/unknown-node-type" for f in findings)
    assert (12, 48, "spec/unknown-node-type") in got(findings)


def test_project_node_types_and_groupings_are_known() -> None:
    text = BASE.replace("node_type: OktaUser", "node_type: AcmeWidget")
    assert lint(text) != []
    ctx = RuleContext(known_node_types=catalog.known_node_types(frozenset({"AcmeWidget"})))
    assert check_units([make_unit(text)], ctx) == []
    assert lint(BASE.replace("node_type: OktaUser", "node_type: Identity")) == []


def test_unrendered_template_values_are_left_to_the_templating_stage() -> None:
    assert lint(BASE.replace("node_type: OktaUser", "node_type: '{{ kind }}'")) == []


def test_unknown_property_in_nested_conditions_and_properties_to_get() -> None:
    text = BASE.replace("{nodes: [{node_type: OktaUser}]}", textwrap.dedent("""\

            nodes:
              - node_type: OktaUser
                properties_to_get: [email, emial, customprop_badge]
                condition_expression:
                  operator: AND
                  specs: [{fn: EQ, property: staus, value: {property: nope}}]
                  child_expressions:
                    - specs: [{fn: EQ, property: last_login_at, value: x}, {property: is_activ, value: true}]
              - node_type: User
                condition_expression: {specs: [{fn: EQ, property: whatever, value: 1}]}
        """).replace("\n", "\n    ").rstrip() + "\n")
    findings = lint(text)
    assert [(f.rule, f.message.split("'")[1]) for f in sorted(findings, key=lambda f: f.sort_key)] == [
        ("spec/unknown-property", "emial"), ("spec/unknown-property", "staus"),
        ("spec/unknown-property", "is_activ")]
    first = min(findings, key=lambda f: f.sort_key)
    assert first.message == ("'emial' is not a known property of OktaUser; did you mean 'email'? Veza returns "
                             "no rows for an unknown property.")
    assert got(findings)[0] == (7, 36, "spec/unknown-property")


# --- spec checks ---------------------------------------------------------------------------------------------------

def test_source_to_destination_needs_source_node_types() -> None:
    text = "name: q\nspec:\n  query_type: SOURCE_TO_DESTINATION\n"
    assert got(lint(text)) == [(3, 15, "spec/query-type")]
    assert got(lint(text + "  source_node_types: {nodes: []}\n")) == [(4, 22, "spec/query-type")]
    # Any other query type without sources is refused by the sandbox's shape check: spec/rejected, on `spec:`.
    assert got(lint("name: q\nspec:\n  query_type: DESTINATION_NODES\n")) == [(2, 1, "spec/rejected")]
    assert got(lint("name: q\nspec:\n  query_type: 1\n")) == [(3, 15, "spec/query-type")]


def test_empty_permissions() -> None:
    text = BASE + (
        "  relates_to_exp:\n"
        "    specs:\n"
        "      - effective_permissions: {values: [], operator: OR}\n"
        "        raw_permissions: {operator: OR}\n"
        "      - effective_permissions: {values: [DATA_READ]}\n"
    )
    assert got(lint(text)) == [(7, 41, "spec/empty-permissions"), (8, 26, "spec/empty-permissions")]


@pytest.mark.parametrize(("value", "bad"), [
    ('"0"', False), ('"12345"', False), ("0", False), (f'"{2**63 - 1}"', False),
    ('"-1"', True), (f'"{2**63}"', True), ("-3", True), ('"abc"', False),
])
def test_snapshot_id(value: str, bad: bool) -> None:
    findings = lint(BASE + f"  snapshot_id: {value}\n")
    assert got(findings) == ([(5, 16, "spec/snapshot-id")] if bad else [])


def test_in_condition_needs_a_list() -> None:
    text = BASE.replace("{node_type: OktaUser}", "{node_type: OktaUser, condition_expression: {specs: "
                        "[{fn: IN, property: status, value: ACTIVE}, {fn: IN, property: status, value: [ACTIVE]}]}}")
    findings = lint(text)
    assert [f.rule for f in findings] == ["spec/condition-value"]
    assert "value is a string" in findings[0].message


# --- disabling, dedup, registry ------------------------------------------------------------------------------------

def _finding(rule: str, path: str = "queries/a.yaml", severity: Severity = Severity.ERROR) -> Finding:
    return Finding(path=path, line=1, column=1, severity=severity, rule=rule, message="m")


def test_filter_disabled_levels_and_patterns() -> None:
    findings = [_finding("cache/bad-duration"), _finding("cache/context-needs-cache-id"),
                _finding("spec/unknown-node-type", severity=Severity.WARNING),
                _finding("query/unsafe-name", path="queries/b.yaml")]
    kept = filter_disabled(findings, project_disabled=frozenset({"cache/*"}),
                           doc_disabled={"queries/b.yaml": frozenset({"query/unsafe-name"})})
    assert [f.rule for f in kept] == ["spec/unknown-node-type"]
    assert filter_disabled(findings, doc_disabled={"queries/a.yaml": frozenset({"all"})}) == findings[3:]
    assert filter_disabled(findings) == findings


def test_yaml_and_template_errors_cannot_be_disabled() -> None:
    findings = [_finding("yaml/tag"), _finding("template/security"),
                _finding("yaml/ambiguous-boolean", severity=Severity.WARNING)]
    kept = filter_disabled(findings, project_disabled=frozenset({"all"}))
    assert [f.rule for f in kept] == ["yaml/tag", "template/security"]


def test_check_units_honours_both_disable_levels() -> None:
    text = BASE.replace("node_type: OktaUser", "node_type: OktaUsr") + "cache: {mode: context}\n"
    ctx = RuleContext(known_node_types=CTX.known_node_types, disabled=frozenset({"spec/unknown-node-type"}))
    unit = make_unit(text, disabled=frozenset({"cache/context-needs-cache-id"}))
    assert check_units([unit], ctx) == []
    assert {f.rule for f in check_units([make_unit(text)], ctx)} == {"cache/context-needs-cache-id"}


def test_matrix_combinations_report_a_shared_problem_once() -> None:
    text = "matrix: {env: [a, b, c]}\n" + BASE.replace("okta-users", "'q-{{ env }}'") + "cache: {mode: context}\n"
    units = [make_unit(text, matrix={"env": env}, body_overrides={"name": f"q-{env}"}) for env in "abc"]
    assert got(check_units(units, CTX)) == [(6, 15, "cache/context-needs-cache-id")]


def test_registry_knows_every_stage_and_falls_back() -> None:
    ids = {info.id for info in registered_rules()}
    assert {"yaml/duplicate-key", "template/undefined", "query/unknown-key", "spec/deprecated",
            "project/enum", "cache/bad-duration", "spec/unknown-node-type", "expect/empty"} <= ids
    assert describe("spec/deprecated").default_severity is Severity.WARNING
    assert describe("yaml/brand-new").short_description.startswith("The file is not safe")
    assert describe("zzz/x").help
    register_rule("template/brand-new", "A new template rule.", Severity.WARNING)
    assert describe("template/brand-new").default_severity is Severity.WARNING
    assert describe("template/brand-new").help == "A new template rule."


def test_rule_patterns() -> None:
    assert rule_matches("cache/bad-duration", frozenset({"cache/*"}))
    assert not rule_matches("spec/x", frozenset({"cache/*"}))
    assert rule_matches("cache/bad-duration", frozenset({"cache/"}))
    assert not rule_matches("cachet/x", frozenset({"cache/"}))
    assert rule_matches("spec/x", frozenset({"all"}))
    assert unknown_rule_patterns(["cache/*", "cahce/bad-duration", "all", "spec/unknown-node-type"]) == [
        "cahce/bad-duration"]


def test_disable_entries_that_match_no_rule_are_warnings_with_a_did_you_mean() -> None:
    entries = [("cahce/bad-duration", Position(line=4, column=7)), ("cache/*", Position(line=5, column=7)),
               ("spec/", Position(line=6, column=7)), ("all", Position(line=7, column=7)),
               ("cahce/*", Position(line=8, column=7)), ("zzzz", Position(line=9, column=7))]
    found = unknown_disables(entries, path="vqr.yaml", rule=PROJECT_UNKNOWN_RULE)
    assert [(f.path, f.line, f.column, f.rule, f.severity) for f in found] == [
        ("vqr.yaml", line, 7, "project/unknown-rule", Severity.WARNING) for line in (4, 8, 9)]
    assert found[0].message == ("'cahce/bad-duration' matches no rule id, so it disables nothing; did you mean "
                                "'cache/bad-duration'?")
    assert found[1].message.endswith("did you mean 'cache/*'?")
    assert found[2].message == "'zzzz' matches no rule id, so it disables nothing"
    assert unknown_disables(entries[1:4], path="queries/a.yaml", rule=QUERY_UNKNOWN_RULE) == []


def test_the_unknown_rule_warnings_are_registered_for_sarif() -> None:
    ids = {info.id: info for info in registered_rules()}
    for rule in (PROJECT_UNKNOWN_RULE, QUERY_UNKNOWN_RULE):
        assert ids[rule].default_severity is Severity.WARNING and "disables nothing" in ids[rule].help
    assert "yaml/unreadable" in ids  # the loader's own id: disabling it is not a typo
