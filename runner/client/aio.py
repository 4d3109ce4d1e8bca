"""The client's HTTP transport: aiohttp sends and receives every request, by one of two routes.

`AiohttpTransport(max_connections=, ssl_context=)` is an `httpx.AsyncBaseTransport` (`mounted` gives it to a client
with or without the environment's proxies): httpx builds the request and reads the reply. `DirectRoute(transport,
http)` sends on the same session without httpx's models, with the client's headers and timeouts; client/exchange.py
takes it where ours is the client's only transport (no proxy) for every request without query parameters while
the client's cookie jar is empty. The session (one pool of at most `max_connections` kept-alive connections, our TLS
context) is opened on the first request, inside the running loop, and closed by `aclose`. aiohttp's exceptions
become httpx's by what they say of delivery (`translated`), on both routes, so `client/errors.py` classifies them as
before; a reply's body is streamed, and releasing it returns its connection (an unread body closes it). Why: per
request, httpcore's pool costs ~1 ms of CPU (about 4 ms in one pool of 50, which `pool.ShardedTransport` used to
split); aiohttp's C parser and pool cost ~0.3 ms, and httpx's request and reply models about as much again.
"""

from __future__ import annotations

import logging
import ssl
import urllib.request
from collections.abc import AsyncIterator, Callable

import aiohttp
import httpx
from yarl import URL

from runner.client.body import Received, read_capped

log = logging.getLogger("vqr.client")

# httpx's own keep-alive expiry: an idle connection is dropped before a server's usual 5 s keep-alive closes it under
# a request (a submit sent on a connection the server is closing has an unknown outcome).
KEEPALIVE_SECONDS = 5.0
# Connections at most, whatever the run's concurrency. A query holds a connection only while one of its requests is
# in flight (milliseconds), not while its job runs, so 200 queries in flight need far fewer; and each asyncio TLS
# connection keeps about 0.6 MiB of buffers: at concurrency 200 a pool of 208 cost 130 MiB of the run's memory.
POOL_MAX = 48


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int, ssl_context: ssl.SSLContext) -> None:
        self._limit = max_connections
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=min(self._limit, POOL_MAX), ssl=self._ssl,
                                         keepalive_timeout=KEEPALIVE_SECONDS)
        # No total timeout (aiohttp's default cuts every exchange at 5 minutes): the caller's asyncio.timeout and the
        # per-phase timeouts below bound it. httpx decodes gzip (the byte cap counts decoded bytes) and keeps the
        # cookies; aiohttp never reads the environment (proxies are httpx's: VezaClient mounts this transport).
        self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None),
                                              auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
                                              trust_env=False)
        return self._session

    def session(self) -> aiohttp.ClientSession:
        if self._closed:  # as httpx refuses a closed client: a new session here would never be closed
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        return self._session or self._open()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        # Headers from their raw bytes: httpx's `multi_items` works out their encoding again on every call.
        try:
            reply = await self.session().request(
                request.method, URL(str(request.url), encoded=True),  # httpx has already percent-encoded it
                headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw],
                data=body or None, allow_redirects=False,
                timeout=client_timeout(timeout.get("connect"), timeout.get("read"), timeout.get("pool")))
        except (aiohttp.ClientError, OSError) as error:
            raise translated(error) from error
        return httpx.Response(reply.status, headers=reply.raw_headers, stream=_Body(reply), request=request,
                              extensions={"http_version": b"HTTP/1.1",
                                          "reason_phrase": (reply.reason or "").encode("latin-1", "replace")})

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def mounted(*, max_connections: int, ssl_context: ssl.SSLContext, trust_env: bool,
            ) -> tuple[httpx.AsyncBaseTransport | None, dict[str, httpx.AsyncBaseTransport] | None,
                       Callable[[httpx.AsyncClient], DirectRoute] | None]:
    """Ours as a `VezaClient`'s `(transport, mounts, direct)`: its only transport, with the direct route on it
    (`direct(client)`), or, with proxies in the environment that `trust_env` lets httpx read, mounted for every URL
    and no direct route (httpx's proxies apply to every request)."""
    ours = AiohttpTransport(max_connections=max_connections, ssl_context=ssl_context)
    if trust_env and urllib.request.getproxies():  # what httpx reads: HTTPS_PROXY and friends
        # Mounted for every URL rather than passed as `transport`: httpx reads the proxies only for a client without
        # a transport of its own. "all://*" is "all://" under another key, so ALL_PROXY's mount stays, and ranks
        # first (sorting keeps insertion order among equals); a NO_PROXY match gets httpx's own transport.
        return None, {"all://*": ours}, None
    # No proxy to read: ours is the client's only transport, and httpx builds no default one of its own (httpcore's
    # pool, its import and anyio's at close: about 0.1 s of a run's start-up).
    return ours, None, lambda http: DirectRoute(ours, http)


