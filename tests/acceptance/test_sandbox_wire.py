"""Wire format of the sandbox over real HTTP: endpoints, modes, error bodies, auth, paging tokens, serve()."""

from __future__ import annotations

import base64
import json
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runner.errors import UsageError
from runner.sandbox.config import SandboxConfig, option_specs
from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.sandbox_fixtures import (
    CREATE,
    GET,
    NODES,
    RESULT,
    TEMPLATES,
    client_for,
    create,
    read_all_pages,
    running_sandbox,
    spec,
    wait_done,
)

RFC3339_NANOS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def assert_error(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    assert set(body) == {"code", "message", "request_id", "timestamp", "details"}
    assert body["code"] == code and body["message"]
    assert RFC3339_NANOS.match(body["timestamp"])
    assert body["request_id"] == reply.headers["x-request-id"]
    assert isinstance(body["details"], list)
    return body


def violations(body: dict[str, Any]) -> list[str]:
    bad = [d for d in body["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    assert bad, body
    return [v["field"] for v in bad[0]["field_violations"]]


@pytest.fixture(scope="module")
def paged() -> Iterator[EmbeddedSandbox]:
    with running_sandbox(latency=0.02, default_page_size=20, max_page_size=50, api_key="the-one-key") as running:
        yield running


@pytest.fixture
def paged_client(paged: EmbeddedSandbox) -> Iterator[httpx.Client]:
    with client_for(paged, key="the-one-key") as client:
        client.post("/_sandbox/reset")
        yield client


def test_templates_answer_the_sdk_connection_check(sandbox_client: httpx.Client) -> None:
    reply = sandbox_client.get(TEMPLATES)
    assert reply.status_code == 200
    body = reply.json()
    assert isinstance(body["values"], list) and body["values"]
    assert body["has_more"] is False
    assert body["request_id"] == reply.headers["x-request-id"] and len(body["request_id"]) == 32


def test_every_reply_has_a_distinct_request_id(sandbox_client: httpx.Client) -> None:
    ids = {sandbox_client.get(TEMPLATES).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "bearer"])
def test_missing_or_malformed_bearer_is_unauthenticated(sandbox: EmbeddedSandbox, header: str | None) -> None:
    headers = {"authorization": header} if header is not None else {}
    with httpx.Client(base_url=sandbox.url, headers=headers) as client:
        for reply in (client.get(TEMPLATES), client.post(CREATE, json={}), client.get("/_sandbox/stats")):
            assert_error(reply, 401, "Unauthenticated")


def test_any_non_empty_key_is_accepted_without_api_key(sandbox: EmbeddedSandbox) -> None:
    with client_for(sandbox, key="whatever") as client:
        assert client.get(TEMPLATES).status_code == 200


def test_configured_api_key_is_required_exactly_and_never_echoed(paged: EmbeddedSandbox) -> None:
    with client_for(paged, key="the-one-key-but-longer") as wrong:
        reply = wrong.post(CREATE, json={"immediate_run": {"request": {"body": spec()}}})
        assert_error(reply, 401, "Unauthenticated")
        assert "the-one-key" not in reply.text and "the-one-key" not in str(reply.headers)
    with client_for(paged, key="the-one-key") as right:
        reply = right.post(CREATE, json={"immediate_run": {"request": {"body": spec()}}})
        assert reply.status_code == 200 and "the-one-key" not in reply.text
    assert "the-one-key" not in repr(paged.config)


def test_each_create_mode_replies_with_ids(sandbox_client: httpx.Client) -> None:
    first = create(sandbox_client, {"immediate_run": {"request": {"body": spec()}}})
    assert set(first) == {"query_result_id", "cache_id", "last_completed_cache_id", "request_id"}
    assert first["last_completed_cache_id"] == ""
    wait_done(sandbox_client, first["query_result_id"])
    second = create(sandbox_client, {"cached_result_if_available": {"request": {"body": spec()},
                                                                    "max_staleness": "3600s"}})
    assert second["cache_id"] == first["cache_id"] == second["last_completed_cache_id"]
    assert second["query_result_id"] != first["query_result_id"]
    third = create(sandbox_client, {"cached_result_context": {"cache_id": first["cache_id"]}})
    assert third["cache_id"] == first["cache_id"]
    assert wait_done(sandbox_client, third["query_result_id"])["status"] == "DONE"


def test_deprecated_top_level_request_is_if_available_with_a_warning(sandbox_client: httpx.Client) -> None:
    first = create(sandbox_client, {"immediate_run": {"request": {"body": spec()}}})
    wait_done(sandbox_client, first["query_result_id"])
    reply = create(sandbox_client, {"request": {"body": spec()}})
    assert reply["cache_id"] == first["cache_id"]
    assert any("deprecated" in w for w in reply["warnings"])
    assert any("deprecated" in w for w in wait_done(sandbox_client, reply["query_result_id"])["warnings"])


@pytest.mark.parametrize("body", [
    {},
    {"immediate_run": {"request": {"body": {}}}, "cached_result_context": {"cache_id": "x"}},
    {"request": {"body": {}}, "immediate_run": {"request": {"body": {}}}},
])
def test_zero_or_two_modes_is_invalid_argument(sandbox_client: httpx.Client, body: dict[str, Any]) -> None:
    error = assert_error(sandbox_client.post(CREATE, json=body), 400, "InvalidArgument")
    assert violations(error) == ["cached_result_if_available|immediate_run|cached_result_context"]
    assert sandbox_client.get("/_sandbox/stats").json()["creates"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"immediate_run": {"request": {"body": spec(bogus=1)}}}, "immediate_run.request.body.bogus"),
    ({"immediate_run": {"request": {"body": spec(query_type="SIDEWAYS")}}}, "immediate_run.request.body.query_type"),
    ({"cached_result_if_available": {"request": {"body": spec()}, "max_staleness": "1 day"}},
     "cached_result_if_available.max_staleness"),
    ({"immediate_run": {"request": {}}}, "immediate_run.request.body"),
    ({"cached_result_context": {"cache_id": ""}}, "cached_result_context.cache_id"),
])
def test_invalid_create_bodies_name_the_field(sandbox_client: httpx.Client, body: dict[str, Any],
                                              field: str) -> None:
    error = assert_error(sandbox_client.post(CREATE, json=body), 400, "InvalidArgument")
    assert field in violations(error)


