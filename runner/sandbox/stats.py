"""The sandbox's counters (creates, executions, cache hits, polls, pages, rows, 429s and injected faults).

In-memory, no I/O: `Jobs`, the rate limiter and the fault middleware count into one `Stats`, and
`GET /_sandbox/stats` serves its snapshot to tests and benchmarks.
"""

from __future__ import annotations

import collections
from typing import Any


class Stats:
    """Counters for tests and benchmarks, served by `GET /_sandbox/stats`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.creates = self.executions = self.cache_hits = self.polls = self.pages = self.rows_served = 0
        self.rate_limited = 0  # 429s served by `--rate-limit` (injected ones are in faults["429"])
        self.faults: collections.Counter[str] = collections.Counter()

    def fault(self, kind: str) -> None:
        self.faults[kind] += 1

    def throttled(self) -> None:
        self.rate_limited += 1

    def snapshot(self) -> dict[str, Any]:
        return {"creates": self.creates, "executions": self.executions, "cache_hits": self.cache_hits,
                "polls": self.polls, "pages": self.pages, "rows_served": self.rows_served,
                "rate_limited": self.rate_limited, "served_429": self.rate_limited + self.faults["429"],
                "faults": dict(sorted(self.faults.items()))}
