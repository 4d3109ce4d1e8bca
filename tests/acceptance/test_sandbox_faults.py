"""Fault injection over real HTTP: 429 with Retry-After, 5xx, resets, empty pages, slow replies; seeded replays."""

from __future__ import annotations

import time
from typing import Any

import httpx

from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.sandbox_fixtures import (
    CREATE,
    GET,
    NODES,
    TEMPLATES,
    client_for,
    create,
    running_sandbox,
    spec,
    wait_done,
)


def stats(sandbox: EmbeddedSandbox) -> dict[str, Any]:
    with client_for(sandbox) as client:
        data: dict[str, Any] = client.get("/_sandbox/stats").json()
        return data


def immediate() -> dict[str, Any]:
    return {"immediate_run": {"request": {"body": spec()}}}


def test_throttling_strikes_before_processing_with_retry_after() -> None:
    with running_sandbox(latency=0.02, fail_rate_429=1.0, retry_after=7) as sandbox, client_for(sandbox) as client:
        for _ in range(3):
            reply = client.post(CREATE, json=immediate())
            assert reply.status_code == 429 and reply.headers["retry-after"] == "7"
            body = reply.json()
            assert body["code"] == "ResourceExhausted" and body["request_id"] == reply.headers["x-request-id"]
        counts = stats(sandbox)
        assert counts["creates"] == 0 and counts["executions"] == 0 and counts["faults"] == {"429": 3}


def test_server_errors_are_mixed_and_create_nothing() -> None:
    with running_sandbox(latency=0.02, fail_rate_5xx=1.0) as sandbox, client_for(sandbox) as client:
        statuses = set()
        for _ in range(40):
            reply = client.post(CREATE, json=immediate())
            statuses.add(reply.status_code)
            assert reply.json()["code"] in ("Internal", "Unavailable", "DeadlineExceeded")
        assert statuses == {500, 502, 503, 504}
        counts = stats(sandbox)
        assert counts["creates"] == 0 and sum(counts["faults"].values()) == 40


def test_resets_drop_the_connection_without_a_reply() -> None:
    with running_sandbox(latency=0.02, reset_rate=1.0) as sandbox, client_for(sandbox) as client:
        for _ in range(3):
            try:
                client.post(CREATE, json=immediate())
            except (httpx.RemoteProtocolError, httpx.ReadError) as error:
                assert "reset" in str(error).lower() or "disconnected" in str(error).lower()
            else:
                raise AssertionError("the request got a reply")
        counts = stats(sandbox)
        assert counts["creates"] == 0 and counts["faults"] == {"reset": 3}


def test_empty_pages_keep_has_more_and_lose_no_rows() -> None:
    with running_sandbox(latency=0.02, empty_page_rate=0.5, fault_seed=4) as sandbox, client_for(sandbox) as client:
        job = create(client, immediate())
        page = wait_done(client, job["query_result_id"], page_size=10)
        rows: list[Any] = []
        empty = 0
        while True:
            if not page["values"]:
                empty += 1
                assert page["has_more"] is True and page["next_page_token"]
            rows += page["values"]
            if not page["has_more"]:
                break
            page = client.post(GET, json={"query_result_id": job["query_result_id"], "page_size": "10",
                                          "page_token": page["next_page_token"]}).json()
        assert empty > 0 and len(rows) == int(page["progress_status"]["row_count"])
        assert len({r["id"] for r in rows}) == len(rows)
        assert stats(sandbox)["faults"] == {"empty_page": empty}


def test_slow_replies_are_processed_first_then_delayed() -> None:
    with running_sandbox(latency=0.02, slow_rate=1.0, slow_seconds=0.5) as sandbox, client_for(sandbox) as client:
        try:
            client.post(CREATE, json=immediate(), timeout=0.2)
        except httpx.ReadTimeout:
            pass
        else:
            raise AssertionError("the slow reply arrived before the client's timeout")
        assert stats(sandbox)["creates"] == 1  # the job exists although its reply was lost
        started = time.monotonic()
        assert client.get(TEMPLATES).status_code == 200
        assert time.monotonic() - started >= 0.5


def _trace(sandbox: EmbeddedSandbox) -> list[int | str]:
    outcomes: list[int | str] = []
    with client_for(sandbox) as client:
        for _ in range(30):
            try:
                outcomes.append(client.post(NODES, json=spec(), params={"page_size": 3}).status_code)
            except httpx.TransportError:
                outcomes.append("reset")
    return outcomes


def test_faults_replay_with_the_same_seed() -> None:
    rates = {"latency": 0.0, "fail_rate_429": 0.2, "fail_rate_5xx": 0.2, "reset_rate": 0.1}
    with running_sandbox(fault_seed=42, **rates) as one:
        first = _trace(one)
        with client_for(one) as client:
            client.post("/_sandbox/reset")
        replay = _trace(one)
    with running_sandbox(fault_seed=42, **rates) as two:
        second = _trace(two)
    with running_sandbox(fault_seed=43, **rates) as three:
        other = _trace(three)
    assert first == replay == second
    assert set(first) >= {200, 429, "reset"} and first != other
