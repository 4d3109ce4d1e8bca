"""One HTTP exchange with the tenant: send, read the body under its cap, and turn every outcome into a JSON object
or an `ApiError` (httpx exceptions are translated here, the error body by `client/errors.py`). No retrying: that is
`VezaClient._retrying`'s. Network I/O through a client's `Sender`: its `httpx.AsyncClient`, each path's URL merged
once (`MergedUrls`), and, where the client has one, aiohttp's direct route (client/aio.py `DirectRoute`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from runner.client.body import Received, read_capped
from runner.client.decode import decode_json
from runner.client.errors import (
    ApiError,
    Delivery,
    ResponseError,
    TransientError,
    error_from_response,
    error_from_transport,
    markup_kind,
    request_id_in,
)
from runner.client.retry import parse_retry_after
from runner.model import JSONObject
from runner.secret import Secret

if TYPE_CHECKING:  # aiohttp loads only with the client's own transport
    from runner.client.aio import DirectRoute

MAX_MERGED_URLS = 64  # paths whose merged URL is kept: a run's are a handful; saved-query ids each add one


class MergedUrls:
    """Each path under a client's base URL, merged once per path by httpx itself (its rules): httpx parses and
    merges both on every request it is given a relative path for, about an eighth of its CPU per request. A path
    httpx cannot merge is given back as is, so the exchange fails on it as it always did."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._urls: dict[str, httpx.URL] = {}

    def __len__(self) -> int:
        return len(self._urls)

    def of(self, path: str) -> httpx.URL | str:
        url = self._urls.get(path)
        if url is None:
            try:
                url = self._http.build_request("GET", path).url
            except httpx.InvalidURL:
                return path
            if len(self._urls) < MAX_MERGED_URLS:
                self._urls[path] = url
        return url


class Sender:
    """How one client's requests go out. By `direct` (aiohttp alone) when the client has that route, the request
    has no query parameters and the cookie jar is empty; else by httpx, which adds the jar's cookies. A reply that
    sets a cookie is put in the jar either way (before its body is read), so from then on every request carries
    it (by httpx). `seen` is told the headers of every successful reply (the client's server Date)."""

    def __init__(self, http: httpx.AsyncClient, *, direct: DirectRoute | None = None,
                 seen: Callable[[Mapping[str, str]], None] = lambda headers: None) -> None:
        self.http = http
        self.urls = MergedUrls(http)
        self.direct = direct
        self.seen = seen

    async def send(self, operation: str, method: str, path: str, body: JSONObject | None, *,
                   params: Mapping[str, str] | None, max_reply_bytes: int) -> Received:
        url = self.urls.of(path)
        if self.direct is not None and params is None and isinstance(url, httpx.URL) and not self.http.cookies:
            # The body's bytes as httpx writes them (httpx/_content.py encode_json): no NaN, UTF-8, compact.
            data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                                                         allow_nan=False).encode()
            return await self.direct.send(method, path, url, data, max_reply_bytes=max_reply_bytes,
                                          operation=operation)
        request = self.http.build_request(method, url, json=body, params=params)
        response = await self.http.send(request, stream=True)
        try:
            data = await read_capped(response.aiter_bytes(), status=response.status_code, headers=response.headers,
                                     max_reply_bytes=max_reply_bytes, operation=operation)
        finally:
            await response.aclose()
        return Received(status=response.status_code, headers=response.headers, data=data, response=lambda: response)


async def exchange(sender: Sender, operation: str, method: str, path: str, body: JSONObject | None, timeout: float,
                   *, params: Mapping[str, str] | None, max_reply_bytes: int,
                   secret: Secret) -> tuple[JSONObject, str | None]:
    """The reply object of one request and its request id (the body's, else a header's), all within `timeout`."""
    try:
        async with asyncio.timeout(timeout):
            received = await sender.send(operation, method, path, body, params=params, max_reply_bytes=max_reply_bytes)
    except TimeoutError:
        raise TransientError(f"no complete reply within {timeout:.1f}s", operation=operation,
                             delivery=Delivery.UNKNOWN) from None
    except httpx.UnsupportedProtocol as error:
        raise ApiError(str(error), operation=operation) from None
    except httpx.TransportError as error:
        raise error_from_transport(error, operation=operation, secret=secret) from error
    except httpx.HTTPError as error:
        raise ResponseError(f"{type(error).__name__}: {error}", operation=operation) from error
    data = received.data
    if not received.ok:
        retry_after = parse_retry_after(received.headers.get("retry-after"))
        raise error_from_response(received.response(), data, operation=operation, secret=secret,
                                  retry_after=retry_after)
    sender.seen(received.headers)
    try:
        reply: Any = decode_json(data)
    except ValueError as error:
        markup = markup_kind(received.response(), data)  # a sign-in or proxy page: named, never quoted or parsed
        raise ResponseError(f"the reply is {markup}, not JSON (a proxy or sign-in page answered instead of "
                            "Veza's API)" if markup else f"the reply {error}", operation=operation,
                            status=received.status, request_id=request_id_in(received.headers)) from None
    if not isinstance(reply, dict):
        raise ResponseError("the reply is JSON but not an object", operation=operation, status=received.status,
                            request_id=request_id_in(received.headers))
    request_id = reply.get("request_id")
    return reply, str(request_id) if isinstance(request_id, str) and request_id else request_id_in(received.headers)