def test_lenient_sandbox_drops_unknown_fields() -> None:
    with running_sandbox(latency=0.02, lenient=True) as lenient, client_for(lenient) as client:
        reply = create(client, {"immediate_run": {"request": {"body": spec(bogus={"x": 1})}, "extra": 1}})
        assert wait_done(client, reply["query_result_id"])["status"] == "DONE"
        plain = create(client, {"cached_result_if_available": {"request": {"body": spec()}}})
        assert plain["cache_id"] == reply["cache_id"]  # the dropped field did not change the cache key
        error = assert_error(client.post(CREATE, json={"immediate_run": {"request": {"body": spec(
            query_type="SIDEWAYS")}}}), 400, "InvalidArgument")
        assert violations(error) == ["immediate_run.request.body.query_type"]


def test_integer_enums_are_accepted_and_names_replied(sandbox_client: httpx.Client) -> None:
    by_number = create(sandbox_client, {"immediate_run": {"request": {"body": spec(query_type=1)}}})
    wait_done(sandbox_client, by_number["query_result_id"])
    by_name = create(sandbox_client, {"cached_result_if_available": {"request": {"body": spec()}}})
    assert by_name["cache_id"] == by_number["cache_id"]


def test_unknown_node_type_is_400_and_creates_nothing(sandbox_client: httpx.Client) -> None:
    error = assert_error(sandbox_client.post(CREATE, json={"immediate_run": {"request": {"body": spec("OktaUsr")}}}),
                         400, "InvalidArgument")
    assert "OktaUsr" in error["message"]
    assert_error(sandbox_client.post(NODES, json=spec("OktaUsr")), 400, "InvalidArgument")
    assert_error(sandbox_client.post(RESULT, json=spec("OktaUsr")), 400, "InvalidArgument")
    assert sandbox_client.get("/_sandbox/stats").json()["executions"] == 0


