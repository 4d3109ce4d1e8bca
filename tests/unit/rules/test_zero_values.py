"""Meaning rules on Veza's protojson: an absent enum is its zero value, a number is its name, null/""/[] are unset.

Each case lints spellings that mean the same (absent, the zero name, its number) and asserts identical findings."""

from __future__ import annotations

import pytest

from runner.model import Severity
from runner.protojson import ENUM_NAMES
from tests.unit.rules.test_rules import got, lint

NODE = "{nodes: [{node_type: OktaUser}]}"


def _spec(*lines: str) -> str:
    return "name: q\nspec:\n" + "".join(f"  {line}\n" for line in lines)


@pytest.mark.parametrize("query_type", ["", "query_type: SYSTEM_CREATED", "query_type: 0", 'query_type: "0"'])
def test_absent_query_type_is_system_created_and_warns(query_type: str) -> None:
    findings = lint(_spec(*([query_type] if query_type else []), f"source_node_types: {NODE}"))
    assert [(f.rule, f.severity) for f in findings] == [("spec/system-created", Severity.WARNING)]
    assert "SOURCE_TO_DESTINATION" in findings[0].message
    expected = (3, 15) if query_type else (2, 1)  # at the value when written, else at `spec:`
    assert (findings[0].line, findings[0].column) == expected


@pytest.mark.parametrize("query_type", ["SOURCE_TO_DESTINATION", "1", '"1"'])
def test_source_to_destination_by_name_or_number_needs_source_nodes(query_type: str) -> None:
    assert got(lint(_spec(f"query_type: {query_type}"))) == [(3, 15, "spec/query-type")]
    assert got(lint(_spec(f"query_type: {query_type}", "source_node_types: null"))) == [(4, 22, "spec/query-type")]
    assert got(lint(_spec(f"query_type: {query_type}", "source_node_types: {nodes: []}"))) == [
        (4, 22, "spec/query-type")]
    assert lint(_spec(f"query_type: {query_type}", f"source_node_types: {NODE}")) == []


@pytest.mark.parametrize("fn", ["IN", "6", "NOT_IN", "10"])
def test_a_list_fn_by_name_or_number_needs_a_list(fn: str) -> None:
    condition = f"{{fn: {fn}, property: status, value: ACTIVE}}"
    text = _spec("query_type: SOURCE_TO_DESTINATION",
                 f"source_node_types: {{nodes: [{{node_type: OktaUser, "
                 f"condition_expression: {{specs: [{condition}]}}}}]}}")
    assert [f.rule for f in lint(text)] == ["spec/condition-value"]


@pytest.mark.parametrize("fn", ["", "fn: EQ, ", "fn: 0, "])
def test_absent_fn_is_eq_and_gives_no_finding(fn: str) -> None:
    condition = f"{{{fn}property: status, value: ACTIVE}}"
    text = _spec("query_type: SOURCE_TO_DESTINATION",
                 f"source_node_types: {{nodes: [{{node_type: OktaUser, "
                 f"condition_expression: {{specs: [{condition}]}}}}]}}")
    assert lint(text) == []


@pytest.mark.parametrize("operator", ["", "AND", "0"])
def test_operators_absent_or_zero_are_the_same_query(operator: str) -> None:
    nodes_operator = f", nodes_operator: {operator}" if operator else ""
    op = f"operator: {operator}, " if operator else ""
    text = _spec("query_type: SOURCE_TO_DESTINATION",
                 f"source_node_types: {{nodes: [{{node_type: OktaUser}}]{nodes_operator}}}",
                 f"relates_to_exp: {{{op}specs: [{{node_types: {{nodes: [{{node_type: S3Bucket}}]}}}}]}}")
    assert lint(text) == []


def test_an_empty_property_is_no_property() -> None:
    # "" is protojson's unset string, so the sandbox refuses `property: ''` as a missing property: lint says so too.
    text = _spec("query_type: SOURCE_TO_DESTINATION",
                 "source_node_types: {nodes: [{node_type: OktaUser, conditions: [{fn: EQ, property: '', value: x}]}]}")
    assert [(f.rule, f.message) for f in lint(text)] == [("spec/rejected", "a condition needs a property")]


def test_the_zero_values_the_rules_use_are_the_one_table() -> None:
    # The rules take zero values from runner.protojson only: query_type's is SYSTEM_CREATED, fn's EQ.
    assert ENUM_NAMES["query_type"][0] == "SYSTEM_CREATED" and ENUM_NAMES["fn"][0] == "EQ"


def test_nulls_empty_strings_and_lists_never_make_a_rule_fire() -> None:
    text = _spec("query_type: SOURCE_TO_DESTINATION",
                 "source_node_types: {nodes: [{node_type: OktaUser, node_id: '', condition_expression: null,"
                 " properties_to_get: [], conditions: [{fn: EQ, property: is_active, value: null, not: false}]}]}",
                 "relates_to_exp: {specs: [{node_types: {nodes: [{node_type: S3Bucket}]}, effective_permissions: null,"
                 " raw_permissions: null}]}",
                 "snapshot_id: '0'", "variables: []", "customized_variables: []", "access_filter: null")
    assert lint(text) == []
