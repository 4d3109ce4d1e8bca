"""The client's aiohttp transport (runner/client/aio.py) over real sockets on 127.0.0.1: how each way a request can
fail is classed (a submit that may have arrived is resent as cached, one refused at the door as is), the key never
reaches an error's text, the connection cap and keep-alive hold, an unread body or a cancellation frees its
connection, gzip is decoded, and HTTPS_PROXY or ALL_PROXY is honoured for a remote URL."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import re
import socket
import struct
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from runner.client import aio
from runner.client.aio import AiohttpTransport
from runner.client.api import ClientConfig, VezaClient
from runner.client.errors import Delivery, ResponseError, TransientError
from runner.client.retry import RetryPolicy
from runner.secret import Secret

CANARY = "canary-aio-7f3e91c2"
IMMEDIATE: dict[str, Any] = {"immediate_run": {"request": {"body": {"query_type": "SOURCE_TO_DESTINATION"}}}}
CREATED = json.dumps({"query_result_id": "qr-1", "cache_id": "c-1"}).encode()
QUICK = RetryPolicy(base=0.01, cap=0.02, max_attempts=3, attempt_timeout=5.0, request_deadline=10.0)


class Wire:
    """A small keep-alive HTTP/1.1 server inside the test's loop. Each request takes the next of `faults` (then
    "ok"); it keeps every request's head and body and every client port, and holds replies while `hold` is set."""

    def __init__(self, faults: list[str] | None = None, *, body: bytes = CREATED, gzipped: bool = False,
                 headers: bytes = b"") -> None:
        self.faults = list(faults or [])
        self.body = body
        self.gzipped = gzipped
        self.headers = headers  # extra header lines of every successful reply, each ending in CRLF
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self.ports: set[int] = set()
        self.arrived = 0
        self.hold = False
        self.release = asyncio.Event()
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Wire:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.ports.add(writer.get_extra_info("peername")[1])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                self.heads.append(head)
                self.bodies.append(await reader.readexactly(int(length.group(1)) if length else 0))
                self.arrived += 1
                if not await self._answer(head, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    async def _answer(self, head: bytes, writer: asyncio.StreamWriter) -> bool:
        fault = self.faults.pop(0) if self.faults else "ok"
        if fault == "close":  # the request arrived; no reply at all
            return False
        if fault in ("reset", "cut"):
            if fault == "cut":  # half a reply, then a reset
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"query_res")
                await writer.drain()
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault == "garbage":  # a status line that is not HTTP, quoting the request's Authorization header
            auth = re.search(rb"(?i)\r\nauthorization: *([^\r]*)", head)
            writer.write(b"HTTP/1.1 2x0 " + (auth.group(1) if auth else b"") + b"\r\n\r\n")
            await writer.drain()
            return False
        if fault == "forbidden":
            writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            return False
        if fault == "throttled":  # Veza's error body, gzipped, with a Retry-After and a request id header
            error = gzip.compress(json.dumps({"code": "ResourceExhausted", "message": "slow down",
                                              "request_id": ""}).encode())
            writer.write(b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
                         b"content-encoding: gzip\r\nretry-after: 2\r\nx-request-id: req-429\r\n"
                         b"content-length: " + str(len(error)).encode() + b"\r\n\r\n" + error)
            await writer.drain()
            return True
        if self.hold:
            await self.release.wait()
        body = gzip.compress(self.body) if self.gzipped else self.body
        encoding = b"content-encoding: gzip\r\n" if self.gzipped else b""
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + encoding + self.headers +
                     b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        return True


def veza(url: str, route: str = "direct", **overrides: Any) -> VezaClient:
    """A client of ours. By aiohttp alone (`direct`, what a run without a proxy uses), or by httpx over aiohttp:
    a cookie in the jar sends every request by httpx, which adds the cookies (client/exchange.py `Sender`)."""
    client = VezaClient(ClientConfig(base_url=url, api_key=Secret(CANARY), retry=overrides.pop("retry", QUICK),
                                     **overrides))
    if route == "httpx":
        client._http.cookies.set("route", "httpx")
    return client


ROUTES = pytest.mark.parametrize("route", ["direct", "httpx"])


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


