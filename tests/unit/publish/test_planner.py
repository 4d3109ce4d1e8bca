"""The pure publish planner: create, no-op, update, drift, clash, orphan/delete, and the hash label."""

from __future__ import annotations

from runner.model import JSONObject, Query
from runner.model.publish import PublishSettings
from runner.publish import Action, desired_bodies, make_plan, with_hash
from runner.publish.planner import tenant_hash
from runner.publish.state import recorded_hash
from tests.unit.publish.values import query

SETTINGS = PublishSettings(project="acme", default=False)


def q(name: str, **extra: object) -> Query:
    return query(name, **extra)


def listed(body: JSONObject, saved_id: str) -> JSONObject:
    return {**body, "id": saved_id, "created_at": "t0", "updated_at": "t0"}


def test_only_opted_in_queries_are_desired_with_sorted_tags_and_the_marker() -> None:
    desired = desired_bodies([q("a", publish=True, tags=("z", "b")), q("b"), q("c", publish=False)], SETTINGS)
    assert list(desired) == ["a"]
    assert desired["a"]["labels"] == ["b", "z", "vqr:acme/a"] and desired["a"]["description"] == ""
    assert list(desired_bodies([q("b"), q("c", publish=False)], PublishSettings(project="acme", default=True))) == ["b"]


def test_from_empty_everything_is_created_and_applied_state_is_a_noop() -> None:
    desired = desired_bodies([q("a", publish=True)], SETTINGS)
    plan = make_plan(desired, [], SETTINGS, env="e", prune=False)
    assert [(c.action, c.name) for c in plan.changes] == [(Action.CREATE, "a")]
    body = plan.changes[0].body
    assert body is not None and recorded_hash(body)
    again = make_plan(desired, [listed(body, "1")], SETTINGS, env="e", prune=False)
    assert [c.action for c in again.changes] == [Action.NOOP] and not again.pending


def test_a_repository_change_is_an_update_and_a_ui_edit_is_drift() -> None:
    old = with_hash(desired_bodies([q("a", publish=True)], SETTINGS)["a"])
    new = desired_bodies([q("a", publish=True, description="new")], SETTINGS)
    update = make_plan(new, [listed(old, "1")], SETTINGS, env="e", prune=False).changes[0]
    assert update.action is Action.UPDATE and update.saved_id == "1"
    assert update.diff == (("$.description", "", "new"),)
    edited = {**listed(old, "1"), "description": "clicked in the UI"}
    drift = make_plan(desired_bodies([q("a", publish=True)], SETTINGS), [edited], SETTINGS, env="e",
                      prune=False).changes[0]
    assert drift.action is Action.DRIFT and drift.diff == (("$.description", "clicked in the UI", ""),)


def test_an_unmanaged_namesake_is_a_clash_and_a_gone_file_deletes_only_with_prune() -> None:
    desired = desired_bodies([q("a", publish=True)], SETTINGS)
    gone = listed(with_hash(desired_bodies([q("gone", publish=True)], SETTINGS)["gone"]), "2")
    other: JSONObject = {"name": "a", "labels": [], "id": "3"}
    builtin: JSONObject = {"name": "x", "labels": ["vqr:acme/x"], "query_type": "SYSTEM_CREATED", "id": "4"}
    kept = make_plan(desired, [gone, other, builtin], SETTINGS, env="e", prune=False)
    assert [(c.action, c.name, c.saved_id) for c in kept.changes] == [(Action.CLASH, "a", "3"),
                                                                        (Action.ORPHAN, "gone", "2")]
    pruned = make_plan(desired, [gone, other], SETTINGS, env="e", prune=True)
    assert [c.action for c in pruned.pending] == [Action.DELETE]


def test_the_tenant_hash_ignores_order_and_sees_an_edit() -> None:
    a: JSONObject = {"id": "1", "name": "a"}
    b: JSONObject = {"id": "2", "name": "b"}
    assert tenant_hash([a, b]) == tenant_hash([b, a]) != tenant_hash([a, {**b, "updated_at": "t1"}])


def test_a_tenant_listing_every_field_with_protojson_zeros_and_numbered_enums_is_no_change() -> None:
    # Veza lists every field of a saved query, unset ones included, and a file may number an enum: neither is a
    # change, else every plan against a real tenant would show every query as drifted.
    desired = desired_bodies([q("a", publish=True)], SETTINGS)
    body = make_plan(desired, [], SETTINGS, env="e", prune=False).changes[0].body
    assert body is not None
    noisy = {**body, "description": None, "access_filter": None, "relates_to_exp": None, "risk_level": "",
             "variables": [], "include_nodes": False, "query_type": 1, "result_value_type": 0,
             "labels": list(reversed(body["labels"]))}  # type: ignore[arg-type]
    plan = make_plan(desired, [listed(noisy, "1")], SETTINGS, env="e", prune=False)
    assert [c.action for c in plan.changes] == [Action.NOOP]
    edited = {**noisy, "description": "changed in the UI"}
    [drift] = make_plan(desired, [listed(edited, "1")], SETTINGS, env="e", prune=False).changes
    assert drift.action is Action.DRIFT and [p for p, _, _ in drift.diff] == ["$.description"]
