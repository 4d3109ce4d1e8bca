"""Veza's error bodies and a proxy's pages, read by the client over real HTTP on 127.0.0.1 (tests/support/
hostile_server.py): the UserFacingErrorInfo `resolution` reaches the one-line message, redacted like all server
text; a non-JSON 502/504 is retried like any transient failure and, when final, is one line naming the HTTP status,
never HTML or a decode error (issue 11, point 6; veza-api.md §6)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import pytest

from runner.client import (
    ApiError,
    ClientConfig,
    InvalidRequest,
    JobState,
    NotFoundError,
    ResponseError,
    RetryPolicy,
    TransientError,
    VezaClient,
    endpoints,
)
from runner.model import JSONObject
from runner.secret import Secret
from tests.support.hostile_server import (
    HostileServer,
    Raw,
    hostile_server,
    json_reply,
    proxy_page,
    veza_error,
)

__all__ = ["hostile_server"]  # the fixture, used by name

KEY = "canary-key-0c2f9a"
QUICK = RetryPolicy(base=0.01, cap=0.05, max_attempts=3, attempt_timeout=5.0, request_deadline=10.0)
SPEC: JSONObject = {"source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
BODY: JSONObject = {"immediate_run": {"request": {"body": SPEC}}}


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def submit(url: str) -> Any:
    async with VezaClient(ClientConfig(base_url=url, api_key=Secret(KEY), retry=QUICK)) as client:
        return await client.submit(BODY)


def submit_error(server: HostileServer) -> ApiError:
    with pytest.raises(ApiError) as caught:
        run(submit(server.url))
    return caught.value


def test_the_resolution_is_shown_beside_the_field_violations_and_the_request_id(
        hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, veza_error(
        400, "InvalidArgument", "Invalid Arguments", violations=(("name", "Provider with the same name exists"),),
        resolution="Reference error details for the exact field violations."))
    error = submit_error(hostile_server)
    assert type(error) is InvalidRequest
    assert str(error) == ("submit: HTTP 400 InvalidArgument: Invalid Arguments; field violations: name: Provider with "
                          "the same name exists; resolution: Reference error details for the exact field violations. "
                          "(request_id req-7)")
    assert error.resolution == "Reference error details for the exact field violations."


def test_an_empty_resolution_adds_nothing(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, veza_error(404, "NotFound", "Not Found", resolution=""))
    error = submit_error(hostile_server)
    assert type(error) is NotFoundError and error.resolution is None
    assert str(error) == "submit: HTTP 404 NotFound: Not Found (request_id req-7)"


def test_a_resolution_the_message_already_says_is_not_repeated(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, veza_error(
        400, "Internal", "Internal Server Error, please retry and if the error persists contact support",
        resolution="Please retry and if the error persists contact support"))
    assert str(submit_error(hostile_server)).count("if the error persists") == 1


def test_a_resolution_is_one_line_and_never_carries_the_key(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, veza_error(
        400, "InvalidArgument", "bad", resolution=f"Check your key {KEY}\n::error::forged line\r\nagain"))
    text = str(submit_error(hostile_server))
    assert KEY not in text and "\n" not in text and "\r" not in text
    assert "resolution: Check your key *** ::error::forged line again" in text


def test_without_a_top_level_message_the_user_facing_message_is_used(hostile_server: HostileServer) -> None:
    body = {"code": "InvalidArgument", "details": [{"@type": "type.googleapis.com/errorstatus.v1.UserFacingErrorInfo",
                                                    "reason": "INVALID_ARGUMENTS", "metadata": {},
                                                    "message": "Request includes invalid arguments.",
                                                    "resolution": "Fix the spec."}]}
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, json_reply(body, status=400))
    assert str(submit_error(hostile_server)) == ("submit: HTTP 400 InvalidArgument: Request includes invalid "
                                                 "arguments.; resolution: Fix the spec.")


def test_a_transient_error_keeps_its_resolution_when_it_becomes_final(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, veza_error(503, "Unavailable", "busy", resolution="Retry later."))
    error = submit_error(hostile_server)
    assert type(error) is TransientError and error.resolution == "Retry later."
    assert str(error) == "submit: HTTP 503 Unavailable: busy (gave up after 3 attempts); resolution: Retry later. " \
                         "(request_id req-7)"


@pytest.mark.parametrize(("status", "reason"), [(502, "Bad Gateway"), (504, "Gateway Timeout")])
def test_a_proxys_html_page_is_retried_then_named_in_one_line_without_html(hostile_server: HostileServer,
                                                                          status: int, reason: str) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, proxy_page(status, f"{status} {reason}"))
    error = submit_error(hostile_server)
    assert type(error) is TransientError and error.status == status and error.code is None
    assert str(error) == (f'submit: HTTP {status}: {reason} (the body is an HTML page titled "{status} {reason}", not '
                          "Veza's JSON: a proxy or gateway answered) (gave up after 3 attempts)")
    assert len([seen for seen in hostile_server.requests if seen.path == endpoints.NODES_ASYNC_CREATE]) == 3


def test_a_proxys_page_then_an_answer_is_a_success(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, proxy_page(502), times=2)
    done = run(submit(hostile_server.url))
    assert done.query_result_id == "qr-OktaUser" and done.attempts == 3
    sent = [json.loads(seen.body) for seen in hostile_server.requests if seen.path == endpoints.NODES_ASYNC_CREATE]
    assert next(iter(sent[-1])) == "cached_result_if_available"  # a 502's outcome is unknown: no second run


def test_an_html_page_without_a_content_type_or_title_is_still_named(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, Raw(b"  <html><body>upstream down</body></html>", status=502,
                                                        content_type="application/octet-stream"))
    assert "HTTP 502: Bad Gateway (the body is an HTML page, not Veza's JSON" in str(submit_error(hostile_server))


def test_a_plain_text_error_body_is_quoted_on_one_line(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, Raw(b"upstream connect error\nor disconnect", status=503,
                                                        content_type="text/plain"))
    assert "HTTP 503: upstream connect error or disconnect (gave up" in str(submit_error(hostile_server))


def test_a_sign_in_page_with_status_200_is_a_response_error_not_a_decode_error(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, Raw(b"<!DOCTYPE html><html><title>Sign in</title></html>",
                                                        content_type="text/html; charset=utf-8"))
    error = submit_error(hostile_server)
    assert type(error) is ResponseError
    assert str(error) == ("submit: HTTP 200: the reply is an HTML page, not JSON (a proxy or sign-in page answered "
                          "instead of Veza's API)")


def test_a_failed_jobs_error_shows_its_resolution(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, json_reply({"status": "FAILED", "error": {
        "code": "Internal", "message": "the query ran out of memory", "details": [
            {"@type": "type.googleapis.com/errorstatus.v1.UserFacingErrorInfo", "reason": "INTERNAL",
             "message": "Internal server error.", "resolution": "Narrow the query."}]}}))

    async def poll() -> Any:
        async with VezaClient(ClientConfig(base_url=hostile_server.url, api_key=Secret(KEY), retry=QUICK)) as client:
            return await client.poll("qr-1", page_size=10)

    page = run(poll())
    assert page.state is JobState.FAILED
    assert page.error == "Internal: the query ran out of memory; resolution: Narrow the query."
