"""The client's sharded connection pools (runner/client_pool.py) against a real HTTP server on 127.0.0.1: concurrent
requests each get a connection, connections are kept alive and reused, and every shard's count of requests in flight
returns to zero after replies, errors and cancellations."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runner.client.pool import SHARD_SIZE, ShardedTransport, sharded_transport
from tests.acceptance.run_project import serve_asgi


class _Recorder:
    """An ASGI app that holds each request until `release` is set, answering with the client's port."""

    def __init__(self) -> None:
        self.ports: set[int] = set()
        self.arrived = 0
        self.release = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.arrived += 1
        self.ports.add(scope["client"][1])
        while not self.release.is_set():
            await asyncio.sleep(0.005)
        body = str(scope["client"][1]).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def server() -> Iterator[tuple[str, _Recorder]]:
    app = _Recorder()
    with serve_asgi(app) as url:
        try:
            yield url, app
        finally:
            app.release.set()  # let held requests finish, so the server can stop


def _busy(transport: ShardedTransport) -> list[int]:
    return list(transport.in_flight)


def test_shard_sizes_cover_the_connection_limit() -> None:
    for total in (1, 7, 8, 9, 16, 58, 1008):
        transport = sharded_transport(max_connections=total, verify=True)
        assert transport.per_shard <= SHARD_SIZE
        assert transport.shard_count * transport.per_shard >= total
        assert (transport.shard_count - 1) * transport.per_shard < total  # no shard more than needed


def test_concurrent_requests_spread_over_shards_and_connections_are_reused(server: tuple[str, _Recorder]) -> None:
    url, app = server
    transport = sharded_transport(max_connections=20, verify=True)

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=url, transport=transport) as client:
            pending = [asyncio.ensure_future(client.get("/")) for _ in range(20)]
            while app.arrived < 20:  # all 20 are held by the server at once: each has its own connection
                await asyncio.sleep(0.005)
            assert sum(_busy(transport)) == 20 and max(_busy(transport)) <= transport.per_shard
            app.release.set()
            replies = await asyncio.gather(*pending)
            assert {int(r.text) for r in replies} == app.ports and len(app.ports) == 20
            assert _busy(transport) == [0] * transport.shard_count
            again = await asyncio.gather(*(client.get("/") for _ in range(20)))
            assert {int(r.text) for r in again} <= app.ports  # kept alive: no new connection
            assert len(app.ports) == 20 and _busy(transport) == [0] * transport.shard_count

    asyncio.run(scenario())


def test_errors_and_cancellations_release_their_shard(server: tuple[str, _Recorder]) -> None:
    url, app = server
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound but never listening, and kept bound: connections are refused
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    transport = sharded_transport(max_connections=4, verify=True)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(dead + "/")
            assert _busy(transport) == [0] * transport.shard_count
            waiting = asyncio.ensure_future(client.get(url + "/"))
            while app.arrived < 1:
                await asyncio.sleep(0.005)
            assert sum(_busy(transport)) == 1
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert _busy(transport) == [0] * transport.shard_count
            app.release.set()
            async with client.stream("GET", url + "/") as streamed:
                assert sum(_busy(transport)) == 1  # the body is unread: its connection is still taken
                await streamed.aread()
            assert _busy(transport) == [0] * transport.shard_count

    try:
        asyncio.run(scenario())
    finally:
        closed.close()
