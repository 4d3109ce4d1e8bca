"""The client against a hostile server over real HTTP on 127.0.0.1 (tests/support/hostile_server.py): every reply
that cannot be read (too deep, too large, endless, not UTF-8, NaN) is a `ResponseError` for that request, never a
RecursionError or an unbounded read; an unreachable API is announced or refused at once (issue 10, points 5, 6,
15, 16)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from runner.client import (
    ApiError,
    ClientConfig,
    DeadlineExceeded,
    InvalidRequest,
    ResponseError,
    RetryPolicy,
    TransientError,
    VezaClient,
    endpoints,
)
from runner.secret import Secret
from tests.support.hostile_server import (
    Endless,
    HostileServer,
    InTurn,
    Raw,
    Slow,
    deep_nesting,
    done_page,
    hostile_server,
    json_reply,
)

__all__ = ["hostile_server"]  # the fixture, used by name

REPO = Path(__file__).resolve().parents[3]
MiB = 1 << 20
QUICK = RetryPolicy(base=0.01, cap=0.05, max_attempts=3, attempt_timeout=5.0, request_deadline=10.0)


def client(url: str, **overrides: Any) -> VezaClient:
    notify = overrides.pop("notify", None)
    config = ClientConfig(base_url=url, api_key=Secret("k"), retry=overrides.pop("retry", QUICK), **overrides)
    return VezaClient(config, notify=notify)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def poll(url: str, **overrides: Any) -> Any:
    async with client(url, **overrides) as veza:
        return await veza.poll("qr-1", page_size=10)


def poll_error(server: HostileServer, **overrides: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        run(poll(server.url, **overrides))
    return caught.value


# --- point 5: nesting -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_a_reply_nested_100000_deep_is_a_response_error_not_a_recursion_error(hostile_server: HostileServer,
                                                                               opener: bytes) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, deep_nesting(100_000, opener))
    error = poll_error(hostile_server)
    assert type(error) is ResponseError
    assert "nests deeper than 256 levels" in str(error) and str(error).startswith("poll: HTTP 200")


def test_nesting_up_to_the_limit_is_read(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, deep_nesting(254))  # + the reply object and `values`: 256
    page = run(poll(hostile_server.url))
    assert len(page.values) == 1
    hostile_server.on(endpoints.NODES_ASYNC_GET, deep_nesting(255))
    assert "nests deeper than 256" in str(poll_error(hostile_server))


def test_a_deep_error_body_is_quoted_as_text(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, Raw(b"[" * 100_000, status=400))
    error = poll_error(hostile_server)
    assert type(error) is InvalidRequest and "[[[[" in str(error) and len(str(error)) < 700


# --- point 6: size ----------------------------------------------------------------------------------------------

def test_an_endless_reply_stops_at_the_cap_and_the_connection_is_dropped(hostile_server: HostileServer) -> None:
    endless = hostile_server.on(endpoints.NODES_ASYNC_GET, Endless(chunk=b"[1]," * 16384, head=b'{"values":['))
    started = time.monotonic()
    error = poll_error(hostile_server, max_reply_bytes=2 * MiB)
    assert type(error) is ResponseError and "the reply is larger than 2 MiB, the limit of one reply" in str(error)
    assert time.monotonic() - started < 2.0
    time.sleep(0.2)  # the server notices the hang-up on its next write
    assert endless.served < 2 * MiB + 8 * MiB  # socket buffers, not the rest of an endless body


def test_a_huge_content_length_is_refused_before_reading(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, Raw(b'{"values": [', content_length=10**12))
    error = poll_error(hostile_server)
    assert type(error) is ResponseError and "larger than 64 MiB" in str(error)


def test_a_reply_just_under_the_cap_is_read(hostile_server: HostileServer) -> None:
    rows = [{"id": str(i), "pad": "x" * 1000} for i in range(900)]
    hostile_server.on(endpoints.NODES_ASYNC_GET, json_reply(done_page(rows)))
    assert len(run(poll(hostile_server.url, max_reply_bytes=1 * MiB)).values) == 900
    assert "larger than 524288 bytes" in str(poll_error(hostile_server, max_reply_bytes=MiB // 2))


def test_an_endless_error_body_is_cut_not_read_to_the_end(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, Endless(chunk=b"<html>" * 10000, status=502))
    error = poll_error(hostile_server, retry=RetryPolicy(max_attempts=1))
    assert type(error) is TransientError and error.status == 502 and "<html>" not in str(error)
    assert "HTTP 502: Bad Gateway (the body is an HTML page, not Veza's JSON" in str(error)


_PEAK = r"""
import asyncio, sys
from tests.support.own_peak import peak_kib
from runner.client import ApiError, ClientConfig, RetryPolicy, VezaClient
from runner.secret import Secret
async def main():
    config = ClientConfig(base_url=sys.argv[1], api_key=Secret("k"), retry=RetryPolicy(max_attempts=1))
    async with VezaClient(config) as veza:
        try:
            await veza.poll("qr-1", page_size=10)
        except ApiError as error:
            print(error)
