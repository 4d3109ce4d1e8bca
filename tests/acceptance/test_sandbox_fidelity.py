"""Veza's own JSON on the real sandbox over HTTP: protojson input (nulls, zero values), `""` in replies, path rows
with risk levels, error details a user can act on, the configurable failure word, and a proxy's HTML 502/504."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from runner.errors import UsageError
from runner.sandbox.config import SandboxConfig
from tests.acceptance.sandbox_fixtures import (
    CREATE,
    GET,
    NODES,
    RESULT,
    client_for,
    create,
    running_sandbox,
    spec,
    wait_done,
)

USER_FACING = "type.googleapis.com/errorstatus.v1.UserFacingErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def with_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """`body` as Veza's UI exports it: every unset field written, as null, "", [], false or its zero name."""
    node = {**body["source_node_types"]["nodes"][0], "node_id": "", "condition_expression": None,
            "count_condition_expression": None, "direct_relationship_only": False, "properties_to_get": [],
            "tags_to_get": [], "node_type_grouping_constraint": None}
    return {**body, "source_node_types": {"nodes": [node], "nodes_operator": "AND"}, "relates_to_exp": None,
            "access_filter": None, "snapshot_id": "0", "include_nodes": False, "all_entity_condition": None,
            "no_relation": False, "destination_node_types": None, "raw_permissions": None, "variables": [],
            "node_relationship_type": "EFFECTIVE_ACCESS"}


def user_facing(body: dict[str, Any]) -> dict[str, Any]:
    found = [detail for detail in body["details"] if detail["@type"] == USER_FACING]
    assert len(found) == 1, body
    info: dict[str, Any] = found[0]
    assert set(info) == {"@type", "reason", "metadata", "message", "resolution"}
    assert info["message"] == body["message"] and info["resolution"].endswith(".")
    return info


def test_a_spec_full_of_nulls_is_the_same_query_and_the_same_cached_result(sandbox_client: httpx.Client) -> None:
    clean = spec("OktaUser")
    nulls = with_nulls(clean)
    pages = [sandbox_client.post(NODES, json=body, params={"page_size": 500}).json() for body in (clean, nulls)]
    assert [r["id"] for r in pages[0]["values"]] == [r["id"] for r in pages[1]["values"]] != []
    first = create(sandbox_client, {"immediate_run": {"request": {"body": clean}}})
    wait_done(sandbox_client, first["query_result_id"])
    again = create(sandbox_client, {"cached_result_if_available": {"request": {"body": nulls}, "max_staleness": None},
                                    "immediate_run": None, "cached_result_context": None})
    assert again["cache_id"] == first["cache_id"] and again["last_completed_cache_id"] == first["cache_id"]


def test_unset_strings_in_replies_are_empty_strings(sandbox_client: httpx.Client) -> None:
    job = create(sandbox_client, {"immediate_run": {"request": {"body": spec("AwsAccount")}}})
    assert job["last_completed_cache_id"] == ""
    done = wait_done(sandbox_client, job["query_result_id"], page_size=100)
    assert done["has_more"] is False and done["next_page_token"] == "" and done["error"] is None
    page = sandbox_client.post(NODES, json=spec("AwsAccount")).json()
    assert page["next_page_token"] == "" and page["values"]
    assert all(isinstance(row["risk_level"], str) and row["risk_level"] for row in page["values"])


def test_an_absent_result_value_type_is_source_nodes(sandbox_client: httpx.Client) -> None:
    relates = {"relates_to_exp": {"specs": [{"node_types": {"nodes": [{"node_type": "S3Bucket"}]}}]}}
    body = {**spec("OktaUser", **relates)}
    del body["result_value_type"]
    counts = sandbox_client.post(NODES, json={**body, "result_value_type": "SOURCE_NODES_WITH_COUNTS"},
                                 params={"page_size": 500}).json()["values"]
    for zero in (body, {**body, "result_value_type": 0}, {**body, "result_value_type": "SOURCE_NODES"}):
        rows = sandbox_client.post(NODES, json=zero, params={"page_size": 500}).json()["values"]
        assert [r["id"] for r in rows] == [r["id"] for r in counts]
        assert {r["destination_node_count"] for r in rows} == {0}
    assert min(r["destination_node_count"] for r in counts) > 0


def test_path_rows_carry_risk_levels(sandbox_client: httpx.Client) -> None:
    body = spec("OktaUser", result_value_type="SOURCE_AND_DESTINATION_NODES",
                relates_to_exp={"specs": [{"node_types": {"nodes": [{"node_type": "S3Bucket"}]}}]})
    page = sandbox_client.post(NODES, json=body, params={"page_size": 50}).json()
    assert page["values"] == [] and len(page["path_values"]) == 50
    levels = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"}
    for row in page["path_values"]:
        assert row["source"]["risk_level"] in levels and row["destination"]["risk_level"] in levels
    assert len({row["source"]["risk_level"] for row in page["path_values"]}) > 1


