"""Reading one reply's body under a byte cap: the bytes (decoded from gzip and the like), never more than the cap in
memory. A larger body is cut there (error replies, which are only quoted) or refused with a `ResponseError` as soon
as it is known to be too large, from its Content-Length or while streaming; the connection is then dropped, not
drained. Network I/O on an already-open httpx response only.
"""

from __future__ import annotations

import httpx

from runner.client.decode import MiB
from runner.client.errors import ResponseError, request_id_of

ERROR_BODY_BYTES = 64 * 1024  # an error reply is quoted (500 characters): its first bytes are enough


async def read_body(response: httpx.Response, limit: int, *, truncate: bool, operation: str) -> bytes:
    declared = response.headers.get("content-length", "")
    too_large = ResponseError(f"the reply is larger than {_size(limit)}, the limit of one reply",
                              operation=operation, status=response.status_code, request_id=request_id_of(response))
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            if not truncate:
                raise too_large
            chunks.append(chunk[:len(chunk) - (size - limit)])
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit / MiB:g} MiB" if limit >= MiB else f"{limit} bytes"
