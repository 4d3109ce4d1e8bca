"""Veza's synchronous query calls (the SDK's): `query_spec:nodes`, one page of a spec's result, and
`query_spec:result`, its count. `SyncApi(client)` sends them through the client's retries, reply caps and error
mapping, as `client/saved.py` does (this module is part of the client). vqr runs its batches on the async API; these
serve comparisons with the SDK. Network I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.client import endpoints
from runner.client.api import VezaClient
from runner.client.pages import Page, parse_count, parse_page
from runner.model import JSONValue


class SyncApi:
    def __init__(self, client: VezaClient) -> None:
        self._client = client

    async def nodes(self, spec: Mapping[str, JSONValue], *, page_size: int, page_token: str = "",
                    deadline: float | None = None) -> Page:
        """One page of the spec's result."""
        params = {"page_size": str(page_size), "page_token": page_token}
        client = self._client

        async def attempt(timeout: float) -> Page:
            reply, request_id = await client._exchange("nodes", "POST", endpoints.NODES_SYNC, dict(spec), timeout,
                                                       params=params)
            return parse_page(reply, request_id=request_id, state_of=client.job_state, synchronous=True)

        return await client._retrying("nodes", attempt, deadline)

    async def count(self, spec: Mapping[str, JSONValue], *, deadline: float | None = None) -> int:
        """The number of rows of the spec's result."""
        client = self._client

        async def attempt(timeout: float) -> int:
            reply, _ = await client._exchange("count", "POST", endpoints.COUNT_SYNC, dict(spec), timeout)
            return parse_count(reply)

        return await client._retrying("count", attempt, deadline)