def test_unknown_query_result_and_bad_json_and_routes(sandbox_client: httpx.Client) -> None:
    error = assert_error(sandbox_client.post(GET, json={"query_result_id": "qr-nope"}), 404, "NotFound")
    assert violations(error) == ["query_result_id"]
    assert_error(sandbox_client.post(CREATE, content=b"{not json"), 400, "InvalidArgument")
    for constant in (b"NaN", b"Infinity", b"-Infinity"):  # Python's json reads them; JSON, and Veza, do not
        body = b'{"immediate_run": {"request": {"body": {"query_type": "SOURCE_TO_DESTINATION", "x": %s}}}}' % constant
        refused = assert_error(sandbox_client.post(CREATE, content=body), 400, "InvalidArgument")
        assert violations(refused) == ["body"], refused  # refused as JSON, before any field is read
    assert_error(sandbox_client.post(GET, json=[1]), 400, "InvalidArgument")
    assert_error(sandbox_client.get("/api/v1/nothing"), 404, "NotFound")
    assert_error(sandbox_client.get(CREATE), 405, "Unimplemented")


def test_paging_through_an_async_result(paged_client: httpx.Client) -> None:
    job = create(paged_client, {"immediate_run": {"request": {"body": spec("OktaUser")}}})
    rows, pages = read_all_pages(paged_client, job["query_result_id"], page_size=7)
    total = int(paged_client.post(RESULT, json=spec("OktaUser")).json()["number_value"])
    assert total > 20 and len(rows) == total
    assert len({row["id"] for row in rows}) == total
    assert pages == -(-total // 7)
    done = wait_done(paged_client, job["query_result_id"])
    assert done["progress_status"] == {"row_count": str(total)}
    assert len(done["values"]) == 20 and done["has_more"] is True  # the default page size
    big = paged_client.post(GET, json={"query_result_id": job["query_result_id"], "page_size": "100000"}).json()
    assert len(big["values"]) == min(50, total)  # clamped to max_page_size
    zero = paged_client.post(GET, json={"query_result_id": job["query_result_id"], "page_size": 0}).json()
    assert len(zero["values"]) == 20
    assert read_all_pages(paged_client, job["query_result_id"], page_size=total)[1] == -(-total // 50)


def test_page_tokens_are_bound_and_tamper_proof(paged_client: httpx.Client) -> None:
    one = create(paged_client, {"immediate_run": {"request": {"body": spec("OktaUser")}}})
    two = create(paged_client, {"immediate_run": {"request": {"body": spec("AzureADUser")}}})
    token = wait_done(paged_client, one["query_result_id"], page_size=5)["next_page_token"]
    wait_done(paged_client, two["query_result_id"])
    assert_error(paged_client.post(GET, json={"query_result_id": two["query_result_id"], "page_token": token}),
                 400, "InvalidArgument")
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw["o"] = 0
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    for bad in (forged, "not-a-token", token[:-3]):
        error = assert_error(paged_client.post(GET, json={"query_result_id": one["query_result_id"],
                                                          "page_token": bad}), 400, "InvalidArgument")
        assert violations(error) == ["page_token"]
    for size in ("-1", "ten", True):
        assert_error(paged_client.post(GET, json={"query_result_id": one["query_result_id"], "page_size": size}),
                     400, "InvalidArgument")


def test_synchronous_nodes_pages_by_the_query_string_only(paged_client: httpx.Client) -> None:
    total = int(paged_client.post(RESULT, json=spec("AzureADUser")).json()["number_value"])
    seen: list[str] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"page_size": 9} | ({"page_token": token} if token else {})
        page = paged_client.post(NODES, json=spec("AzureADUser"), params=params).json()
        assert set(page) >= {"values", "path_values", "next_page_token", "has_more", "request_id"}
        assert page["warnings"] == []
        seen += [row["id"] for row in page["values"]]
        if not page["has_more"]:
            assert page["next_page_token"] == ""
            break
        token = page["next_page_token"]
    assert len(seen) == len(set(seen)) == total > 20
    # As on Veza, paging in the body is ignored: a client that pages there gets the first page again, warned.
    in_body = paged_client.post(NODES, json=spec("AzureADUser", page_size="4")).json()
    assert [r["id"] for r in in_body["values"]] == seen[:20]  # the default page size, not 4
    assert in_body["warnings"] == ["page_size in the body of query_spec:nodes is ignored: send page_size and "
                                   "page_token in the query string"]
    again = paged_client.post(NODES, json=spec("AzureADUser", page_size="4",
                                               page_token=in_body["next_page_token"])).json()
    assert [r["id"] for r in again["values"]] == seen[:20]
    assert "page_size and page_token in the body" in again["warnings"][0]
    stats = paged_client.get("/_sandbox/stats").json()
    assert stats["executions"] >= 3 + len(seen) // 9  # every page is an execution


def test_count_is_an_int64_string(sandbox_client: httpx.Client) -> None:
    reply = sandbox_client.post(RESULT, json=spec("OktaGroup")).json()
    assert re.fullmatch(r"\d+", reply["number_value"]) and int(reply["number_value"]) > 0
    assert reply["result_type"]


def test_stats_reset_and_advance(sandbox_client: httpx.Client) -> None:
    job = create(sandbox_client, {"immediate_run": {"request": {"body": spec()}}})
    wait_done(sandbox_client, job["query_result_id"])
    stats = sandbox_client.get("/_sandbox/stats").json()
    assert stats["creates"] == 1 and stats["executions"] == 1 and stats["polls"] >= 1 and stats["pages"] == 1
    assert stats["rows_served"] > 0 and stats["faults"] == {}
    version = stats["graph_version"]
    advanced = sandbox_client.post("/_sandbox/advance", json={"seed": 3, "fraction": 0.05}).json()
    assert advanced["seed"] == 3 and advanced["version"] == version + 1
    assert advanced["changed_ids"] or advanced["added_edges"] or advanced["removed_edges"]
    assert sandbox_client.get("/_sandbox/stats").json()["graph_version"] == version + 1
    assert_error(sandbox_client.post("/_sandbox/advance", json={"fraction": 2}), 400, "InvalidArgument")
    assert sandbox_client.post("/_sandbox/reset").json()["reset"] is True
    after = sandbox_client.get("/_sandbox/stats").json()
    assert (after["creates"], after["executions"], after["polls"]) == (0, 0, 0)
    assert after["graph_version"] == 0  # the generated graph is back as it was before the advance
    assert_error(sandbox_client.post(GET, json={"query_result_id": job["query_result_id"]}), 404, "NotFound")


def test_config_validation_and_option_specs() -> None:
    with pytest.raises(UsageError, match="fail-rate-429"):
        SandboxConfig(fail_rate_429=1.5)
    with pytest.raises(UsageError, match="certfile"):
        SandboxConfig(certfile="x.pem")
    specs = {spec.flag: spec for spec in option_specs()}
    assert specs["--port"].default == 0 and specs["--port"].type is int
    assert specs["--tls/--no-tls"].is_flag and specs["--fail-rate-5xx"].type is float
    assert specs["--api-key"].type is str and all(s.help for s in specs.values())


def test_serve_prints_the_url_first_and_stops_on_interrupt() -> None:
    code = ("from runner.sandbox.config import SandboxConfig; from runner.sandbox.server import serve; "
            "raise SystemExit(serve(SandboxConfig(nodes=200, latency=0.01, tls=True)))")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        ca_file = process.stdout.readline().strip()
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+", url)
        reply = httpx.get(url + TEMPLATES, headers={"authorization": "Bearer k"},
                          verify=ssl.create_default_context(cafile=ca_file))
        assert reply.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    problems = process.stderr.read() if process.stderr else ""
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    assert process.returncode == 0, problems
