"""runner.impact.specdiff: semantic differences of create bodies as JSON paths, grouped by environment."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from runner.impact.specdiff import SHORT_LIST, diff_json, key_path, spec_diff
from runner.model.impact import MISSING, Change, EnvDiff, PathChange
from runner.model.values import JSONObject, JSONValue
from runner.plan import normal_body
from tests.unit.impact.builders import body, query_change, spec

SPEC = "$.immediate_run.request.body"


def test_spellings_of_unset_give_no_difference() -> None:
    plain = spec()
    spelled: JSONObject = {
        **spec(), "relates_to_exp": None, "snapshot_id": "0", "access_filter": {}, "node_type_ids": [],
        "include_all_source_tags_in_results": False, "source_node_types": {
            "nodes": [{"node_type": "OktaUser", "node_id": "", "condition_expression": None}], "nodes_operator": "AND"}}
    change = query_change("q", Change.MODIFIED, base={"prod": plain}, head={"prod": spelled})
    assert spec_diff(change, ["prod"]).envs == ()
    # The structural diff alone does see them: normal_body is what makes them equal.
    assert diff_json(body(plain), body(spelled)) != []


def test_normal_body_keeps_the_envelope_and_opaque_values() -> None:
    context: JSONObject = {"cached_result_context": {"cache_id": "", "extra": None}}
    assert normal_body(context) == context  # no spec inside: kept as rendered
    cached: JSONObject = {"cached_result_if_available": {"request": {"body": {"x": None}}, "max_staleness": "60s"}}
    assert normal_body(cached) == {"cached_result_if_available": {"request": {"body": {}}, "max_staleness": "60s"}}
    # A condition's `value` is user data: "" is not absence.
    old = normal_body(body({"specs": [{"property": "p", "value": ""}]}))
    new = normal_body(body({"specs": [{"property": "p"}]}))
    assert diff_json(old, new) == [PathChange(path=f"{SPEC}.specs[0].value", old="", new=MISSING)]


def test_a_reordered_scalar_list_is_one_change_at_the_list_whatever_its_length() -> None:
    for size in (3, SHORT_LIST * 3):
        items: list[JSONValue] = [f"T{i}" for i in range(size)]
        moved = items[1:] + items[:1]
        assert diff_json({"types": items}, {"types": moved}) == [PathChange(path="$.types", old=items, new=moved)]


def test_a_short_scalar_list_is_shown_whole_a_long_one_per_index() -> None:
    short_old: list[JSONValue] = ["a", "b"]
    short_new: list[JSONValue] = ["a", "c", "d"]
    assert diff_json(short_old, short_new) == [PathChange(path="$", old=short_old, new=short_new)]
    long_old: list[JSONValue] = list(range(SHORT_LIST + 4))
    long_new: list[JSONValue] = [*long_old[:3], 99, *long_old[4:], 100, 101]
    expected = [PathChange(path=f"$[{i}]", old=long_old[i] if i < len(long_old) else MISSING, new=long_new[i])
                for i in range(len(long_new)) if i >= len(long_old) or long_old[i] != long_new[i]]
    assert diff_json(long_old, long_new) == expected
    assert [c.path for c in expected] == ["$[3]", f"$[{len(long_old)}]", f"$[{len(long_old) + 1}]"]


def test_lists_of_objects_are_compared_item_by_item_and_an_appended_item_is_added_whole() -> None:
    old: JSONObject = {"nodes": [{"node_type": "OktaUser"}]}
    new: JSONObject = {"nodes": [{"node_type": "AwsIamUser"}, {"node_type": "OktaGroup", "node_id": "g"}]}
    assert diff_json(old, new) == [
        PathChange(path="$.nodes[0].node_type", old="OktaUser", new="AwsIamUser"),
        PathChange(path="$.nodes[1]", old=MISSING, new={"node_type": "OktaGroup", "node_id": "g"}),
    ]
    assert diff_json(new, old)[1] == PathChange(path="$.nodes[1]", old={"node_type": "OktaGroup", "node_id": "g"},
                                                new=MISSING)


def test_nested_objects_added_and_removed_are_reported_leaf_by_leaf_in_sorted_order() -> None:
    old: JSONObject = {"b": {"gone": {"x": 1, "y": [1, 2]}}, "a": 1}
    new: JSONObject = {"a": 1, "b": {"new": {"z": None}}}
    assert diff_json(old, new) == [
        PathChange(path="$.b.gone.x", old=1, new=MISSING),
        PathChange(path="$.b.gone.y", old=[1, 2], new=MISSING),
        PathChange(path="$.b.new.z", old=MISSING, new=None),
    ]
    # Key order in the input does not matter.
    assert diff_json(dict(reversed(list(old.items()))), new) == diff_json(old, new)


def test_keys_that_are_not_identifiers_are_bracket_quoted() -> None:
    old: JSONObject = {}
    new: JSONObject = {"weird key": 1, "it's": 2, "a.b": 3, "ok_1": 4, "1a": 5, "back\\slash": 6}
    paths = [c.path for c in diff_json(old, new)]
    assert sorted(paths) == sorted(["$['weird key']", "$['it\\'s']", "$['a.b']", "$.ok_1", "$['1a']",
                                    "$['back\\\\slash']"])
    assert key_path("$.a", "b") == "$.a.b"


def test_types_are_compared_as_json_does() -> None:
    assert diff_json({"a": True}, {"a": 1}) == [PathChange(path="$.a", old=True, new=1)]
    assert diff_json({"a": 1}, {"a": 1.0}) == []
    assert diff_json({"a": {"b": 1}}, {"a": [1]}) == [PathChange(path="$.a", old={"b": 1}, new=[1])]
    assert diff_json(MISSING, MISSING) == []


def test_environments_with_equal_diffs_are_grouped_in_the_order_given() -> None:
    base = {"prod": spec(), "stage": spec(), "dev": spec(), "qa": spec()}
    head = {"prod": spec("AwsIamUser"), "stage": spec("AwsIamUser"), "dev": spec("OktaGroup"), "qa": spec()}
    change = query_change("q", Change.MODIFIED, base=base, head=head)
    diff = spec_diff(change, ["dev", "prod", "qa", "stage"])
    where = f"{SPEC}.source_node_types.nodes[0].node_type"
    assert diff.envs == (
        EnvDiff(envs=("dev",), changes=(PathChange(path=where, old="OktaUser", new="OktaGroup"),)),
        EnvDiff(envs=("prod", "stage"), changes=(PathChange(path=where, old="OktaUser", new="AwsIamUser"),)),
    )
    assert (diff.name, diff.change, diff.file) == ("q", Change.MODIFIED, "queries/q.yaml")


def test_a_new_query_has_every_path_added_and_a_removed_one_every_path_removed() -> None:
    leaves: JSONObject = {f"{SPEC}.query_type": "SOURCE_TO_DESTINATION", f"{SPEC}.source_node_types.nodes": [
        {"node_type": "OktaUser"}]}
    new = spec_diff(query_change("n", Change.NEW, head={"prod": spec(), "dev": spec()}), ["prod", "dev"])
    assert new.base_file is None
    assert new.envs == (EnvDiff(envs=("prod", "dev"), changes=tuple(
        PathChange(path=p, old=MISSING, new=v) for p, v in leaves.items())),)
    gone = spec_diff(query_change("r", Change.REMOVED, base={"prod": spec()}), ["prod", "dev"])
    assert gone.file == gone.base_file == "queries/r.yaml"
    assert gone.envs == (EnvDiff(envs=("prod",), changes=tuple(
        PathChange(path=p, old=v, new=MISSING) for p, v in leaves.items())),)


def test_an_environment_on_one_side_only_of_a_modified_query() -> None:
    change = query_change("q", Change.MODIFIED, base={"prod": spec()}, head={"prod": spec(), "dev": spec()})
    diff = spec_diff(change, ["prod", "dev"])
    assert [group.envs for group in diff.envs] == [("dev",)]
    assert all(c.old is MISSING for c in diff.envs[0].changes)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "a", "b"]),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abc"), inner,
                                                                                max_size=3), max_leaves=12)


@given(JSON, JSON)
def test_there_is_a_difference_exactly_when_the_json_differs(old: JSONValue, new: JSONValue) -> None:
    changes = diff_json(old, new)
    same = json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)
    assert (changes == []) == same
    assert diff_json(old, new) == changes  # deterministic
    assert len({c.path for c in changes}) == len(changes)
