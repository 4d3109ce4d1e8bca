"""The client against scripted replies and TCP faults injected at the transport seam (httpx.MockTransport).

Covers what the sandbox cannot stage on demand: a read timeout or a reset after the request was sent, exact
status sequences, a server echoing the key. Time is a fake clock advanced by the injected sleep: tests are instant.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.client.api import ClientConfig, JobState, VezaClient
from runner.client.errors import (
    ApiError,
    AuthError,
    DeadlineExceeded,
    Delivery,
    InvalidRequest,
    NotFoundError,
    ResponseError,
    TransientError,
)
from runner.client.exchange import MAX_MERGED_URLS
from runner.client.retry import PollLadder, RetryBudget, RetryPolicy, poll_delays
from runner.client.throttle import is_throttle
from runner.errors import UsageError
from runner.model.protocol import DEFAULT_POLL_PATH, ApiProtocol, Paging
from runner.model.values import JSONObject
from runner.secret import Secret

CANARY = "canary-key-5d1b8e0f"
SPEC: JSONObject = {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
IMMEDIATE: JSONObject = {"immediate_run": {"request": {"body": SPEC}}}
CREATED: JSONObject = {"query_result_id": "qr-1", "cache_id": "cache-1", "last_completed_cache_id": None}
Step = httpx.Response | Exception | Callable[[httpx.Request], Awaitable[httpx.Response]]


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script:
    """Replies in order; every request is kept for inspection."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.steps, f"unexpected extra request {request.method} {request.url}"
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return await step(request)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def reply(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


def veza_error(status: int, code: str, message: str, *, violations: tuple[tuple[str, str], ...] = ()) -> httpx.Response:
    details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                "field_violations": [{"field": f, "description": d} for f, d in violations]}] if violations else []
    return reply(status, {"code": code, "message": message, "request_id": "req-42", "details": details})


def make_client(script: Script, time: FakeTime, **overrides: Any) -> VezaClient:
    retry = overrides.pop("retry", RetryPolicy(base=0.5, cap=8.0, max_attempts=6))
    budget = overrides.pop("budget", None)
    base_url = overrides.pop("base_url", "https://acme.vezacloud.com")
    config = ClientConfig(base_url=base_url, api_key=Secret(CANARY), retry=retry, **overrides)
    return VezaClient(config, transport=httpx.MockTransport(script), rng=random.Random(7), sleep=time.sleep,
                      clock=time.clock, budget=budget)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def submit(script: Script, time: FakeTime, body: JSONObject = IMMEDIATE, **overrides: Any) -> Any:
    async with make_client(script, time, **overrides) as client:
        return await client.submit(body)


def test_headers_name_vqr_and_carry_the_key_only_in_authorization() -> None:
    script, time = Script(reply(200, CREATED)), FakeTime()
    done = run(submit(script, time))
    request = script.requests[0]
    assert request.headers["authorization"] == f"Bearer {CANARY}"
    assert request.headers["user-agent"].startswith("vqr/")
    assert str(request.url) == "https://acme.vezacloud.com/api/v1/assessments/query_spec:nodes_async_create"
    assert CANARY not in str(request.url) + request.content.decode()
    assert (done.query_result_id, done.cache_id, done.mode, done.attempts) == ("qr-1", "cache-1", "immediate_run", 1)


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("connect timed out"),
    reply(429, {"code": "ResourceExhausted", "message": "slow down"}, **{"Retry-After": "3"}),
    veza_error(503, "Unavailable", "try later"),
])
def test_submit_that_never_arrived_is_resent_as_is(failure: Step) -> None:
    script, time = Script(failure, reply(200, CREATED)), FakeTime()
    done = run(submit(script, time))
    assert script.bodies() == [IMMEDIATE, IMMEDIATE]
    assert not done.resent_as_cached and done.attempts == 2
    assert len(time.sleeps) == 1


def test_retry_after_is_waited_for() -> None:
    script, time = Script(reply(429, {}, **{"Retry-After": "3"}), reply(200, CREATED)), FakeTime()
    run(submit(script, time))
    assert 3.0 <= time.sleeps[0] <= 3.5


async def _read_then_timeout(request: httpx.Request) -> httpx.Response:
    await request.aread()  # the request went out in full; the reply never came
    raise httpx.ReadTimeout("timed out", request=request)


