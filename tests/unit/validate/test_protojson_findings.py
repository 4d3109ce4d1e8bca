"""Schema findings on Veza's own JSON: protojson nulls are unset (no finding, no deprecation warning), saved-query
keys inside the spec get `spec/saved-query-key` naming where their value belongs, unknown keys stay errors."""

from __future__ import annotations

import pytest

from runner.model import Severity
from runner.validate import SchemaSet, load_schema_set
from runner.validate.saved_query import SAVED_QUERY_KEYS
from tests.unit.validate.test_schemas import HEAD, SCHEMAS, query_findings, spec_findings, triples


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return load_schema_set(SCHEMAS)


NULLS = HEAD + """\
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser, condition_expression: null, conditions: null, tags: [],
                               excluded_tags: null, count_conditions: [], node_id: ""}], nodes_operator: AND}
  relates_to_exp: {specs: [], child_expressions: null, operator: AND, not: false, and_op_type: INFERRED}
  destination_node_types: null
  required_intermediate_node_types: null
  avoided_intermediate_node_types: null
  raw_permissions: null
  effective_permissions: null
  no_relation: false
  access_filter: null
  customized_variables: []
  variables: []
"""


def test_nulls_and_unset_deprecated_fields_give_no_finding_before_or_after_rendering(schemas: SchemaSet) -> None:
    assert query_findings(schemas, NULLS) == []
    assert spec_findings(schemas, NULLS) == []


def test_a_set_deprecated_field_still_warns(schemas: SchemaSet) -> None:
    text = NULLS.replace("no_relation: false", "no_relation: true")
    assert [(f.rule, f.severity, f.message) for f in spec_findings(schemas, text)] == [
        ("spec/deprecated", Severity.WARNING, "'no_relation' is deprecated; use 'relates_to_exp.specs[].no_relation'")]


def test_a_null_unknown_key_and_a_mapping_for_a_string_are_errors(schemas: SchemaSet) -> None:
    text = HEAD + "spec:\n  relates_to_exp: null\n  bogus: null\n  page_token: {a: 1}\n  variables: x\n"
    found = query_findings(schemas, text)
    assert [(f.line, f.column, f.rule) for f in found] == [
        (5, 3, "query/unknown-key"), (6, 15, "query/type"), (7, 14, "query/type")]
    assert [f.message for f in found][1:] == ["expected a string, got a mapping", "expected a list, got the string 'x'"]


def test_saved_query_keys_name_where_their_value_belongs(schemas: SchemaSet) -> None:
    text = HEAD + ("spec:\n  name: Users\n  description: d\n  labels: [x]\n  created_at: '2024-01-01'\n"
                   "  variables: []\n  source_node_types: {nodes: [{node_type: OktaUser, integration_types: []}]}\n")
    found = query_findings(schemas, text)
    assert triples(found) == [(4, 3, "spec/saved-query-key"), (5, 3, "spec/saved-query-key"),
                              (6, 3, "spec/saved-query-key"), (7, 3, "spec/saved-query-key")]
    messages = [f.message for f in found]
    assert "the query file's own `name:`" in messages[0]
    assert messages[1].endswith("move its value to the query file's `description:`")
    assert messages[2].endswith("move its value to the query file's `tags:`")
    assert messages[3].startswith("'created_at' is a saved-query field") and messages[3].endswith("remove it")
    # The same after rendering, from the spec schema.
    assert triples(spec_findings(schemas, text)) == triples(found)


@pytest.mark.parametrize("key", sorted(SAVED_QUERY_KEYS))
def test_every_saved_query_key_is_targeted_at_the_top_of_the_spec_only(schemas: SchemaSet, key: str) -> None:
    top = query_findings(schemas, HEAD + f"spec:\n  {key}: x\n")
    assert [(f.rule, f.severity) for f in top] == [("spec/saved-query-key", Severity.ERROR)]
    assert f"'{key}'" in top[0].message
    nested = query_findings(schemas, HEAD + f"spec:\n  relates_to_exp: {{{key}: x}}\n")
    assert [f.rule for f in nested] == ["query/unknown-key"]


def test_a_typo_of_a_spec_field_is_still_the_generic_unknown_key(schemas: SchemaSet) -> None:
    found = query_findings(schemas, HEAD + "spec:\n  relates_to_expr: {}\n")
    assert [(f.rule, f.message) for f in found] == [
        ("query/unknown-key", "unknown key 'relates_to_expr'; did you mean 'relates_to_exp'?")]