@ROUTES
@pytest.mark.parametrize("fault", ["close", "reset", "cut", "garbage"])
def test_a_submit_that_may_have_arrived_is_resent_as_cached(fault: str, route: str) -> None:
    async def scenario() -> None:
        async with Wire([fault]) as wire, veza(wire.url, route) as client:
            submitted = await client.submit(IMMEDIATE)
        assert submitted.resent_as_cached and submitted.attempts == 2
        assert list(json.loads(wire.bodies[0])) == ["immediate_run"]
        assert list(json.loads(wire.bodies[1])) == ["cached_result_if_available"]

    run(scenario)


@ROUTES
def test_a_refused_connection_is_not_delivered_and_says_so(route: str) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound but never listening, and kept bound: connections are refused

    async def scenario() -> None:
        async with veza(f"http://127.0.0.1:{closed.getsockname()[1]}", route,
                        retry=RetryPolicy(base=0.01, cap=0.02, max_attempts=2)) as client:
            with pytest.raises(TransientError) as caught:
                await client.submit(IMMEDIATE)
        assert caught.value.delivery is Delivery.NOT_DELIVERED and caught.value.refused
        assert "ConnectError" in str(caught.value)

    try:
        run(scenario)
    finally:
        closed.close()


@ROUTES
def test_a_reply_slower_than_the_read_timeout_has_an_unknown_outcome(route: str) -> None:
    async def scenario() -> None:
        async with Wire() as wire, veza(wire.url, route, read_timeout=0.2,
                                        retry=RetryPolicy(max_attempts=1, attempt_timeout=30.0)) as client:
            wire.hold = True
            with pytest.raises(TransientError) as caught:
                await client.submit(IMMEDIATE)
        assert caught.value.delivery is Delivery.UNKNOWN and "ReadTimeout" in str(caught.value)

    run(scenario)


@ROUTES
def test_a_broken_reply_quoting_the_key_never_gets_it_into_the_error(route: str) -> None:
    async def scenario() -> None:
        async with Wire(["garbage"]) as wire, veza(wire.url, route, retry=RetryPolicy(max_attempts=1)) as client:
            with pytest.raises(TransientError) as caught:
                await client.submit(IMMEDIATE)
        assert b"Bearer " + CANARY.encode() in wire.heads[0]  # it was sent, and quoted back
        text = str(caught.value)
        assert "RemoteProtocolError" in text and CANARY not in text and "\n" not in text
        assert caught.value.delivery is Delivery.UNKNOWN

    run(scenario)


def transport(limit: int) -> AiohttpTransport:
    return AiohttpTransport(max_connections=limit, ssl_context=httpx.create_ssl_context())


def test_connections_are_capped_and_kept_alive() -> None:
    async def scenario() -> None:
        async with Wire() as wire, httpx.AsyncClient(base_url=wire.url, transport=transport(4)) as client:
            replies = await asyncio.gather(*(client.get("/") for _ in range(12)))
            assert all(r.json() == json.loads(CREATED) for r in replies)
            assert len(wire.ports) == 4  # 12 requests at once, never more than 4 connections
            await asyncio.gather(*(client.get("/") for _ in range(12)))
            assert len(wire.ports) == 4 and wire.arrived == 24  # kept alive: no new connection

    run(scenario)


