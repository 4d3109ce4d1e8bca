"""runner.protojson: what counts as unset, each enum's zero value, and the normal form the spec hash is taken on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.model import JSONObject
from runner.plan.select import spec_hash
from runner.protojson import EFFECTIVE_PERMISSION_NAMES, ENUM_NAMES, enum_name, is_unset, normalise, zero_value

MODERN: JSONObject = {
    "query_type": "SOURCE_TO_DESTINATION",
    "source_node_types": {"nodes": [{"node_type": "OktaUser", "condition_expression": {
        "specs": [{"property": "status", "value": "ACTIVE"}]}}]},  # no fn: its zero value, EQ
}
# The same query as Veza's UI writes it: every field present, unset ones null, "", [], false or their zero name.
EMIT_UNPOPULATED: JSONObject = {
    "query_type": "SOURCE_TO_DESTINATION",
    "source_node_types": {"nodes": [{
        "node_type": "OktaUser", "node_id": "", "direct_relationship_only": False, "properties_to_get": [],
        "tags_to_get": [], "count_condition_expression": None, "node_type_grouping_constraint": None,
        "condition_expression": {"specs": [{"fn": "EQ", "property": "status", "value": "ACTIVE", "not": False,
                                            "value_property_name": "", "source_property": ""}],
                                 "tag_specs": [], "child_expressions": [], "operator": "AND", "not": False}}],
        "nodes_operator": "AND"},
    "relates_to_exp": None, "access_filter": None, "all_entity_condition": None, "snapshot_id": "0",
    "include_nodes": False, "variables": [], "customized_variables": [], "path_summary_node_types": None,
}


def test_a_ui_export_normalises_to_the_modern_form_and_shares_its_hash() -> None:
    assert normalise(EMIT_UNPOPULATED) == MODERN
    assert spec_hash(EMIT_UNPOPULATED) == spec_hash(MODERN)


def test_a_zero_enum_spelled_out_is_the_same_query() -> None:
    spelled: JSONObject = {**MODERN, "source_node_types": {"nodes_operator": 0, "nodes": [{"node_type": "OktaUser",
               "condition_expression": {"operator": "AND", "specs": [{"fn": "EQ", "property": "status",
                                                                       "value": "ACTIVE"}]}}]}}
    assert normalise(spelled) == MODERN


def test_a_real_difference_still_changes_the_hash() -> None:
    other: JSONObject = {**MODERN, "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
    assert spec_hash(other) != spec_hash(MODERN)
    assert spec_hash({**MODERN, "include_nodes": True}) != spec_hash(MODERN)


@pytest.mark.parametrize("value", ["", False, 0, None, [], {}, "STAGED"])
def test_a_condition_value_is_user_data_and_kept_byte_for_byte(value: Any) -> None:
    condition = {"fn": "EQ", "property": "status", "value": value}
    kept = normalise(condition)
    assert isinstance(kept, dict)
    if value is None:
        assert "value" not in kept  # null is how protojson writes an unset Value
    else:
        assert kept["value"] == value and type(kept["value"]) is type(value)


@pytest.mark.parametrize(("field", "raw", "unset"), [
    ("operator", "AND", True), ("operator", 0, True), ("operator", "0", True), ("operator", "OR", False),
    ("operator", 1, False), ("nodes_operator", "and", True), ("fn", "EQ", True), ("fn", "IN", False),
    ("query_type", "SYSTEM_CREATED", True), ("query_type", "SOURCE_TO_DESTINATION", False),
    ("snapshot_id", "0", True), ("snapshot_id", 0, True), ("snapshot_id", "12", False),
    ("not", False, True), ("not", True, False), ("node_type", "", True), ("and_op_type", "INFERRED", False),
])
def test_is_unset(field: str, raw: Any, unset: bool) -> None:
    assert is_unset(field, raw) is unset


@pytest.mark.parametrize(("field", "zero"), [
    ("query_type", "SYSTEM_CREATED"), ("operator", "AND"), ("nodes_operator", "AND"), ("fn", "EQ")])
def test_the_documented_zero_values(field: str, zero: str) -> None:
    assert zero_value(field) == zero
    assert enum_name(field, 0) == zero and enum_name(field, "0") == zero


def test_numbers_past_zero_map_to_names_and_out_of_range_is_left() -> None:
    assert EFFECTIVE_PERMISSION_NAMES[0] == "METADATA_WRITE"  # the docs sample's first value
    assert enum_name("fn", 6) == "IN" and enum_name("query_type", 1) == "SOURCE_TO_DESTINATION"
    for field, names in ENUM_NAMES.items():
        assert enum_name(field, len(names)) == len(names)  # out of range: left for the schema to report
    assert zero_value("and_op_type") is None
    assert enum_name("operator", True) is True  # a bool is never a number here


TAG: JSONObject = {"key": "env", "value": "prod"}


def test_a_tag_spec_fn_is_not_the_condition_fn() -> None:
    # Its enum values are undocumented: a number stays a number, a name is kept, a zero is not dropped.
    specs: Any = [{"tag": TAG, "fn": 3}, {"tag": TAG, "fn": "EQ"}, {"tag": TAG, "fn": 0}]
    assert normalise({"condition_expression": {"tag_specs": specs}}) == {"condition_expression": {"tag_specs": specs}}
    assert spec_hash({"tag_specs": [{"tag": TAG, "fn": 0}]}) != spec_hash({"tag_specs": [{"tag": TAG}]})
    # ...while a condition's fn, beside it, still is ConditionFn.
    assert normalise({"specs": [{"fn": 3, "property": "p", "value": 1}, {"fn": "EQ", "property": "p", "value": 1}],
                      "tag_specs": [{"tag": TAG}]}) == {
        "specs": [{"fn": "LTE", "property": "p", "value": 1}, {"property": "p", "value": 1}],
        "tag_specs": [{"tag": TAG}]}
    assert normalise({"count_condition_expression": {"specs": [{"fn": 4, "value": 2}]}}) == {
        "count_condition_expression": {"specs": [{"fn": "GT", "value": 2}]}}


def test_effective_permissions_by_number_are_named() -> None:
    by_number: JSONObject = {"relates_to_exp": {"specs": [{"effective_permissions": {"values": [1, 0, "2"]}}]}}
    by_name: JSONObject = {"relates_to_exp": {"specs": [{"effective_permissions": {
        "values": ["DATA_READ", "METADATA_WRITE", "DATA_WRITE"]}}]}}
    assert normalise(by_number) == by_name
    assert spec_hash(by_number) == spec_hash(by_name)
    assert normalise({"values": [1]}) == {"values": [1]}  # a `values` list elsewhere is not a permission list


ASSUMED_ZEROS: JSONObject = {"query_type": "SOURCE_TO_DESTINATION", "result_value_type": "SOURCE_NODES",
                             "relates_to_exp": {"specs": [{"node_relationship_type": 0, "direction": "ANY_DIRECTION"}],
                                                "operator": "AND"}}


def test_assumed_zeros_are_kept_on_request_documented_ones_always_dropped() -> None:
    assert normalise(ASSUMED_ZEROS, drop_assumed_zeros=False) == {
        "query_type": "SOURCE_TO_DESTINATION", "result_value_type": "SOURCE_NODES",
        "relates_to_exp": {"specs": [{"node_relationship_type": "EFFECTIVE_ACCESS", "direction": "ANY_DIRECTION"}]}}
    assert normalise(ASSUMED_ZEROS) == {"query_type": "SOURCE_TO_DESTINATION", "relates_to_exp": {"specs": [{}]}}
    # The hash drops every zero: absent and zero are the same query under our table.
    assert spec_hash(ASSUMED_ZEROS) == spec_hash(normalise(ASSUMED_ZEROS))


def test_list_items_are_kept_so_paths_stay_valid() -> None:
    assert normalise({"nodes": [None, {}, {"node_type": "OktaUser", "node_id": ""}]}) == {
        "nodes": [None, {}, {"node_type": "OktaUser"}]}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "0", "AND", "OR", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["operator", "fn", "value", "not", "nodes", "snapshot_id", "properties", "name",
                         "tag_specs", "effective_permissions", "values", "direction"]), inner,
        max_size=4),
    max_leaves=20)


@given(_JSON, st.booleans())
def test_normalise_is_idempotent(value: Any, drop: bool) -> None:
    once = normalise(value, drop_assumed_zeros=drop)
    assert normalise(once, drop_assumed_zeros=drop) == once


def test_a_superscript_digit_is_not_an_enum_number() -> None:
    # str.isdigit() accepts '²', which int() refuses: the value is left for the schema to report, never a crash.
    assert normalise({"operator": "²"}) == {"operator": "²"}
