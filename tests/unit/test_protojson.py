"""runner.protojson: what counts as unset, each enum's zero value, and the normal form the spec hash is taken on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.model import JSONObject
from runner.plan.select import spec_hash
from runner.protojson import ENUM_NAMES, enum_name, is_unset, normalise, zero_value

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


def test_every_enum_has_its_zero_value_first_and_numbers_map_to_names() -> None:
    for field, names in ENUM_NAMES.items():
        assert zero_value(field) == names[0]
        assert enum_name(field, len(names) - 1) == names[-1]
        assert enum_name(field, len(names)) == len(names)  # out of range: left for the schema to report
    assert zero_value("and_op_type") is None
    assert enum_name("operator", True) is True  # a bool is never a number here


def test_list_items_are_kept_so_paths_stay_valid() -> None:
    assert normalise({"nodes": [None, {}, {"node_type": "OktaUser", "node_id": ""}]}) == {
        "nodes": [None, {}, {"node_type": "OktaUser"}]}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "0", "AND", "OR", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["operator", "fn", "value", "not", "nodes", "snapshot_id", "properties", "name"]), inner,
        max_size=4),
    max_leaves=20)


@given(_JSON)
def test_normalise_is_idempotent(value: Any) -> None:
    once = normalise(value)
    assert normalise(once) == once