async def _read_then_reset(request: httpx.Request) -> httpx.Response:
    await request.aread()
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


@pytest.mark.parametrize("failure", [
    _read_then_timeout,
    _read_then_reset,
    httpx.ReadError("[Errno 104] Connection reset by peer"),
    httpx.WriteError("broken pipe"),
    veza_error(500, "Internal", "boom"),
    veza_error(502, "Unavailable", "bad gateway"),
    veza_error(504, "DeadlineExceeded", "too slow"),
])
def test_submit_of_unknown_outcome_is_resent_as_cached_with_elapsed_staleness(failure: Step) -> None:
    script, time = Script(failure, reply(200, CREATED)), FakeTime()
    done = run(submit(script, time))
    expected_staleness = f"{max(1, -(-time.sleeps[0] // 1)):.0f}s"
    assert script.bodies() == [IMMEDIATE, {"cached_result_if_available": {"request": {"body": SPEC},
                                                                          "max_staleness": expected_staleness}}]
    assert done.resent_as_cached and done.mode == "cached_result_if_available"


def test_staleness_grows_with_each_attempt_and_stays_cached_after_a_later_429() -> None:
    script = Script(veza_error(500, "Internal", "x"), veza_error(504, "DeadlineExceeded", "y"),
                    reply(429, {}, **{"Retry-After": "20"}), reply(200, CREATED))
    time = FakeTime()
    run(submit(script, time, retry=RetryPolicy(base=4.0, cap=8.0, max_attempts=6)))
    bodies = script.bodies()
    stale = [b["cached_result_if_available"]["max_staleness"] for b in bodies[1:]]
    elapsed = [sum(time.sleeps[: i + 1]) for i in range(3)]
    assert stale == [f"{max(1, -(-e // 1)):.0f}s" for e in elapsed]
    assert int(stale[2][:-1]) >= 20


def test_context_submit_is_resent_as_is_even_after_an_unknown_outcome() -> None:
    body: JSONObject = {"cached_result_context": {"cache_id": "cache-9"}}
    script, time = Script(veza_error(500, "Internal", "x"), reply(200, CREATED)), FakeTime()
    run(submit(script, time, body))
    assert script.bodies() == [body, body]


def test_slow_reply_hits_the_attempt_timeout_and_counts_as_unknown() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return reply(200, CREATED)

    script, time = Script(slow, reply(200, CREATED)), FakeTime()
    done = run(submit(script, time, retry=RetryPolicy(attempt_timeout=0.05, max_attempts=3)))
    assert done.resent_as_cached


@pytest.mark.parametrize("failure", [
    _read_then_timeout, _read_then_reset, httpx.ConnectError("refused"), veza_error(500, "Internal", "x"),
    reply(429, {}, **{"Retry-After": "1"}), veza_error(502, "Unavailable", "x"), veza_error(503, "Unavailable", "x"),
])
def test_polls_retry_every_transient_failure_unchanged(failure: Step) -> None:
    page = {"status": "DONE", "progress_status": {"row_count": "2"}, "values": [{"id": "a"}, {"id": "b"}],
            "has_more": False, "next_page_token": None}
    script, time = Script(failure, reply(200, page)), FakeTime()

    async def go() -> Any:
        async with make_client(script, time) as client:
            return await client.poll("qr-1", page_size=100, page_token="t1")

    got = run(go())
    assert script.bodies() == [{"query_result_id": "qr-1", "page_size": "100", "page_token": "t1"}] * 2
    assert (got.state, got.row_count, len(got.values), got.has_more) == (JobState.DONE, 2, 2, False)


@pytest.mark.parametrize(("status", "code", "kind"), [
    (400, "InvalidArgument", InvalidRequest), (401, "Unauthenticated", AuthError),
    (403, "PermissionDenied", AuthError), (404, "NotFound", NotFoundError), (409, "Aborted", ApiError),
    (501, "Unimplemented", ApiError),
])
def test_refusals_are_final_and_name_request_id_and_every_violation(status: int, code: str,
                                                                    kind: type[ApiError]) -> None:
    violations = (("spec.source_node_types", "unknown node type OktaUsr"), ("spec.page_size", "must be >= 0"))
    script, time = Script(veza_error(status, code, "refused", violations=violations)), FakeTime()
    with pytest.raises(kind) as caught:
        run(submit(script, time))
    error = caught.value
    assert type(error) is kind and not isinstance(error, TransientError)
    assert (error.status, error.code, error.request_id) == (status, code, "req-42")
    text = str(error)
    for needle in ("req-42", "spec.source_node_types: unknown node type OktaUsr", "spec.page_size: must be >= 0",
                   f"HTTP {status}"):
        assert needle in text
    assert len(script.requests) == 1 and not time.sleeps