@pytest.mark.parametrize(("path", "body", "status", "reason", "field"), [
    (NODES, spec("OktaUser", snapshot_id="42"), 404, "NOT_FOUND", "snapshot_id"),
    (NODES, spec("OktaUser", query_type="SIDEWAYS"), 400, "INVALID_ARGUMENTS", "query_type"),
    (CREATE, {"cached_result_context": {"cache_id": "cache-gone"}}, 404, "NOT_FOUND",
     "cached_result_context.cache_id"),
    (GET, {"query_result_id": "qr-unknown"}, 404, "NOT_FOUND", "query_result_id"),
    (RESULT, spec("OktaUser", source_node_types={"nodes": []}), 400, "INVALID_ARGUMENTS", None),
])
def test_errors_carry_field_violations_and_a_user_facing_resolution(
        sandbox_client: httpx.Client, path: str, body: dict[str, Any], status: int, reason: str,
        field: str | None) -> None:
    reply = sandbox_client.post(path, json=body)
    assert reply.status_code == status, reply.text
    error = reply.json()
    info = user_facing(error)
    assert info["reason"] == reason and info["metadata"]["code"] == error["code"]
    if field is not None:
        bad = [d for d in error["details"] if d["@type"] == BAD_REQUEST]
        assert bad[0]["field_violations"][0]["field"] == field
        assert info["metadata"]["field"] == field
        assert error["details"].index(bad[0]) < error["details"].index(next(
            d for d in error["details"] if d["@type"] == USER_FACING))


def test_resolutions_say_what_to_do(sandbox_client: httpx.Client) -> None:
    gone = sandbox_client.post(CREATE, json={"cached_result_context": {"cache_id": "cache-gone"}}).json()
    assert "cached_result_if_available or immediate_run" in user_facing(gone)["resolution"]
    snapshot = sandbox_client.post(RESULT, json=spec("OktaUser", snapshot_id="9")).json()
    assert 'snapshot_id "0"' in user_facing(snapshot)["resolution"]
    token = sandbox_client.post(NODES, json=spec(), params={"page_token": "forged"}).json()
    assert "next_page_token" in user_facing(token)["resolution"]
    unauthenticated = httpx.post(str(sandbox_client.base_url) + RESULT, json=spec())
    info = user_facing(unauthenticated.json())
    assert unauthenticated.status_code == 401 and info["reason"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in info["resolution"]


@pytest.mark.parametrize("word", ["FAILURE", "ERROR", "CANCELED", "EXPLODED"])
def test_the_failure_status_word_is_configurable(word: str) -> None:
    with running_sandbox(latency=0.02, fail_rate_job=1.0, failed_status=word) as failing, \
            client_for(failing) as client:
        job = create(client, {"immediate_run": {"request": {"body": spec()}}})
        final = wait_done(client, job["query_result_id"])
        assert final["status"] == word and final["values"] == [] and final["error"]["message"]


def test_a_proxy_answers_502_and_504_with_an_html_page() -> None:
    with running_sandbox(latency=0.02, fail_rate_5xx=1.0, html_gateway_errors=True) as sandbox, \
            client_for(sandbox) as client:
        seen: dict[int, str] = {}
        for _ in range(40):
            reply = client.post(RESULT, json=spec())
            seen[reply.status_code] = reply.headers["content-type"]
            if reply.status_code in (502, 504):
                assert reply.text.startswith("<html>") and str(reply.status_code) in reply.text
            else:
                assert reply.json()["code"] in ("Internal", "Unavailable")
        assert seen[502] == seen[504] == "text/html"
        assert seen[500] == seen[503] == "application/json"


def test_warnings_reach_every_reply_of_a_legacy_spec(sandbox_client: httpx.Client) -> None:
    legacy = spec("S3Bucket", destination_node_types={"nodes": [{"node_type": "OktaUser"}]})
    legacy["source_node_types"]["nodes"][0]["tags"] = [{"key": "env", "value": "dev"}]
    expected = ["source_node_types.nodes[0].tags is a legacy field: use condition_expression.tag_specs",
                "destination_node_types is deprecated: use relates_to_exp.specs[].node_types"]
    assert sandbox_client.post(RESULT, json=legacy).json()["warnings"] == expected
    assert sandbox_client.post(NODES, json=legacy).json()["warnings"] == expected
    job = create(sandbox_client, {"immediate_run": {"request": {"body": legacy}}})
    assert job["warnings"] == expected
    assert wait_done(sandbox_client, job["query_result_id"])["warnings"] == expected
    assert "warnings" not in create(sandbox_client, {"immediate_run": {"request": {"body": spec()}}})


@pytest.mark.parametrize("word", ["", "DONE", "RUNNING", "NOT A WORD"])
def test_the_failure_word_must_be_one_word_no_other_status_uses(word: str) -> None:
    with pytest.raises(UsageError, match="--failed-status"):
        SandboxConfig(failed_status=word)