asyncio.run(main())
print(peak_kib() // 1024)  # not ru_maxrss: that counts the pytest worker this child was spawned from
"""


def test_an_endless_page_costs_at_most_the_cap_in_memory(hostile_server: HostileServer) -> None:
    # Before the cap, a 150 MB page took 836 MiB and a 1 GiB one 3.4 GiB: the client kept reading.
    row = b'{"id":"' + b"x" * 90 + b'","type":"OktaUser"},'
    hostile_server.on(endpoints.NODES_ASYNC_GET, Endless(chunk=row * 600, head=b'{"status":"DONE","values":['))
    done = subprocess.run([sys.executable, "-c", _PEAK, hostile_server.url], capture_output=True, text=True,
                          timeout=60, cwd=REPO, env={"PYTHONPATH": str(REPO)}, check=True)
    message, peak = done.stdout.strip().splitlines()
    assert "larger than 64 MiB" in message
    assert int(peak) < 64 + 120, done.stdout  # the cap plus the interpreter and httpx (about 40 MiB)


# --- point 15: text and numbers ----------------------------------------------------------------------------------

def test_invalid_utf8_is_called_that_with_its_offset(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, Raw(b'{"status": "DONE", "values": [{"id": "\xff"}]}'))
    error = poll_error(hostile_server)
    assert type(error) is ResponseError
    assert "the reply is not valid UTF-8 (byte 0xff at offset 38)" in str(error)
    assert "not a JSON object" not in str(error)


@pytest.mark.parametrize(("number", "said"), [("NaN", "holds NaN"), ("Infinity", "holds Infinity"),
                                              ("-Infinity", "holds -Infinity"), ("1e999", "holds the number 1e999")])
def test_nan_and_infinity_are_protocol_errors(hostile_server: HostileServer, number: str, said: str) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, Raw(b'{"status":"DONE","values":[{"score":%s}]}' % number.encode()))
    error = poll_error(hostile_server)
    assert type(error) is ResponseError and said in str(error)


def test_a_json_reply_that_is_not_an_object_says_so(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.NODES_ASYNC_GET, json_reply([1, 2]))
    assert "the reply is JSON but not an object" in str(poll_error(hostile_server))
    hostile_server.on(endpoints.NODES_ASYNC_GET, Raw(b'{"status": "DONE",'))
    assert "the reply is not JSON (Expecting property name" in str(poll_error(hostile_server))


# --- point 16: an unreachable API ----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_first_connection_fails_at_once_with_one_line() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    lines: list[str] = []
    started = time.monotonic()

    async def check() -> None:
        async with client(url, retry=RetryPolicy(max_attempts=10), notify=lines.append) as veza:
            await veza.check_connection()

    with pytest.raises(ApiError) as caught:
        run(check())
    assert not isinstance(caught.value, TransientError) and time.monotonic() - started < 1.0
    assert str(caught.value) == (f"connection check: cannot connect to {url}: connection refused (nothing listens "
                                 "there: check the environment's url or VEZA_URL)")
    assert lines == []


def test_every_retry_of_the_connection_check_is_announced(hostile_server: HostileServer) -> None:
    unavailable = Raw(b'{"code": "Unavailable", "message": "starting"}', status=503)
    hostile_server.on(endpoints.CONNECTION_CHECK, InTurn([unavailable, unavailable, json_reply({})]))
    lines: list[str] = []

    async def check() -> None:
        async with client(hostile_server.url, retry=RetryPolicy(base=0.01, cap=0.02, max_attempts=5),
                          notify=lines.append) as veza:
            await veza.check_connection()

    run(check())
    assert len(lines) == 2
    assert lines[0].startswith(f"cannot connect to {hostile_server.url} (starting), retrying (attempt 2 of 5, next in")
    assert lines[1].startswith(f"cannot connect to {hostile_server.url} (starting), retrying (attempt 3 of 5, next in")


def test_a_slow_connection_check_ends_at_the_deadline(hostile_server: HostileServer) -> None:
    hostile_server.on(endpoints.CONNECTION_CHECK, Slow(30.0, json_reply({})))
    lines: list[str] = []
    started = time.monotonic()

    async def check() -> None:
        async with client(hostile_server.url, retry=RetryPolicy(attempt_timeout=0.3, max_attempts=10),
                          notify=lines.append) as veza:
            await veza.check_connection(deadline=veza.now() + 1.0)

    with pytest.raises(DeadlineExceeded):
        run(check())
    assert time.monotonic() - started < 1.5
    assert lines and "no complete reply within 0.3s" in lines[0]

