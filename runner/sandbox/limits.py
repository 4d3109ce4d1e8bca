"""The sandbox as a rate-limited tenant: a gateway's per-key rate limit and a tenant's bounded job slots.

`RateLimit` is an ASGI layer (inside the bearer auth): per API key, a GCRA token bucket (`runner.rates.Gcra`, at
`--rate-limit` with bursts of `--burst`) over the calls that start work (`nodes_async_create`, `query_spec:nodes`,
`query_spec:result`; polls too with `--rate-limit-polls`); a refused call gets 429 `ResourceExhausted` in Veza's error
body with `Retry-After` in whole seconds, as a gateway answers. `JobSlots` bounds the async executions running at
once per key (`--job-slots`): an execution beyond them waits for the earliest slot, so its job stays PENDING/RUNNING
longer, as queued work on a busy tenant would. Keys are held as digests, never as text. No I/O; in-memory.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import time
from collections.abc import Callable

from runner.rates import Gcra
from runner.sandbox.config import SandboxConfig
from runner.sandbox.faults import ASGIApp, Receive, Scope, Send, send_error
from runner.sandbox.wire import ApiError

_API = "/api/v1/assessments/query_spec"
# The calls a gateway meters by default: those that make the tenant compute. [assumed]: Veza's limits, and whether
# polls count against them, are unpublished (veza-api.md §6); `--rate-limit-polls` meters polls as well.
WORK_PATHS = frozenset({f"{_API}:nodes_async_create", f"{_API}:nodes", f"{_API}:result"})
POLL_PATHS = frozenset({f"{_API}:nodes_async_get"})
MAX_KEYS = 10_000  # distinct keys remembered; beyond it the oldest bucket is dropped (a full bucket again)


def tenant_of(scope: Scope) -> str:
    """A digest of the request's bearer key: what buckets and slots are kept under (the key itself never is)."""
    header = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), b"")
    return hashlib.sha256(header.partition(b" ")[2].strip()).hexdigest()[:32]


def tenant_in(scope: Scope) -> str:
    """The digest `RateLimit` put in the request's state ("" when no limit layer ran)."""
    return str(scope.get("state", {}).get("tenant", ""))


def _burst(config: SandboxConfig, rate: float) -> int:
    # Without --burst, one second's worth (at least one): a common gateway default. [assumed]
    return config.burst or max(1, math.ceil(rate))


class RateLimit:
    """Per-key GCRA in front of the routes; `on_throttle()` is called for every 429 it serves."""

    def __init__(self, app: ASGIApp, *, config: SandboxConfig, on_throttle: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        rate = config.rate_per_second()
        self._gcra = Gcra(rate=rate, burst=_burst(config, rate)) if rate else None
        self._paths = WORK_PATHS | (POLL_PATHS if config.rate_limit_polls else frozenset())
        self._on_throttle = on_throttle
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._limit_text = config.rate_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        tenant = tenant_of(scope)
        scope.setdefault("state", {})["tenant"] = tenant
        if self._gcra is not None and scope["path"] in self._paths:
            wait = self._admit(tenant)
            if wait > 0:
                self._on_throttle()
                error = ApiError("ResourceExhausted",
                                 f"rate limit exceeded: {self._limit_text} per API key (the sandbox's --rate-limit)",
                                 headers={"Retry-After": str(max(1, math.ceil(wait)))},
                                 resolution="Slow down: wait for the Retry-After seconds before sending again, and "
                                            "lower the concurrency or share a budget between processes.")
                await send_error(send, error, str(scope["state"].get("request_id", "")))
                return
        await self._app(scope, receive, send)

    def _admit(self, tenant: str) -> float:
        assert self._gcra is not None
        new_tat, wait = self._gcra.admit(self._tats.get(tenant), self._clock())
        if new_tat is not None:
            self._tats.pop(tenant, None)  # re-inserted last: the dict's order is the buckets' recency
            self._tats[tenant] = new_tat
            if len(self._tats) > MAX_KEYS:
                del self._tats[next(iter(self._tats))]
        return wait

    def clear(self) -> None:
        """Every bucket full again (`/_sandbox/reset`)."""
        self._tats.clear()


class JobSlots:
    """At most `slots` executions running at once per key (0: no bound). Each slot is the time it falls free, so
    nothing has to wake up: `start(tenant, arrival, duration)` books the earliest slot and returns when the
    execution starts (`arrival` when a slot is free)."""

    def __init__(self, slots: int) -> None:
        self._slots = slots
        self._free_at: dict[str, list[float]] = {}
        self.queued = 0  # executions that had to wait for a slot
        self.waited = 0.0  # seconds they waited, in all

    def start(self, tenant: str, arrival: float, duration: float) -> float:
        if self._slots <= 0:
            return arrival
        heap = self._free_at.setdefault(tenant, [])
        while len(heap) < self._slots:
            heapq.heappush(heap, arrival)
        begin = max(arrival, heapq.heappop(heap))
        heapq.heappush(heap, begin + duration)
        if begin > arrival:
            self.queued += 1
            self.waited += begin - arrival
        return begin

    def clear(self) -> None:
        self._free_at.clear()
        self.queued = 0
        self.waited = 0.0
