"""Async job lifecycle and the server-side cache over real HTTP: staleness, expiry, context ids, FAILED jobs."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runner.sandbox.cache import Execution, JobStatus
from runner.sandbox.engine import evaluate
from runner.sandbox.generate import generate_graph
from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.sandbox_fixtures import (
    GET,
    NODES,
    client_for,
    create,
    running_sandbox,
    spec,
    wait_done,
)


def if_available(body: dict[str, Any], staleness: str | None = None) -> dict[str, Any]:
    mode: dict[str, Any] = {"request": {"body": body}}
    if staleness is not None:
        mode["max_staleness"] = staleness
    return {"cached_result_if_available": mode}


def immediate(body: dict[str, Any]) -> dict[str, Any]:
    return {"immediate_run": {"request": {"body": body}}}


def stats(client: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = client.get("/_sandbox/stats").json()
    return data


@pytest.fixture(scope="module")
def slow() -> Iterator[EmbeddedSandbox]:
    # Long enough that a loaded CI machine still sees RUNNING and still joins a running execution.
    with running_sandbox(latency=1.5) as running:
        yield running


@pytest.fixture
def slow_client(slow: EmbeddedSandbox) -> Iterator[httpx.Client]:
    with client_for(slow) as client:
        client.post("/_sandbox/reset")
        yield client


def test_a_job_goes_pending_running_done(slow_client: httpx.Client) -> None:
    started = time.monotonic()
    job = create(slow_client, immediate(spec()))
    statuses = []
    while True:
        reply = slow_client.post(GET, json={"query_result_id": job["query_result_id"]}).json()
        statuses.append(reply["status"])
        if reply["status"] == "DONE":
            break
        assert reply["values"] == [] and reply["path_values"] == [] and reply["has_more"] is False
        assert reply["progress_status"] == {"row_count": "0"} and reply["next_page_token"] == ""
        time.sleep(0.02)
    assert time.monotonic() - started >= 1.5
    order = ["PENDING", "RUNNING", "DONE"]
    assert "RUNNING" in statuses and [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
    assert int(reply["progress_status"]["row_count"]) > 0 and reply["values"]


def test_an_execution_status_follows_the_clock() -> None:
    execution = Execution(cache_id="c", key="k", graph_version=0, created_at=10.0, finished_at=20.0, failed=False,
                          outcome=evaluate(generate_graph(nodes=200, seed=1), spec()))
    assert [execution.status(t) for t in (10.0, 11.9, 12.0, 19.9, 20.0)] == [
        JobStatus.PENDING, JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RUNNING, JobStatus.DONE]
    failing = dataclasses.replace(execution, failed=True)
    assert failing.status(25.0) is JobStatus.FAILED and failing.age(25.0) == 15.0


def test_if_available_reuses_a_done_result_with_the_same_canonical_spec(sandbox_client: httpx.Client) -> None:
    first = create(sandbox_client, immediate(spec(result_value_type="SOURCE_NODES")))
    wait_done(sandbox_client, first["query_result_id"])
    reordered = dict(reversed(list(spec(result_value_type="SOURCE_NODES", page_size="3").items())))
    again = create(sandbox_client, if_available(reordered, "600s"))
    assert again["cache_id"] == first["cache_id"] == again["last_completed_cache_id"]
    other = create(sandbox_client, if_available(spec("AzureADUser"), "600s"))
    assert other["cache_id"] != first["cache_id"] and other["last_completed_cache_id"] == ""
    counts = stats(sandbox_client)
    assert (counts["creates"], counts["executions"], counts["cache_hits"]) == (3, 2, 1)


def test_a_result_older_than_max_staleness_is_recomputed(sandbox_client: httpx.Client) -> None:
    first = create(sandbox_client, immediate(spec()))
    wait_done(sandbox_client, first["query_result_id"])
    time.sleep(0.1)
    stale = create(sandbox_client, if_available(spec(), "0.05s"))
    assert stale["cache_id"] != first["cache_id"]
    assert stale["last_completed_cache_id"] == first["cache_id"]
    wait_done(sandbox_client, stale["query_result_id"])
    fresh = create(sandbox_client, if_available(spec(), "86400s"))
    assert fresh["cache_id"] == stale["cache_id"] == fresh["last_completed_cache_id"]
    assert stats(sandbox_client)["executions"] == 2


def test_immediate_run_always_runs_and_joins_the_cache(sandbox_client: httpx.Client) -> None:
    ids = []
    for _ in range(3):
        job = create(sandbox_client, immediate(spec()))
        wait_done(sandbox_client, job["query_result_id"])
        ids.append(job["cache_id"])
    assert len(set(ids)) == 3
    latest = create(sandbox_client, if_available(spec()))
    assert latest["cache_id"] == ids[-1] == latest["last_completed_cache_id"]
    assert stats(sandbox_client)["executions"] == 3


def test_if_available_joins_a_running_execution_when_configured(slow_client: httpx.Client) -> None:
    first = create(slow_client, immediate(spec()))
    joined = create(slow_client, if_available(spec()))
    assert joined["cache_id"] == first["cache_id"] and joined["last_completed_cache_id"] == ""
    assert stats(slow_client)["executions"] == 1
    with running_sandbox(latency=1.5, cache_joins_running=False) as separate, client_for(separate) as client:
        one = create(client, immediate(spec()))
        two = create(client, if_available(spec()))
        assert one["cache_id"] != two["cache_id"]


def test_context_attaches_to_a_result_and_fails_when_unknown_or_expired() -> None:
    with running_sandbox(latency=0.02, cache_ttl=2.0) as short, client_for(short) as client:
        job = create(client, immediate(spec()))
        done = wait_done(client, job["query_result_id"], page_size=5)
        attached = create(client, {"cached_result_context": {"cache_id": job["cache_id"]}})
        assert attached["cache_id"] == job["cache_id"]
        assert wait_done(client, attached["query_result_id"], page_size=5)["values"] == done["values"]
        unknown = client.post("/api/v1/assessments/query_spec:nodes_async_create",
                              json={"cached_result_context": {"cache_id": "cache-000"}})
        assert unknown.status_code == 404 and unknown.json()["code"] == "NotFound"
        time.sleep(2.1)
        expired = client.post("/api/v1/assessments/query_spec:nodes_async_create",
                              json={"cached_result_context": {"cache_id": job["cache_id"]}})
        assert expired.status_code == 404 and expired.json()["code"] == "NotFound"
        gone = client.post(GET, json={"query_result_id": job["query_result_id"]})
        assert gone.status_code == 404 and gone.json()["code"] == "NotFound"  # handles expire with the cache TTL
        after = create(client, if_available(spec()))
        assert after["cache_id"] != job["cache_id"] and after["last_completed_cache_id"] == ""


def test_failed_jobs_are_reported_and_never_reused() -> None:
    with running_sandbox(latency=0.02, fail_rate_job=1.0) as failing, client_for(failing) as client:
        job = create(client, immediate(spec()))
        final = wait_done(client, job["query_result_id"])
        assert final["status"] == "FAILED" and final["values"] == [] and final["error"]["message"]
        again = create(client, if_available(spec()))
        assert again["cache_id"] != job["cache_id"] and again["last_completed_cache_id"] == ""
        counts = stats(client)
        assert counts["executions"] == 2 and counts["cache_hits"] == 0 and counts["faults"] == {"job": 2}


def test_advance_invalidates_nothing_but_new_runs_see_the_new_graph(sandbox_client: httpx.Client) -> None:
    before = create(sandbox_client, immediate(spec("OktaUser")))
    wait_done(sandbox_client, before["query_result_id"])
    advanced = sandbox_client.post("/_sandbox/advance", json={"seed": 11, "fraction": 0.2}).json()
    assert advanced["changed_ids"] or advanced["added_edges"] or advanced["removed_edges"]
    cached = create(sandbox_client, if_available(spec("OktaUser")))
    assert cached["cache_id"] == before["cache_id"]
    rerun = create(sandbox_client, immediate(spec("OktaUser")))
    assert wait_done(sandbox_client, rerun["query_result_id"])["status"] == "DONE"
    assert rerun["last_completed_cache_id"] == before["cache_id"]


def test_synchronous_calls_take_the_execution_latency(slow_client: httpx.Client) -> None:
    started = time.monotonic()
    page = slow_client.post(NODES, json=spec(), params={"page_size": 5})
    assert page.status_code == 200 and len(page.json()["values"]) == 5
    assert time.monotonic() - started >= 1.5
    counts = stats(slow_client)
    assert counts["executions"] == 1 and counts["pages"] == 1 and counts["rows_served"] == 5