def test_a_large_concurrency_shares_a_bounded_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections stop at POOL_MAX whatever the concurrency: requests are brief, each TLS connection is not."""
    monkeypatch.setattr(aio, "POOL_MAX", 3)

    async def scenario() -> None:
        async with Wire() as wire, httpx.AsyncClient(base_url=wire.url, transport=transport(200)) as client:
            replies = await asyncio.gather(*(client.get("/") for _ in range(20)))
            assert all(r.status_code == 200 for r in replies)
            assert len(wire.ports) == 3 and wire.arrived == 20

    run(scenario)


def test_an_unread_body_closes_its_connection_and_a_read_one_is_reused() -> None:
    async def scenario() -> None:
        async with Wire(body=b"[" + b"0," * (1 << 20) + b"0]") as wire, \
                httpx.AsyncClient(base_url=wire.url, transport=transport(1)) as client:
            async with client.stream("GET", "/") as unread:
                assert unread.status_code == 200  # closed with most of 2 MiB unread
            (await client.get("/")).raise_for_status()
            assert len(wire.ports) == 2  # the unread one was dropped, not drained or reused
            (await client.get("/")).raise_for_status()
            assert len(wire.ports) == 2  # the read one went back to the pool

    run(scenario)


def test_a_cancelled_request_frees_its_connection() -> None:
    async def scenario() -> None:
        async with Wire() as wire, httpx.AsyncClient(base_url=wire.url, transport=transport(1)) as client:
            wire.hold = True
            waiting = asyncio.ensure_future(client.get("/"))
            while wire.arrived < 1:
                await asyncio.sleep(0.005)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            wire.hold = False
            async with asyncio.timeout(10):  # the one connection is free again: this cannot wait for it forever
                assert (await client.get("/")).json() == json.loads(CREATED)

    run(scenario)


@ROUTES
def test_a_gzipped_reply_is_decoded(route: str) -> None:
    async def scenario() -> None:
        async with Wire(gzipped=True) as wire, veza(wire.url, route) as client:
            submitted = await client.submit(IMMEDIATE)
        assert submitted.query_result_id == "qr-1" and b"accept-encoding: gzip" in wire.heads[0].lower()

    run(scenario)


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
def test_env_proxies_are_honoured_for_a_remote_url(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    async def scenario() -> None:
        async with Wire(["forbidden"]) as proxy:
            for name in ("NO_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
                monkeypatch.delenv(name, raising=False)
                monkeypatch.delenv(name.lower(), raising=False)
            monkeypatch.setenv(variable, proxy.url)
            async with veza("https://acme.vezacloud.test", retry=RetryPolicy(max_attempts=1)) as client:
                assert client._sender.direct is None  # every request by httpx, which applies the proxy
                with pytest.raises(TransientError, match="ProxyError"):  # the proxy refuses the tunnel
                    await client.submit(IMMEDIATE)
        assert proxy.heads and proxy.heads[0].startswith(b"CONNECT acme.vezacloud.test:443 HTTP/1.1\r\n")

    run(scenario)


def test_without_env_proxies_ours_is_the_clients_only_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx builds no default transport of its own beside ours (httpcore's pool, imported for nothing)."""
    for name in ("NO_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)

    async def scenario() -> None:
        async with veza("https://acme.vezacloud.test") as client:
            assert isinstance(client._http._transport, AiohttpTransport)
            assert client._http._mounts == {}
            assert client._sender.direct is not None  # and aiohttp alone sends what it can

    run(scenario)


def _head_lines(head: bytes) -> list[bytes]:
    return sorted(line.lower() for line in head.split(b"\r\n")[1:] if line)


def test_both_routes_send_the_same_request() -> None:
    """The direct route writes what httpx would: the same method and path, headers and JSON bytes (only the
    cookie that picks the httpx route differs)."""
    spec: dict[str, Any] = {"immediate_run": {"request": {"body": {"query_type": "SOURCE_TO_DESTINATION",
                                                                  "name": "Zoë ✓"}}}}

    async def scenario() -> None:
        async with Wire() as wire:
            for route in ("direct", "httpx"):
                async with veza(wire.url, route) as client:
                    await client.submit(spec)
                    await client.poll("qr-1", page_size=7)
        direct, by_httpx = wire.heads[:2], wire.heads[2:]
        for one, other in zip(direct, by_httpx, strict=True):
            assert one.split(b"\r\n")[0] == other.split(b"\r\n")[0]
            assert _head_lines(one) == [line for line in _head_lines(other) if not line.startswith(b"cookie:")]
        assert b"authorization: bearer " + CANARY.lower().encode() in _head_lines(direct[0])
        assert wire.bodies[:2] == wire.bodies[2:] and json.loads(wire.bodies[0]) == spec

    run(scenario)


def test_a_cookie_a_reply_sets_is_sent_with_every_later_request() -> None:
    async def scenario() -> None:
        async with Wire(headers=b"set-cookie: AWSALB=sticky-1; Path=/\r\n") as wire, veza(wire.url) as client:
            await client.submit(IMMEDIATE)
            await client.submit(IMMEDIATE)
            await client.poll("qr-1", page_size=7)
        assert b"cookie:" not in wire.heads[0].lower()
        assert all(b"\r\ncookie: awsalb=sticky-1" in head.lower() for head in wire.heads[1:])

    run(scenario)


def test_an_error_reply_reads_the_same_by_both_routes() -> None:
    errors: dict[str, TransientError] = {}

    async def scenario() -> None:
        for route in ("direct", "httpx"):
            async with Wire(["throttled"]) as wire, veza(wire.url, route, retry=RetryPolicy(max_attempts=1)) as client:
                with pytest.raises(TransientError) as caught:
                    await client.submit(IMMEDIATE)
                errors[route] = caught.value

    run(scenario)
    direct, by_httpx = errors["direct"], errors["httpx"]
    assert str(direct) == str(by_httpx) and "slow down" in str(direct)
    assert (direct.status, direct.code, direct.request_id, direct.delivery) == \
        (429, "ResourceExhausted", "req-429", Delivery.NOT_DELIVERED) == \
        (by_httpx.status, by_httpx.code, by_httpx.request_id, by_httpx.delivery)


@ROUTES
def test_the_first_replys_date_is_the_servers_clock(route: str) -> None:
    async def scenario() -> None:
        async with Wire(headers=b"date: Wed, 02 Dec 2026 07:00:00 GMT\r\n") as wire, veza(wire.url, route) as client:
            await client.check_connection()
            assert client.server_date == datetime(2026, 12, 2, 7, tzinfo=UTC)

    run(scenario)


@ROUTES
def test_a_reply_over_the_cap_is_refused_and_its_connection_dropped(route: str) -> None:
    async def scenario() -> None:
        async with Wire(body=b'{"values": [' + b"0," * (1 << 20) + b"0]}") as wire, \
                veza(wire.url, route, max_reply_bytes=1 << 20) as client:
            with pytest.raises(ResponseError, match="larger than 1 MiB"):
                await client.poll("qr-1", page_size=7)
            wire.body = CREATED
            await client.submit(IMMEDIATE)
        assert len(wire.ports) == 2  # the refused reply's connection was dropped, not drained or reused

    run(scenario)


@ROUTES
def test_every_request_is_logged_at_info_by_either_route(route: str, caplog: pytest.LogCaptureFixture) -> None:
    """`vqr -v` logs every HTTP call (README): httpx's line on its route, the same words on the direct one."""
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with Wire() as wire, veza(wire.url, route) as client:
            await client.submit(IMMEDIATE)
            url = wire.url

        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("HTTP Request:")]
        assert lines == [f'HTTP Request: POST {url}/api/v1/assessments/query_spec:nodes_async_create '
                         '"HTTP/1.1 200 OK"']
        assert CANARY not in caplog.text

    run(scenario)


@ROUTES
def test_a_closed_client_refuses_to_send(route: str) -> None:
    """Not a new session that nothing would close: the direct route refuses as httpx does."""
    async def scenario() -> None:
        async with Wire() as wire:
            client = veza(wire.url, route)
            await client.submit(IMMEDIATE)
            await client.aclose()
            with pytest.raises(RuntimeError, match="client has been closed"):
                await client.submit(IMMEDIATE)
            assert wire.arrived == 1

    run(scenario)


@ROUTES
def test_a_cookie_on_a_refused_reply_is_kept(route: str) -> None:
    async def scenario() -> None:
        async with Wire(body=b'{"values": [' + b"0," * (1 << 20) + b"0]}",
                        headers=b"set-cookie: AWSALB=sticky-2; Path=/\r\n") as wire, \
                veza(wire.url, route, max_reply_bytes=1 << 20) as client:
            with pytest.raises(ResponseError, match="larger than"):
                await client.poll("qr-1", page_size=7)
            wire.body = CREATED
            await client.submit(IMMEDIATE)
        cookie = next(line for line in wire.heads[-1].lower().split(b"\r\n") if line.startswith(b"cookie:"))
        assert b"awsalb=sticky-2" in cookie

    run(scenario)