def client_timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    """httpx's per-phase timeouts as aiohttp's: no total (aiohttp's default cuts every exchange at 5 minutes; the
    caller's asyncio.timeout bounds it), waiting for a pooled connection counted with connecting."""
    return aiohttp.ClientTimeout(total=None, sock_read=read, sock_connect=connect,
                                 connect=None if pool is None or connect is None else pool + connect)


# What the direct route offers: the encodings aiohttp itself decodes (httpx's offer can name br or zstd when their
# packages are installed, which aiohttp may decode with other packages or not at all).
DIRECT_ENCODINGS = "gzip, deflate"
MAX_DIRECT_URLS = 64  # paths whose aiohttp URL is kept, as exchange.MAX_MERGED_URLS


class DirectRoute:
    """One exchange by aiohttp alone, as httpx would have sent it: the client's headers (its Accept-Encoding narrowed
    to DIRECT_ENCODINGS, decoded by aiohttp), JSON bodies as httpx encodes them, the client's timeouts, redirects
    not followed, errors `translated`. The reply's `httpx.Response` is built only when asked (`Received.response`)."""

    def __init__(self, transport: AiohttpTransport, http: httpx.AsyncClient) -> None:
        self._transport = transport
        self._http = http
        base = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in http.headers.raw
                if name.lower() != b"accept-encoding"]
        self._headers = [*base, ("Accept-Encoding", DIRECT_ENCODINGS)]
        self._json_headers = [*self._headers, ("Content-Type", "application/json")]
        timeout = http.timeout
        self._timeout = client_timeout(timeout.connect, timeout.read, timeout.pool)
        self._urls: dict[str, URL] = {}

    async def send(self, method: str, path: str, url: httpx.URL, body: bytes | None, *, max_reply_bytes: int,
                   operation: str) -> Received:
        """`url` is `path` merged under the client's base URL (exchange.MergedUrls)."""
        target = self._urls.get(path)
        if target is None:
            target = URL(str(url), encoded=True)  # httpx has already percent-encoded it
            if len(self._urls) < MAX_DIRECT_URLS:
                self._urls[path] = target
        try:
            reply = await self._transport.session().request(
                method, target, headers=self._headers if body is None else self._json_headers, data=body,
                allow_redirects=False, timeout=self._timeout, auto_decompress=True)
        except (aiohttp.ClientError, OSError) as error:
            raise translated(error) from error
        if "set-cookie" in reply.headers:  # into the jar before the body, as httpx does: kept if the read fails
            self._http.cookies.extract_cookies(_as_httpx(reply, method, url, b""))
        try:
            data = await read_capped(_chunks(reply), status=reply.status, headers=reply.headers,
                                     max_reply_bytes=max_reply_bytes, operation=operation)
        finally:
            reply.release()  # to the pool when read to its end; else aiohttp closes the connection
        if log.isEnabledFor(logging.INFO):  # `vqr -v`: every HTTP call, in httpx's words for its own route
            log.info('HTTP Request: %s %s "HTTP/1.1 %d %s"', method, url, reply.status, reply.reason or "")
        return Received(status=reply.status, headers=reply.headers, data=data,
                        response=lambda: _as_httpx(reply, method, url, data))


def _as_httpx(reply: aiohttp.ClientResponse, method: str, url: httpx.URL, data: bytes) -> httpx.Response:
    """The reply as httpx's model, its body already decoded (so without its Content-Encoding: httpx would decode it
    again)."""
    headers = [(name, value) for name, value in reply.raw_headers if name.lower() != b"content-encoding"]
    return httpx.Response(reply.status, headers=headers, content=data, request=httpx.Request(method, url),
                          extensions={"http_version": b"HTTP/1.1",
                                      "reason_phrase": (reply.reason or "").encode("latin-1", "replace")})


async def _chunks(reply: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in reply.content.iter_any():
            yield chunk
    except (aiohttp.ClientError, OSError) as error:
        raise translated(error) from error


class _Body(httpx.AsyncByteStream):
    def __init__(self, reply: aiohttp.ClientResponse) -> None:
        self._reply = reply

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in _chunks(self._reply):
            yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end; otherwise aiohttp closes the connection (never drains).
        self._reply.release()


def translated(error: BaseException) -> httpx.TransportError:
    """The httpx exception for an aiohttp (or socket) failure, chosen by whether the request can have arrived: only
    a failure to get a connection (refused, DNS, TLS handshake or certificate, connect or pool timeout) proves it
    did not; every failure once it was being sent is one whose outcome is unknown."""
    text = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text)
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text)
    if isinstance(error, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(text)
    if isinstance(error, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(text)
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(text)  # closed without (a whole) reply, or a reply that is not HTTP
    return httpx.ReadError(text)  # a reset or another socket failure after the connection was up
