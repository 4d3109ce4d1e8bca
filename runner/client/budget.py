"""The submit budget: a `Budget` is awaited (`acquire()`) before every create call, so submits, not polls, are paced.

`LocalBudget` paces one process by `runner.rates.Gcra` on its own clock. `RedisBudget` shares one GCRA between every
process of a tenant (the shards of a CI matrix, several CronJobs): one atomic Lua script on the Redis server's clock
reserves the next slot and answers how long to wait. Its key is `vqr:budget:` and a digest of the target and the API
key, never the key itself. When Redis cannot be reached (or the `redis` package is missing) it warns once and paces
locally for the rest of the run, at this process's share of the rate (`Gcra.share`: a shard of N takes 1/N): a budget
never fails a run. Network I/O to Redis only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from runner.rates import Gcra
from runner.secret import Secret

KEY_PREFIX = "vqr:budget:"
REDIS_TIMEOUT = 2.0  # seconds for connecting and for one reply: a budget must not hold a run up for long

# KEYS[1] the budget; ARGV[1] the interval and ARGV[2] the tolerance, in microseconds. The same arithmetic as
# `Gcra.reserve`, on the server's clock (TIME), so processes on different machines share one timeline. Returns the
# microseconds to wait. The key expires once its TAT has passed: an idle budget leaves nothing behind.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
local start = now
if stored then
  start = math.max(tonumber(stored), now)
end
local tat = start + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
return math.max(0, math.floor(start - tolerance - now))
"""


class Budget(Protocol):
    """What the client awaits before each submit; `aclose` releases what it holds (the client calls it)."""

    async def acquire(self) -> None: ...
    async def aclose(self) -> None: ...


def budget_key(target: str, api_key: Secret) -> str:
    """The Redis key of a tenant's budget: every shard that queries `target` with the same key shares it."""
    digest = hashlib.sha256(f"{target}\n{api_key.reveal()}".encode()).hexdigest()[:32]
    return KEY_PREFIX + digest


class LocalBudget:
    """The GCRA in this process: waits are slept here (the clock and sleep are injectable for tests)."""

    def __init__(self, gcra: Gcra, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.gcra = gcra
        self._clock = clock
        self._sleep = sleep
        self._tat: float | None = None
        self.waited = 0.0  # seconds slept in all, for the curious (tests, benchmarks)

    async def acquire(self) -> None:
        self._tat, wait = self.gcra.reserve(self._tat, self._clock())
        if wait > 0:
            self.waited += wait
            await self._sleep(wait)

    async def aclose(self) -> None:
        return None


class RedisBudget:
    """The GCRA in Redis, shared by every process with the same `key`; `warn(line)` is told once if it falls back."""

    def __init__(self, gcra: Gcra, *, url: Secret, key: str, warn: Callable[[str], None],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, local: Gcra | None = None) -> None:
        self.gcra = gcra
        self.local = local or gcra  # this process's share, paced alone if Redis fails
        self._url = url
        self.key = key
        self._warn = warn
        self._sleep = sleep
        self._redis: Any = None  # created on the first acquire, inside the running event loop
        self._script: Any = None
        self.fallback: LocalBudget | None = None  # set once Redis failed: local pacing from then on
        self.waited = 0.0

    async def acquire(self) -> None:
        if self.fallback is None:
            try:
                wait = await self._reserve()
            except Exception as error:  # whatever Redis raises, the run goes on, paced locally
                if self.fallback is None:  # concurrent submits fail together: the first one warns
                    self._degrade(error)
            else:
                if wait > 0:
                    self.waited += wait
                    await self._sleep(wait)
                return
        assert self.fallback is not None
        await self.fallback.acquire()

    async def _reserve(self) -> float:
        if self._script is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._redis = redis.asyncio.Redis.from_url(
                self._url.reveal(), socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 0))
            self._script = self._redis.register_script(_RESERVE)
        micros = await self._script(keys=[self.key], args=[round(self.gcra.interval * 1e6),
                                                           round(self.gcra.tolerance * 1e6)])
        return int(micros) / 1e6

    def _degrade(self, error: BaseException) -> None:
        # The error's text may name the host or carry the URL: only its type is shown, never the URL.
        why = "the redis package is not installed (pip install 'vqr[redis]')" if isinstance(error, ImportError) \
            else f"Redis did not answer ({type(error).__name__})"
        self._warn(f"the shared API budget is unavailable: {why}; pacing this process's submits locally at "
                   f"{self.local.rate:g}/s instead")
        self.fallback = LocalBudget(self.local, sleep=self._sleep)

    async def aclose(self) -> None:
        if self._redis is not None:
            redis, self._redis, self._script = self._redis, None, None
            with contextlib.suppress(Exception):  # closing a connection that is already gone
                await redis.aclose()


def make_budget(gcra: Gcra, *, url: Secret | None, target: str, api_key: Secret,
                warn: Callable[[str], None], parts: int = 1) -> Budget:
    """The shared budget in Redis at `url` for `target` and `api_key`, or without a URL this process's own part of
    it: `parts` processes (the shards of one run) share the tenant's rate, so each paces itself at 1/`parts`."""
    if url is None:
        return LocalBudget(gcra.share(parts))
    return RedisBudget(gcra, url=url, key=budget_key(target, api_key), warn=warn, local=gcra.share(parts))
