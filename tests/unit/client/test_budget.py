"""`client/budget.py`: the local GCRA budget, the shared one in a real redis-server, and the fall back to local pacing
when Redis cannot be reached. Clocks are injected where the test needs no real time."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
import redis

from runner.client import ClientConfig, LocalBudget, RedisBudget, VezaClient, budget_key, make_budget
from runner.rates import Gcra
from runner.secret import Secret

KEY = Secret("budget-test-api-key-0123456789")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_local_budget_sleeps_out_the_gcra() -> None:
    fake = FakeTime()
    budget = LocalBudget(Gcra(rate=5.0, burst=2), clock=fake.clock, sleep=fake.sleep)

    async def main() -> None:
        for _ in range(5):
            await budget.acquire()

    asyncio.run(main())
    assert fake.slept == [0.2, 0.2, 0.2]  # two at once, then one every 0.2 s
    assert budget.waited == pytest.approx(0.6)


def test_the_key_names_the_tenant_by_a_digest_never_the_api_key() -> None:
    key = budget_key("https://acme.vezacloud.com", KEY)
    assert key.startswith("vqr:budget:") and KEY.reveal() not in key and len(key) == len("vqr:budget:") + 32
    assert key == budget_key("https://acme.vezacloud.com", Secret(KEY.reveal()))
    assert key != budget_key("https://other.vezacloud.com", KEY)
    assert key != budget_key("https://acme.vezacloud.com", Secret("another-api-key-0123456789"))


def test_processes_sharing_a_redis_budget_share_its_rate(redis_url: str) -> None:
    """Three budgets (three shards) on one key: together they get the burst and then the rate, not three times it."""
    name = budget_key(f"shared-{time.monotonic_ns()}", KEY)
    warnings: list[str] = []
    shards = [RedisBudget(Gcra(rate=50.0, burst=3), url=Secret(redis_url), key=name, warn=warnings.append)
              for _ in range(3)]

    async def main() -> float:
        started = time.monotonic()
        await asyncio.gather(*(shard.acquire() for shard in shards for _ in range(5)))
        elapsed = time.monotonic() - started
        for shard in shards:
            await shard.aclose()
        return elapsed

    elapsed = asyncio.run(main())
    assert not warnings and all(shard.fallback is None for shard in shards)
    # 15 tokens, 3 at once, then one per 20 ms: 12 intervals = 0.24 s (three local buckets would take 0.04 s).
    assert 0.22 <= elapsed < 1.5
    assert all(shard.waited > 0 for shard in shards)  # each was told to wait its turn, none went on its own
    stored = redis.Redis.from_url(redis_url)
    try:
        assert stored.pttl(name) > 0  # the TAT is kept, and expires: an idle budget leaves nothing behind
        assert not [k for k in stored.keys("*") if KEY.reveal().encode() in k]
    finally:
        stored.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_an_unreachable_redis_warns_once_and_paces_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    password = "s3cret-redis-password"
    url = Secret(f"redis://:{password}@127.0.0.1:{_closed_port()}/0")
    warnings: list[str] = []
    budget = make_budget(Gcra(rate=100.0, burst=2), url=url, target="t", api_key=KEY, warn=warnings.append)
    assert isinstance(budget, RedisBudget)
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        # The waits asked for, not slept: a real sleep that overshoots on a busy machine shortens the next wait,
        # and the sum of the slept waits read 0.03 s instead of 0.04 s under load (CI).
        slept.append(seconds)

    monkeypatch.setattr(budget, "_sleep", no_sleep)

    async def main() -> None:
        for _ in range(6):
            await budget.acquire()
        await budget.aclose()

    started = time.monotonic()
    asyncio.run(main())
    assert len(warnings) == 1, warnings
    assert "pacing this process's submits locally at 100/s" in warnings[0] and "ConnectionError" in warnings[0]
    assert password not in warnings[0] and "127.0.0.1" not in warnings[0]
    # 6 submits at 100/s with a burst of 2, the clock standing still: each waits 10 ms longer than the one before
    assert budget.fallback is not None and slept == pytest.approx([0.01, 0.02, 0.03, 0.04], abs=0.002)
    assert time.monotonic() - started < 3


def test_without_a_url_the_budget_is_local() -> None:
    assert isinstance(make_budget(Gcra(rate=1.0), url=None, target="t", api_key=KEY, warn=print), LocalBudget)


def test_a_shard_paced_alone_takes_its_share_of_the_rate() -> None:
    """Four shards of one run with no store (or with Redis gone) each pace at a quarter: together, the whole rate."""
    alone = make_budget(Gcra(rate=20.0, burst=5), url=None, target="t", api_key=KEY, warn=print, parts=4)
    assert isinstance(alone, LocalBudget) and alone.gcra == Gcra(rate=5.0, burst=1)
    shared = make_budget(Gcra(rate=20.0, burst=8), url=Secret("redis://127.0.0.1:1/0"), target="t", api_key=KEY,
                         warn=print, parts=4)
    assert isinstance(shared, RedisBudget)
    assert shared.gcra == Gcra(rate=20.0, burst=8) and shared.local == Gcra(rate=5.0, burst=2)  # Redis: the whole
    assert Gcra(rate=3.0, burst=2).share(1) == Gcra(rate=3.0, burst=2)


def test_an_unreachable_redis_leaves_a_shard_its_share() -> None:
    warnings: list[str] = []
    budget = make_budget(Gcra(rate=100.0, burst=2), url=Secret(f"redis://127.0.0.1:{_closed_port()}/0"),
                         target="t", api_key=KEY, warn=warnings.append, parts=4)

    async def main() -> None:
        for _ in range(4):
            await budget.acquire()
        await budget.aclose()

    asyncio.run(main())
    assert isinstance(budget, RedisBudget) and budget.fallback is not None
    assert "locally at 25/s" in warnings[0]
    assert budget.fallback.waited == pytest.approx(0.12, abs=0.02)  # 3 waits of 1/25 s: burst 1 each


def test_the_client_takes_a_token_before_each_submit_and_none_before_polls() -> None:
    """Budget submits, not polls: a resent submit (after a 503) takes a token again, a poll never does."""
    calls: list[str] = []

    class Counting:
        async def acquire(self) -> None:
            calls.append("token")

        async def aclose(self) -> None:
            calls.append("closed")

    replies = iter([503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path.rsplit(":", 1)[-1])
        if request.url.path.endswith("nodes_async_create"):
            status = next(replies)
            if status != 200:
                return httpx.Response(status, json={"code": "Unavailable", "message": "busy"})
            return httpx.Response(200, json={"query_result_id": "qr-1", "cache_id": "c", "last_completed_cache_id": ""})
        return httpx.Response(200, json={"status": "RUNNING", "values": [], "has_more": False})

    async def main() -> None:
        config = ClientConfig(base_url="http://127.0.0.1:9", api_key=KEY)
        async with VezaClient(config, transport=httpx.MockTransport(handler), submit_budget=Counting(),
                              sleep=lambda _: asyncio.sleep(0)) as client:
            await client.submit({"immediate_run": {"request": {"body": {"query_type": "SOURCE_TO_DESTINATION"}}}})
            await client.poll("qr-1", page_size=10)

    asyncio.run(main())
    assert calls == ["token", "nodes_async_create", "token", "nodes_async_create", "nodes_async_get", "closed"]
