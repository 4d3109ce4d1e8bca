"""vqr.yaml's `api:` facts as the client speaks them, over real HTTP on 127.0.0.1 against a tenant that differs from
the defaults (tests/support/hostile_server.py `Tenant`): each setting changes what goes on the wire, and the default
fails against such a tenant the way it would against Veza (issue 11, point 7)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import pytest

from runner.client import (
    ApiProtocol,
    ClientConfig,
    DeadlineExceeded,
    JobState,
    NotFoundError,
    Paging,
    PollLadder,
    ResponseError,
    RetryPolicy,
    VezaClient,
    endpoints,
)
from runner.model.protocol import DEFAULT_FAILURE_STATUSES
from runner.secret import Secret
from tests.support.hostile_server import HostileServer, Tenant

QUICK = RetryPolicy(base=0.01, cap=0.05, max_attempts=3, attempt_timeout=5.0, request_deadline=10.0)
PRIVATE_PATH = "/api/private/assessments/query_spec:nodes_async_get"  # where the web UI polls [3P]


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def read_all(url: str, protocol: ApiProtocol, *, page_size: int = 2, wait: float = 30.0) -> list[Any]:
    """Wait for the job as `vqr run` does, then read every page; the rows' ids."""
    config = ClientConfig(base_url=url, api_key=Secret("k"), retry=QUICK, protocol=protocol,
                          poll_ladder=PollLadder(initial=0.02, factor=1.5, cap=0.1))
    async with VezaClient(config) as client:
        first, _ = await client.wait_until_finished("qr-1", page_size=page_size, deadline=client.now() + wait)
        if first.state is JobState.FAILED:
            return [first.status]
        pages = [page async for page in client.iter_pages("qr-1", page_size=page_size, first=first)]
        return [row["id"] for page in pages for row in page.values if isinstance(row, dict)]


def test_the_poll_path_is_the_protocols() -> None:
    with HostileServer(Tenant(poll_path=PRIVATE_PATH)) as server:
        with pytest.raises(NotFoundError, match=r"poll: HTTP 404 NotFound: no route /api/v1/assessments/query_spec"):
            run(read_all(server.url, ApiProtocol()))
        assert run(read_all(server.url, ApiProtocol(poll_path=PRIVATE_PATH))) == ["qr-1-1", "qr-1-2"]
        assert {seen.path for seen in server.requests} == {endpoints.NODES_ASYNC_GET, PRIVATE_PATH}


def test_query_paging_puts_page_size_and_token_in_the_query_string_only() -> None:
    with HostileServer(Tenant(paging="query", rows=5)) as server:
        ids = run(read_all(server.url, ApiProtocol(poll_paging=Paging.QUERY)))
        assert ids == [f"qr-1-{i}" for i in range(1, 6)]
        polls = server.polls()
        assert [seen.query for seen in polls] == [{"page_size": ["2"], "page_token": [token]}
                                                  for token in ("", "2", "4")]
        assert all(json.loads(seen.body) == {"query_result_id": "qr-1"} for seen in polls)


def test_body_paging_against_a_query_string_tenant_stops_rather_than_repeat_rows() -> None:
    with HostileServer(Tenant(paging="query", rows=5)) as server:
        with pytest.raises(ResponseError, match="sent page token '1' of qr-1 again after its rows were read"):
            run(read_all(server.url, ApiProtocol()))  # the tenant never sees the token: page one, over and over
        assert all(seen.query == {} and json.loads(seen.body)["page_size"] == "2" for seen in server.polls())


def test_body_paging_is_the_default_and_sends_nothing_in_the_query_string() -> None:
    with HostileServer(Tenant(rows=3)) as server:
        assert run(read_all(server.url, ApiProtocol())) == ["qr-1-1", "qr-1-2", "qr-1-3"]
        assert [json.loads(seen.body) for seen in server.polls()] == [
            {"query_result_id": "qr-1", "page_size": "2", "page_token": token} for token in ("", "2")]
        assert all(seen.query == {} for seen in server.polls())


def test_an_unknown_success_word_keeps_polling_until_the_deadline_and_a_configured_one_finishes() -> None:
    with HostileServer(Tenant(done_word="SUCCEEDED")) as server:
        with pytest.raises(DeadlineExceeded, match="still not finished"):
            run(read_all(server.url, ApiProtocol(), wait=2.0))  # room for a loaded CI machine
        assert len(server.polls()) >= 3  # it kept asking: an unknown word is "still working"
        assert run(read_all(server.url, ApiProtocol(success_statuses=frozenset({"DONE", "SUCCEEDED"})))) == [
            "qr-1-1", "qr-1-2"]


@pytest.mark.parametrize("word", DEFAULT_FAILURE_STATUSES)
def test_every_default_failure_word_ends_the_wait_at_once(word: str) -> None:
    with HostileServer(Tenant(done_word=word)) as server:
        assert run(read_all(server.url, ApiProtocol())) == [word]
        assert len(server.polls()) == 1


def test_a_configured_failure_word_ends_the_wait_and_the_list_replaces_the_default() -> None:
    with HostileServer(Tenant(done_word="KAPUT")) as server:
        assert run(read_all(server.url, ApiProtocol(failure_statuses=frozenset({"KAPUT"})))) == ["KAPUT"]
    only_kaput = ApiProtocol(failure_statuses=frozenset({"KAPUT"}))
    assert only_kaput.job_state("FAILED") is JobState.RUNNING and only_kaput.job_state("DONE") is JobState.DONE


@pytest.mark.parametrize("path", ["", "api/v1/x", "//evil.example/x", "https://evil.example/x", "/a?page_size=1",
                                  "/a#b", "/a b", "/a//b", "/a/", "/a\n"])
def test_a_poll_path_that_could_leave_the_tenant_or_carry_a_query_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="the poll path must be a path on the tenant"):
        ApiProtocol(poll_path=path)


def test_contradictory_status_words_are_refused() -> None:
    with pytest.raises(ValueError, match="DONE cannot be both a success and a failure status"):
        ApiProtocol(failure_statuses=frozenset({"DONE", "FAILED"}))
    with pytest.raises(ValueError, match="at least one success status"):
        ApiProtocol(success_statuses=frozenset())


def test_a_section_sets_only_what_it_names() -> None:
    default = ApiProtocol()
    assert ApiProtocol.from_section({}) == default
    assert ApiProtocol.from_section({"poll_paging": "query"}) == ApiProtocol(poll_paging=Paging.QUERY)
    full = ApiProtocol.from_section({"poll_path": PRIVATE_PATH, "success_statuses": ["COMPLETE"],
                                     "failure_statuses": [], "poll_paging": "body"})
    assert full == ApiProtocol(poll_path=PRIVATE_PATH, success_statuses=frozenset({"COMPLETE"}),
                               failure_statuses=frozenset(), poll_paging=Paging.BODY)
    assert full.job_state("FAILED") is JobState.RUNNING  # an empty failure list: every other word waits
