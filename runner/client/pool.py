"""The client's HTTP transport: several small httpx connection pools instead of one large one, each request sent
through the pool with the fewest requests in flight.

`sharded_transport(max_connections=, verify=)` returns an `httpx.AsyncBaseTransport`; no I/O until a request.
Why: httpcore's pool walks every connection it holds, polling each idle socket, on every request and every
response close, so one pool of N connections costs O(N) syscalls per request; at concurrency 50 that was a third
of the runner's CPU. Pools of at most `SHARD_SIZE` connections keep that constant.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator, Callable

import httpx

SHARD_SIZE = 8


class _Released(httpx.AsyncByteStream):
    """A response body that tells its shard when it is closed: only then is its connection free again."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class ShardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, shards: list[httpx.AsyncHTTPTransport], per_shard: int) -> None:
        self._shards = shards
        self._busy = [0] * len(shards)
        self.per_shard = per_shard

    @property
    def shard_count(self) -> int:
        return len(self._shards)

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Requests per shard whose response body is not closed yet."""
        return tuple(self._busy)

    def _pick(self) -> int:
        busy = self._busy
        return min(range(len(busy)), key=busy.__getitem__)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._pick()
        self._busy[index] += 1

        def release() -> None:
            self._busy[index] -= 1

        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Released(response.stream, release)
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def sharded_transport(*, max_connections: int, verify: ssl.SSLContext | bool,
                      trust_env: bool = True) -> ShardedTransport:
    """About `max_connections` connections in all (never fewer), in pools of at most `SHARD_SIZE`. One TLS context
    is shared: building one loads the CA bundle, which costs milliseconds. `trust_env` as in httpx (SSL_CERT_FILE)."""
    context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify,
                                                                                          trust_env=trust_env)
    count = math.ceil(max_connections / SHARD_SIZE)
    per_shard = math.ceil(max_connections / count)
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
    return ShardedTransport([httpx.AsyncHTTPTransport(verify=context, limits=limits) for _ in range(count)],
                            per_shard)
