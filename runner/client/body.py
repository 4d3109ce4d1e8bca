"""Reading one reply's body under a byte cap: the bytes (decoded from gzip and the like), never more than the cap in
memory. A larger body is cut there (error replies, which are only quoted) or refused with a `ResponseError` as soon
as it is known to be too large, from its Content-Length or while streaming; the connection is then dropped, not
drained. `Received` is one reply as read, whichever route it came by (client/exchange.py). Network I/O on an
already-open reply only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import httpx

from runner.client.decode import MiB
from runner.client.errors import ResponseError, request_id_in

ERROR_BODY_BYTES = 64 * 1024  # an error reply is quoted (500 characters): its first bytes are enough


@dataclass(frozen=True, slots=True)
class Received:
    """One reply as read: its status, its headers (case-insensitive: httpx's or aiohttp's), its body under the cap,
    and the `httpx.Response` that client/errors.py reads an error from (for a reply that came by aiohttp directly,
    built only when asked: an error, a Set-Cookie, a body that is not JSON)."""

    status: int
    headers: Mapping[str, str]
    data: bytes
    response: Callable[[], httpx.Response]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def read_capped(chunks: AsyncIterator[bytes], *, status: int, headers: Mapping[str, str], max_reply_bytes: int,
                      operation: str) -> bytes:
    """The body of a reply with this status: a success's under `max_reply_bytes` (refused beyond), an error's cut at
    ERROR_BODY_BYTES."""
    truncate = not 200 <= status < 300
    limit = ERROR_BODY_BYTES if truncate else max_reply_bytes
    declared = headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, status, headers, operation)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            if not truncate:
                raise _too_large(limit, status, headers, operation)
            parts.append(chunk[:len(chunk) - (size - limit)])
            break
        parts.append(chunk)
    return b"".join(parts)


def _too_large(limit: int, status: int, headers: Mapping[str, str], operation: str) -> ResponseError:
    return ResponseError(f"the reply is larger than {_size(limit)}, the limit of one reply", operation=operation,
                         status=status, request_id=request_id_in(headers))


def _size(limit: int) -> str:
    return f"{limit / MiB:g} MiB" if limit >= MiB else f"{limit} bytes"