def test_a_server_echoing_the_key_never_gets_it_into_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    async def echo(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        return reply(500, {"code": "Internal", "message": f"bad header {header}", "request_id": header,
                           "details": [{"field_violations": [{"field": header, "description": header}]}]},
                     location=header)

    async def echo_401(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        return httpx.Response(401, text=f"nope: {header}", headers={"x-request-id": header})

    script, time = Script(echo, echo, echo_401), FakeTime()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as caught:
        run(submit(script, time))
    assert CANARY not in str(caught.value) + repr(caught.value.args)
    assert CANARY not in caplog.text
    assert "retry 1" in caplog.text and "***" in caplog.text


def test_waits_are_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="vqr.client")
    script, time = Script(httpx.ConnectError("refused"), reply(200, CREATED)), FakeTime()
    run(submit(script, time))
    waits = [r for r in caplog.records if "retry 1 in" in r.getMessage()]
    assert len(waits) == 1 and waits[0].levelno == logging.DEBUG


def test_attempts_are_limited() -> None:
    script, time = Script(*[veza_error(503, "Unavailable", "down")] * 3), FakeTime()
    with pytest.raises(TransientError, match="gave up after 3 attempts") as caught:
        run(submit(script, time, retry=RetryPolicy(max_attempts=3)))
    assert caught.value.delivery is Delivery.NOT_DELIVERED and caught.value.request_id == "req-42"
    assert len(script.requests) == 3


def test_the_final_error_keeps_the_servers_retry_after() -> None:
    # Given up on: the error still says the tenant asked for a wait, so it is still classed a throttle.
    script, time = Script(*[reply(502, {}, **{"Retry-After": "2"})] * 3), FakeTime()
    with pytest.raises(TransientError, match="gave up after 3 attempts") as caught:
        run(submit(script, time, retry=RetryPolicy(max_attempts=3)))
    assert caught.value.retry_after == 2.0 and caught.value.status == 502 and is_throttle(caught.value)


def test_retry_after_beyond_the_deadline_ends_the_request() -> None:
    script, time = Script(reply(429, {}, **{"Retry-After": "50"})), FakeTime()
    with pytest.raises(DeadlineExceeded, match="deadline"):
        run(submit(script, time, retry=RetryPolicy(request_deadline=30, retry_after_cap=120)))
    assert not time.sleeps


def test_caller_deadline_caps_the_request() -> None:
    script, time = Script(*[httpx.ConnectError("refused")] * 20), FakeTime()

    async def go() -> None:
        async with make_client(script, time, retry=RetryPolicy(base=1, cap=4, max_attempts=50)) as client:
            await client.submit(IMMEDIATE, deadline=time.now + 10)

    with pytest.raises(DeadlineExceeded):
        run(go())
    assert sum(time.sleeps) <= 10


def test_the_run_budget_makes_failures_final_across_queries() -> None:
    budget = RetryBudget(capacity=2, refund=1)
    script, time = Script(*[httpx.ConnectError("refused")] * 4), FakeTime()

    async def go() -> list[str]:
        messages = []
        async with make_client(script, time, budget=budget) as client:
            for _ in range(2):
                try:
                    await client.submit(IMMEDIATE)
                except TransientError as error:
                    messages.append(str(error))
        return messages

    messages = run(go())
    assert len(messages) == 2 and all("retry budget is exhausted" in m for m in messages)
    assert len(script.requests) == 4  # 3 for the first query (2 retries), 1 for the second
    assert budget.exhausted


@pytest.mark.parametrize("base", ["https://acme.vezacloud.com", "https://gw.example/veza/", "https://gw.example/v"])
def test_every_request_goes_where_httpx_merges_its_path_under_the_base_url(base: str) -> None:
    # The client merges each path once and reuses the URL (client/exchange.py `MergedUrls`): the same URL as httpx's
    # own merge, for a base with a path prefix too, request after request and with query parameters added.
    script = Script(reply(200, CREATED), page([1], None, False), page([2], None, False))
    time = FakeTime()

    async def go() -> None:
        async with make_client(script, time, base_url=base, protocol=ApiProtocol(poll_paging=Paging.QUERY)) as client:
            await client.submit(IMMEDIATE)
            await client.poll("qr-1", page_size=10)
            await client.poll("qr-1", page_size=20, page_token="t")

    run(go())
    merged = httpx.AsyncClient(base_url=base)
    expected = [merged.build_request("POST", "/api/v1/assessments/query_spec:nodes_async_create").url,
                merged.build_request("POST", DEFAULT_POLL_PATH, params={"page_size": "10", "page_token": ""}).url,
                merged.build_request("POST", DEFAULT_POLL_PATH, params={"page_size": "20", "page_token": "t"}).url]
    assert [r.url for r in script.requests] == expected


def test_the_merged_urls_kept_are_bounded() -> None:
    script, time = Script(*[reply(200, {}) for _ in range(MAX_MERGED_URLS + 5)]), FakeTime()

    async def go() -> None:
        async with make_client(script, time) as client:
            for n in range(MAX_MERGED_URLS + 5):
                await client._exchange("read", "GET", f"/api/v1/assessments/queries/q{n}", None, 5.0)
            assert len(client._sender.urls) == MAX_MERGED_URLS  # the kept ones; every request still went out

    run(go())
    assert [r.url.path for r in script.requests][-1] == f"/api/v1/assessments/queries/q{MAX_MERGED_URLS + 4}"


def test_redirects_are_not_followed() -> None:
    script, time = Script(httpx.Response(301, headers={"location": "https://elsewhere.example/x"})), FakeTime()
    with pytest.raises(ApiError, match=re.escape("redirect to https://elsewhere.example/x")):
        run(submit(script, time))
    assert len(script.requests) == 1


@pytest.mark.parametrize("body", [b"<html>proxy login</html>", b"[1, 2]", b'{"cache_id": "x"}'])
def test_replies_breaking_the_contract_are_response_errors(body: bytes) -> None:
    script, time = Script(httpx.Response(200, content=body)), FakeTime()
    with pytest.raises(ResponseError):
        run(submit(script, time))


def page(values: list[Any], token: str | None, has_more: bool, status: str = "DONE") -> httpx.Response:
    return reply(200, {"status": status, "values": values, "next_page_token": token, "has_more": has_more,
                       "progress_status": {"row_count": "3"}})


async def collect(client: VezaClient) -> list[list[Any]]:
    return [list(p.values) async for p in client.iter_pages("qr-1", page_size=2)]


def test_pages_are_read_through_empty_ones_until_has_more_is_false() -> None:
    script = Script(page([], "t0", True), page([], "t0", True), page([1, 2], "t2", True), page([], "t2", True),
                    page([3], None, False))
    time = FakeTime()

    async def go() -> list[list[Any]]:
        async with make_client(script, time) as client:
            return await collect(client)

    assert run(go()) == [[], [], [1, 2], [], [3]]
    assert [b["page_token"] for b in script.bodies()] == ["", "t0", "t0", "t2", "t2"]


def test_a_token_repeated_after_its_rows_were_read_is_an_error() -> None:
    script, time = Script(page([1], "t1", True), page([2], "t1", True), page([2], "t1", True)), FakeTime()

    async def go() -> list[list[Any]]:
        async with make_client(script, time) as client:
            return await collect(client)

    with pytest.raises(ResponseError, match="again after its rows were read"):
        run(go())
    assert len(script.requests) == 2


def test_endless_empty_pages_are_an_error() -> None:
    script, time = Script(*[page([], "t0", True)] * 60), FakeTime()

    async def go() -> list[list[Any]]:
        async with make_client(script, time) as client:
            return await collect(client)

    with pytest.raises(ResponseError, match="empty pages in a row"):
        run(go())


def test_waiting_polls_on_the_ladder_through_unknown_statuses() -> None:
    script = Script(page([], None, False, "PENDING"), page([], None, False, "QUEUED_SOMEWHERE"),
                    page([], None, False, "RUNNING"), page([1], None, False, "DONE"))
    time = FakeTime()

    async def go() -> Any:
        async with make_client(script, time) as client:
            return await client.wait_until_finished("qr-1", page_size=10, deadline=time.now + 60)

    done, polls = run(go())
    assert done.state is JobState.DONE and done.values == (1,)
    assert len(script.requests) == 4 and len(time.sleeps) == 3 and time.sleeps[0] <= 0.25
    assert polls == 4


def test_failure_words_end_the_wait_with_the_reason() -> None:
    failed = reply(200, {"status": "CANCELED", "error": {"code": "Internal", "message": "job died"}})
    script, time = Script(failed), FakeTime()

    async def go() -> Any:
        async with make_client(script, time) as client:
            return await client.wait_until_finished("qr-1", page_size=10, deadline=time.now + 60)

    done, polls = run(go())
    assert done.state is JobState.FAILED and done.error == "Internal: job died"
    assert polls == 1 and time.sleeps == []


def test_slow_replies_do_not_stretch_the_ladder_but_a_quarter_step_is_always_waited() -> None:
    time, sent = FakeTime(), []

    def slow(status: str, seconds: float) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        async def answer(request: httpx.Request) -> httpx.Response:
            sent.append(time.now)
            time.now += seconds
            return page([1], None, False, status)
        return answer

    script = Script(slow("RUNNING", 0.1), slow("RUNNING", 1.0), slow("DONE", 0.0))

    async def go() -> Any:
        async with make_client(script, time) as client:
            return await client.wait_until_finished("qr-1", page_size=10, deadline=time.now + 60,
                                                    rng=random.Random(0))

    done, polls = run(go())
    _, first, second = itertools.islice(poll_delays(PollLadder(), random.Random(0)), 3)
    assert done.state is JobState.DONE and polls == 3
    assert sent[1] - sent[0] == pytest.approx(first)  # on the ladder's clock: the 0.1 s reply is not added
    assert sent[2] - sent[1] == pytest.approx(1.0 + second / 4)  # the 1 s reply overran the step: a quarter of it


def test_a_job_that_never_finishes_hits_the_query_deadline() -> None:
    script, time = Script(*[page([], None, False, "RUNNING")] * 30), FakeTime()

    async def go() -> Any:
        async with make_client(script, time) as client:
            return await client.wait_until_finished("qr-1", page_size=10, deadline=time.now + 20)

    with pytest.raises(DeadlineExceeded, match="still not finished"):
        run(go())
    assert sum(time.sleeps) <= 20


def test_a_new_job_near_its_deadline_is_still_polled_once() -> None:
    """On the ladder without its poll at 0 s, the first step (0.25 s) would pass a deadline 0.1 s away: the job is
    asked once before the deadline instead of never."""
    script, time = Script(page([1], None, False, "DONE")), FakeTime()

    async def go() -> Any:
        async with make_client(script, time) as client:
            return await client.wait_until_finished("qr-1", page_size=10, deadline=time.now + 0.1, first_wait=None)

    done, polls = run(go())
    assert done.state is JobState.DONE and polls == 1 and sum(time.sleeps) <= 0.1 + 1e-9


def test_plain_http_is_refused_except_to_this_machine(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="plain http"):
        VezaClient(ClientConfig(base_url="http://acme.vezacloud.com", api_key=Secret(CANARY)))
    with pytest.raises(UsageError, match="https://"):
        VezaClient(ClientConfig(base_url="ftp://acme", api_key=Secret(CANARY)))
    bad_ca = tmp_path / "ca.pem"
    bad_ca.write_text("not a certificate")
    with pytest.raises(UsageError, match="cannot load the CA bundle"):
        VezaClient(ClientConfig(base_url="https://acme.vezacloud.com", api_key=Secret(CANARY), ca_bundle=bad_ca))
    local = VezaClient(ClientConfig(base_url="http://127.0.0.1:9", api_key=Secret(CANARY)))
    run(local.aclose())


def test_a_url_holding_a_user_or_password_is_a_usage_error_that_never_shows_them() -> None:
    for url in ("https://admin:hunter2-secret@acme.vezacloud.com", "https://hunter2-secret@acme.vezacloud.com",
                "https://[::1"):
        with pytest.raises(UsageError) as raised:
            VezaClient(ClientConfig(base_url=url, api_key=Secret(CANARY)))
        assert "hunter2" not in str(raised.value) and "must" in str(raised.value)
