"""One HTTP exchange with the tenant: send, read the body under its cap, and turn every outcome into a JSON object
or an `ApiError` (httpx exceptions are translated here, the error body by `client/errors.py`). No retrying: that is
`VezaClient._retrying`'s. Network I/O on the caller's `httpx.AsyncClient`; `MergedUrls` gives it each path's URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from runner.client.body import ERROR_BODY_BYTES, read_body
from runner.client.decode import decode_json
from runner.client.errors import (
    ApiError,
    Delivery,
    ResponseError,
    TransientError,
    error_from_response,
    error_from_transport,
    markup_kind,
    request_id_of,
)
from runner.client.retry import parse_retry_after
from runner.model import JSONObject
from runner.secret import Secret

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


async def exchange(http: httpx.AsyncClient, operation: str, method: str, path: httpx.URL | str,
                   body: JSONObject | None, timeout: float, *, params: Mapping[str, str] | None,
                   max_reply_bytes: int, secret: Secret) -> tuple[JSONObject, str | None]:
    """The reply object of one request and its request id (the body's, else a header's), all within `timeout`."""
    try:
        async with asyncio.timeout(timeout):
            request = http.build_request(method, path, json=body, params=params)
            response = await http.send(request, stream=True)
            try:
                data = await read_body(response, max_reply_bytes if response.is_success else ERROR_BODY_BYTES,
                                       truncate=not response.is_success, operation=operation)
            finally:
                await response.aclose()
    except TimeoutError:
        raise TransientError(f"no complete reply within {timeout:.1f}s", operation=operation,
                             delivery=Delivery.UNKNOWN) from None
    except httpx.UnsupportedProtocol as error:
        raise ApiError(str(error), operation=operation) from None
    except httpx.TransportError as error:
        raise error_from_transport(error, operation=operation, secret=secret) from error
    except httpx.HTTPError as error:
        raise ResponseError(f"{type(error).__name__}: {error}", operation=operation) from error
    if not response.is_success:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise error_from_response(response, data, operation=operation, secret=secret, retry_after=retry_after)
    try:
        reply: Any = decode_json(data)
    except ValueError as error:
        markup = markup_kind(response, data)  # a sign-in or proxy page: named, never quoted or parsed further
        raise ResponseError(f"the reply is {markup}, not JSON (a proxy or sign-in page answered instead of "
                            "Veza's API)" if markup else f"the reply {error}", operation=operation,
                            status=response.status_code, request_id=request_id_of(response)) from None
    if not isinstance(reply, dict):
        raise ResponseError("the reply is JSON but not an object", operation=operation, status=response.status_code,
                            request_id=request_id_of(response))
    request_id = reply.get("request_id")
    return reply, str(request_id) if isinstance(request_id, str) and request_id else request_id_of(response)
