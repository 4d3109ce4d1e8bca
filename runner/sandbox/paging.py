"""One page of a result as the poll and `query_spec:nodes` replies carry it: rows, `has_more`, the next token.

`page_reply(outcome, binding, offset, page_size, empty_page=, stats=, tokens=)`; counts pages, rows and the
`--empty-page-rate` fault into `stats`. No I/O; a large page is built in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from runner.sandbox.cache import Outcome
from runner.sandbox.stats import Stats
from runner.sandbox.wire import PageTokens

# Pages up to this many rows are built on the event loop: a thread hop costs more than building them.
_INLINE_ROWS = 200


async def page_reply(outcome: Outcome, binding: str, offset: int, page_size: int, *, empty_page: bool, stats: Stats,
                     tokens: PageTokens) -> dict[str, Any]:
    """`binding`: what the page tokens are bound to (a query_result_id, or a spec's key for the sync call)."""
    stats.pages += 1
    total = int(outcome.total)
    if empty_page and offset < total:
        stats.fault("empty_page")
        return {"values": [], "path_values": [], "next_page_token": tokens.encode(binding, offset), "has_more": True}

    def read() -> tuple[list[Any], list[Any]]:
        values, path_values = outcome.page(offset, page_size)
        return list(values), list(path_values)

    wanted = min(page_size, total - offset)
    values: list[Any]
    path_values: list[Any]
    if wanted <= 0:
        values, path_values = [], []
    elif wanted <= _INLINE_ROWS:
        values, path_values = read()
    else:
        values, path_values = await asyncio.to_thread(read)
    served = len(values) or len(path_values)
    stats.rows_served += served
    has_more = offset + served < total
    return {"values": values, "path_values": path_values, "has_more": has_more,
            "next_page_token": tokens.encode(binding, offset + served) if has_more else ""}
