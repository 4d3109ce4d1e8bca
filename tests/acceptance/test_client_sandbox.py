"""The client against the real embedded sandbox over HTTP: the happy path, refusals, TLS, and injected faults that
must neither lose rows nor cost a second execution."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest

from runner.client.api import ClientConfig, JobState, VezaClient
from runner.client.errors import ApiError, AuthError, InvalidRequest, NotFoundError
from runner.client.retry import PollLadder, RetryBudget, RetryPolicy
from runner.client.sync import SyncApi
from runner.model.values import JSONObject
from runner.sandbox.config import SandboxConfig
from runner.sandbox.faults import FaultPlan
from runner.sandbox.server import EmbeddedSandbox
from runner.secret import Secret

CANARY = "canary-sandbox-3c9d77"
NODE_TYPES = ("OktaUser", "OktaGroup", "AwsIamUser", "AwsIamRole", "S3Bucket", "SnowflakeUser", "AzureADUser",
              "OAA.Github.User")
FAST = RetryPolicy(base=0.02, cap=0.2, retry_after_cap=0.1, max_attempts=30, attempt_timeout=5.0,
                   request_deadline=30.0)
QUICK_POLLS = PollLadder(initial=0.02, factor=1.5, cap=0.2)


def spec(node_type: str) -> JSONObject:
    return {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{"node_type": node_type}]}}


def immediate(node_type: str) -> JSONObject:
    return {"immediate_run": {"request": {"body": spec(node_type)}}}


def client_for(url: str, **overrides: Any) -> VezaClient:
    budget = overrides.pop("budget", RetryBudget(capacity=1000))
    config = ClientConfig(base_url=url, api_key=Secret(overrides.pop("key", CANARY)),
                          retry=overrides.pop("retry", FAST), poll_ladder=QUICK_POLLS, **overrides)
    return VezaClient(config, rng=random.Random(3), budget=budget)


async def fetch_all(client: VezaClient, body: JSONObject, *, page_size: int = 40) -> tuple[list[Any], Any]:
    submitted = await client.submit(body)
    first, _ = await client.wait_until_finished(submitted.query_result_id, page_size=page_size,
                                                deadline=client.now() + 30)
    assert first.state is JobState.DONE, first
    rows: list[Any] = []
    async for page in client.iter_pages(submitted.query_result_id, page_size=page_size, first=first):
        rows.extend(page.values)
    assert len(rows) == first.row_count
    return rows, submitted


async def fetch_batch(url: str, *, page_size: int = 40) -> dict[str, list[Any]]:
    async with client_for(url) as client:
        results = await asyncio.gather(*(fetch_all(client, immediate(t), page_size=page_size) for t in NODE_TYPES))
    return {t: rows for t, (rows, _) in zip(NODE_TYPES, results, strict=True)}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[EmbeddedSandbox]:
    with EmbeddedSandbox(SandboxConfig(nodes=600, latency=0.05)) as running:
        yield running


@pytest.fixture(scope="module")
def reference(sandbox: EmbeddedSandbox) -> dict[str, list[Any]]:
    return asyncio.run(fetch_batch(sandbox.url))


def test_every_row_is_read_across_pages(sandbox: EmbeddedSandbox, reference: dict[str, list[Any]]) -> None:
    async def go() -> tuple[int, list[Any]]:
        async with client_for(sandbox.url) as client:
            await client.check_connection()
            sync = SyncApi(client)
            page = await sync.nodes(spec("OktaUser"), page_size=10_000)
            return await sync.count(spec("OktaUser")), list(page.values)

    count, sync_rows = asyncio.run(go())
    assert count == len(reference["OktaUser"]) == len(sync_rows) > 40  # more than one page of 40
    assert sorted(r["id"] for r in sync_rows) == sorted(r["id"] for r in reference["OktaUser"])
    assert all(reference[t] for t in NODE_TYPES)


def test_a_wrong_key_is_an_auth_error_without_the_key() -> None:
    with EmbeddedSandbox(SandboxConfig(nodes=200, latency=0.01, api_key="the-right-key")) as guarded:
        async def go() -> None:
            async with client_for(guarded.url) as client:
                await client.check_connection()

        with pytest.raises(AuthError) as caught:
            asyncio.run(go())
    assert caught.value.status == 401 and caught.value.request_id
    assert CANARY not in str(caught.value)


def test_refusals_carry_request_id_and_field_violations(sandbox: EmbeddedSandbox) -> None:
    async def go(body: JSONObject) -> None:
        async with client_for(sandbox.url) as client:
            await client.submit(body)

    with pytest.raises(InvalidRequest) as bad:
        asyncio.run(go(immediate("OktaUsr")))
    assert bad.value.status == 400 and bad.value.request_id and bad.value.request_id in str(bad.value)
    with pytest.raises(NotFoundError) as expired:
        asyncio.run(go({"cached_result_context": {"cache_id": "cache-doesnotexist"}}))
    assert "cached_result_context.cache_id: unknown or expired cache_id" in str(expired.value)

    async def poll_unknown() -> None:
        async with client_for(sandbox.url) as client:
            await client.poll("qr-unknown", page_size=10)

    with pytest.raises(NotFoundError, match="query_result_id"):
        asyncio.run(poll_unknown())


def test_tls_with_the_sandbox_ca_and_refusal_without_it() -> None:
    with EmbeddedSandbox(SandboxConfig(nodes=200, latency=0.01, tls=True)) as secure:
        assert secure.url.startswith("https://") and secure.ca_file is not None

        async def check(**overrides: Any) -> None:
            async with client_for(secure.url, **overrides) as client:
                await client.check_connection()

        asyncio.run(check(ca_bundle=secure.ca_file))
        with pytest.raises(ApiError, match="certificate verification failed") as caught:
            asyncio.run(check())
    assert caught.value.__class__ is ApiError  # final at once, not retried as a transient failure


def test_faults_neither_lose_rows_nor_duplicate_executions(sandbox: EmbeddedSandbox,
                                                           reference: dict[str, list[Any]]) -> None:
    config = SandboxConfig(nodes=600, latency=0.05, fail_rate_429=0.2, retry_after=1, fail_rate_5xx=0.1,
                           reset_rate=0.05, empty_page_rate=0.1, fault_seed=11)
    with EmbeddedSandbox(config, graph=sandbox.jobs.graph) as faulty:  # the same graph: the same rows
        got = asyncio.run(fetch_batch(faulty.url, page_size=10))  # many pages: every fault kind shows up
        stats = faulty.jobs.stats.snapshot()
    assert got == reference
    assert stats["executions"] == len(NODE_TYPES)
    assert {"429", "reset", "empty_page"} <= set(stats["faults"])
    assert any(kind in stats["faults"] for kind in ("500", "502", "503", "504"))


def _seed_with_first_reply_slow() -> int:
    for seed in range(1000):
        plan = FaultPlan(SandboxConfig(slow_rate=0.5, fault_seed=seed))
        draws = [plan.draw() for _ in range(6)]
        if draws[0].slow and not any(d.slow for d in draws[1:]):
            return seed
    raise AssertionError("no fault seed found")


def test_a_lost_submit_reply_reuses_the_job_it_created() -> None:
    # The first create is processed (the job starts and, at 50 ms, finishes) but its reply is held for 1 s; the
    # client gives up after 0.3 s and resends as cached_result_if_available, which must find that job.
    config = SandboxConfig(nodes=200, latency=0.05, slow_rate=0.5, slow_seconds=3.0,
                           fault_seed=_seed_with_first_reply_slow())
    retry = RetryPolicy(base=0.2, cap=0.4, attempt_timeout=1.0, max_attempts=5, request_deadline=30)
    with EmbeddedSandbox(config) as slow:
        async def go() -> Any:
            async with client_for(slow.url, retry=retry) as client:
                return await fetch_all(client, immediate("OktaGroup"))

        rows, submitted = asyncio.run(go())
        stats = slow.jobs.stats.snapshot()
    assert submitted.resent_as_cached and submitted.attempts == 2
    assert rows and stats["executions"] == 1 and stats["cache_hits"] == 1 and stats["creates"] == 2


def test_a_dead_api_ends_quickly_through_the_budget() -> None:
    with EmbeddedSandbox(SandboxConfig(nodes=200, fail_rate_5xx=1.0)) as dead:
        budget = RetryBudget(capacity=5)

        async def go() -> list[BaseException | Any]:
            async with client_for(dead.url, budget=budget) as client:
                return await asyncio.gather(*(client.submit(immediate(t)) for t in NODE_TYPES),
                                            return_exceptions=True)

        outcomes = asyncio.run(go())
        stats = dead.jobs.stats.snapshot()
    assert all(isinstance(o, ApiError) for o in outcomes)
    assert budget.exhausted and budget.retries == 5
    assert stats["executions"] == 0
