"""Saved queries and reports in the real sandbox over HTTP (veza-api.md §9): bodies round-trip exactly, the name
filter and keyset paging, Veza's error bodies, deletion with and without force, and persistence across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.sandbox.store import reset_store
from tests.acceptance.sandbox_fixtures import client_for, running_sandbox, spec

QUERIES = "/api/v1/assessments/queries"
REPORTS = "/api/preview/assessments/reports"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def saved(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": f"about {name}", "labels": ["vqr:test"], **spec("OktaUser"), **extra}


def created(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    value: dict[str, Any] = answer.json()["value"]
    return value


def refusal(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Veza's error body, checked: code, message, request_id, timestamp and the user-facing detail."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == code and body["message"] and body["request_id"] and body["timestamp"]
    assert body["request_id"] == answer.headers["x-request-id"]
    assert body["details"][-1]["@type"] == "type.googleapis.com/errorstatus.v1.UserFacingErrorInfo"
    return body


def violations(body: dict[str, Any]) -> dict[str, str]:
    return {v["field"]: v["description"] for detail in body["details"] for v in detail.get("field_violations", [])}


def names(client: httpx.Client, path: str, **params: str) -> list[str]:
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return [value["name"] for value in answer.json()["values"]]


def test_a_saved_query_round_trips_exactly_and_put_replaces_the_whole_body(sandbox_client: httpx.Client) -> None:
    body = saved("okta users", access_filter=None, risk_level="HIGH", variables=[])
    value = created(sandbox_client, QUERIES, body)
    assert value == {**body, "id": value["id"], "created_at": value["created_at"], "updated_at": value["created_at"]}
    read = sandbox_client.get(f"{QUERIES}/{value['id']}")
    assert read.status_code == 200 and read.json()["value"] == value
    # A GET sent back with changes, as a UI edit would: the server fields are ignored, every other field replaced.
    edited = {**value, "description": "edited", "labels": ["other"]}
    del edited["risk_level"]
    answer = sandbox_client.put(f"{QUERIES}/{value['id']}", json=edited)
    assert answer.status_code == 200, answer.text
    after = sandbox_client.get(f"{QUERIES}/{value['id']}").json()["value"]
    assert after == answer.json()["value"]
    assert "risk_level" not in after and after["description"] == "edited" and after["labels"] == ["other"]
    assert after["created_at"] == value["created_at"] < after["updated_at"]
    assert after == {**edited, "updated_at": after["updated_at"]}


def test_integer_enums_are_stored_by_name(sandbox_client: httpx.Client) -> None:
    value = created(sandbox_client, QUERIES, saved("numbered", query_type=1))
    assert value["query_type"] == "SOURCE_TO_DESTINATION"


def test_the_name_filter_matches_one_exact_name(sandbox_client: httpx.Client) -> None:
    for name in ("alpha", "alpha beta", 'say "hi"'):
        created(sandbox_client, QUERIES, saved(name))
    assert names(sandbox_client, QUERIES, filter='name eq "alpha"') == ["alpha"]
    assert names(sandbox_client, QUERIES, filter='name eq "say \\"hi\\""') == ['say "hi"']
    assert names(sandbox_client, QUERIES, filter='name eq "ALPHA"') == []
    assert names(sandbox_client, QUERIES, include_inactive_queries="True") == ["alpha", "alpha beta", 'say "hi"']
    body = refusal(sandbox_client.get(QUERIES, params={"filter": "name ne 'alpha'"}), 400, "InvalidArgument")
    assert "filter" in violations(body)


def test_lists_page_in_creation_order_without_skipping_after_a_deletion(sandbox_client: httpx.Client) -> None:
    ids = [created(sandbox_client, QUERIES, saved(f"q{i}"))["id"] for i in range(7)]
    first = sandbox_client.get(QUERIES, params={"page_size": "3"}).json()
    assert [v["id"] for v in first["values"]] == ids[:3] and first["has_more"] and first["next_page_token"]
    # Deleting an object already read does not shift the next page (keyset tokens, not offsets).
    assert sandbox_client.delete(f"{QUERIES}/{ids[0]}").status_code == 200
    seen, page = [v["id"] for v in first["values"]], first
    while page["has_more"]:
        page = sandbox_client.get(QUERIES, params={"page_size": "3", "page_token": page["next_page_token"]}).json()
        seen += [v["id"] for v in page["values"]]
    assert seen == ids and page["next_page_token"] == ""
    token = first["next_page_token"]
    body = refusal(sandbox_client.get(QUERIES, params={"page_token": token, "filter": 'name eq "q1"'}), 400,
                   "InvalidArgument")
    assert "page_token" in violations(body)


def test_unknown_and_malformed_ids(sandbox_client: httpx.Client) -> None:
    for method, path in (("GET", f"{QUERIES}/{UNKNOWN}"), ("PUT", f"{QUERIES}/{UNKNOWN}"),
                         ("DELETE", f"{QUERIES}/{UNKNOWN}"), ("GET", f"{REPORTS}/{UNKNOWN}"),
                         ("DELETE", f"{REPORTS}/{UNKNOWN}")):
        body = refusal(sandbox_client.request(method, path, json=saved("x") if method == "PUT" else None), 404,
                       "NotFound")
        assert UNKNOWN in body["message"] and body["details"][-1]["reason"] == "NOT_FOUND"
    assert "id" in violations(refusal(sandbox_client.get(f"{QUERIES}/not-a-uuid"), 400, "InvalidArgument"))


def test_bodies_are_checked(sandbox_client: httpx.Client) -> None:
    first = created(sandbox_client, QUERIES, saved("taken"))
    other = created(sandbox_client, QUERIES, saved("free"))
    taken = refusal(sandbox_client.post(QUERIES, json=saved("taken")), 400, "InvalidArgument")
    assert first["id"] in violations(taken)["name"]
    renamed = refusal(sandbox_client.put(f"{QUERIES}/{other['id']}", json=saved("taken")), 400, "InvalidArgument")
    assert "name" in violations(renamed)
    assert sandbox_client.put(f"{QUERIES}/{first['id']}", json=saved("taken")).status_code == 200  # its own name
    wrong_id = refusal(sandbox_client.put(f"{QUERIES}/{first['id']}", json={**saved("taken"), "id": other["id"]}),
                       400, "InvalidArgument")
    assert "id" in violations(wrong_id)
    cases = [({k: v for k, v in saved("n").items() if k != "name"}, "name"),
             (saved("n", labels="one"), "labels"),
             (saved("n", query_type="SYSTEM_CREATED"), "query_type"),
             ({"name": "n"}, "source_node_types.nodes"),
             (saved("n", source_node_types={"nodes": [{"node_typo": "OktaUser"}]}), "source_node_types.nodes[0]")]
    for body, field in cases:
        problems = violations(refusal(sandbox_client.post(QUERIES, json=body), 400, "InvalidArgument"))
        assert any(name.startswith(field) for name in problems), (field, problems)
    assert names(sandbox_client, QUERIES) == ["taken", "free"]


def test_reports_hold_queries_and_guard_their_deletion(sandbox_client: httpx.Client) -> None:
    one, two = (created(sandbox_client, QUERIES, saved(name))["id"] for name in ("one", "two"))
    body = {"name": "R", "description": "R", "queries": [{"query": one}]}
    report = created(sandbox_client, REPORTS, body)
    assert report == {**body, "id": report["id"], "created_at": report["created_at"],
                      "updated_at": report["created_at"]}
    unknown = refusal(sandbox_client.post(REPORTS, json={"name": "S", "queries": [{"query": UNKNOWN}]}), 400,
                      "InvalidArgument")
    assert "queries[0].query" in violations(unknown)
    assert "name" in violations(refusal(sandbox_client.post(REPORTS, json=body), 400, "InvalidArgument"))
    for _ in range(2):  # adding a query twice holds it once
        added = sandbox_client.put(f"{REPORTS}/{report['id']}/queries/{two}")
        assert added.status_code == 200, added.text
    assert added.json()["value"]["queries"] == [{"query": one}, {"query": two}]
    held = refusal(sandbox_client.delete(f"{QUERIES}/{one}", params={"force": "False"}), 400, "FailedPrecondition")
    assert "'R'" in held["message"] and "force" in held["details"][-1]["resolution"]
    assert sandbox_client.get(f"{QUERIES}/{one}").status_code == 200
    assert sandbox_client.delete(f"{QUERIES}/{one}", params={"force": "true"}).status_code == 200
    assert sandbox_client.get(f"{QUERIES}/{one}").status_code == 404
    assert sandbox_client.get(f"{REPORTS}/{report['id']}").json()["value"]["queries"] == [{"query": two}]
    assert sandbox_client.delete(f"{REPORTS}/{report['id']}").status_code == 200
    assert names(sandbox_client, REPORTS) == [] and names(sandbox_client, QUERIES) == ["two"]


def test_saved_objects_survive_a_restart_and_go_with_a_reset(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with running_sandbox(state=str(state)) as first, client_for(first) as client:
        query = created(client, QUERIES, saved("kept"))
        report = created(client, REPORTS, {"name": "kept report", "queries": [{"query": query["id"]}]})
    with running_sandbox(state=str(state), nodes=300) as second, client_for(second) as client:
        # Another graph on the same directory: the tenant's objects are not the graph's.
        assert client.get(f"{QUERIES}/{query['id']}").json()["value"] == query
        assert client.get(f"{REPORTS}/{report['id']}").json()["value"] == report
        assert client.post("/_sandbox/reset").status_code == 200
        assert names(client, QUERIES) == [] and names(client, REPORTS) == []
        created(client, QUERIES, saved("again"))
    assert (state / "saved.json").is_file()
    reset_store(state)
    assert not state.exists()


@pytest.mark.parametrize("damage", [b"{not json", b'{"format": 99}'])
def test_a_damaged_saved_file_is_set_aside(tmp_path: Path, damage: bytes) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "saved.json").write_bytes(damage)
    with running_sandbox(state=str(state)) as sandbox, client_for(sandbox) as client:
        assert names(client, QUERIES) == []
        created(client, QUERIES, saved("fresh"))
        warning = sandbox.saved.backend.warning
        assert warning and "saved.json" in warning
    assert (state / "saved.json.damaged").read_bytes() == damage


def test_two_sandboxes_on_one_directory_share_their_objects(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    with running_sandbox(state=state) as one, running_sandbox(state=state) as two, \
            client_for(one) as first, client_for(two) as second:
        query = created(first, QUERIES, saved("shared"))
        assert second.get(f"{QUERIES}/{query['id']}").json()["value"] == query
        assert "name" in violations(refusal(second.post(QUERIES, json=saved("shared")), 400, "InvalidArgument"))
        assert second.delete(f"{QUERIES}/{query['id']}").status_code == 200
        assert first.get(f"{QUERIES}/{query['id']}").status_code == 404


def test_builtin_queries_are_listed_editable_and_never_deleted() -> None:
    with running_sandbox(builtin_queries=3) as sandbox, client_for(sandbox) as client:
        builtins = client.get(QUERIES).json()["values"]
        assert len(builtins) == 3 and {q["query_type"] for q in builtins} == {"SYSTEM_CREATED"}
        assert all(q["created_at"] == q["updated_at"] for q in builtins)
        first = builtins[0]
        body = refusal(client.delete(f"{QUERIES}/{first['id']}", params={"force": "true"}), 403, "PermissionDenied")
        assert first["id"] in body["message"]
        edited = client.put(f"{QUERIES}/{first['id']}", json={**first, "description": "ours now"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["value"]["query_type"] == "SYSTEM_CREATED"
        assert edited.json()["value"]["updated_at"] > first["created_at"]
        assert client.post("/_sandbox/reset").status_code == 200
        assert client.get(QUERIES).json()["values"] == builtins  # the same ids and bodies, unedited again
