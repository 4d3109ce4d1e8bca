"""The engine's pacing on a scripted Veza: a throttled submit lowers the batch's concurrency (reported in the
outcome), the first poll waits the query's typical duration unless the reply is a cached result, and each
finished job's duration lands in the journal's history for the next run."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Callable, Coroutine

import httpx
import pytest

from runner.client import endpoints
from runner.client.api import ClientConfig, VezaClient
from runner.client.retry import NEAR_STEP, PollLadder, RetryPolicy
from runner.execute.batch import run_batch
from runner.execute.firstpoll import DECAY
from runner.execute.task import RunContext
from runner.model import RunStatus
from runner.secret import Secret
from runner.state import QueryState
from tests.unit.execute.fake_veza import API_KEY, FAST_LADDER, KEY, Rig, Script, rows


def test_a_throttled_submit_lowers_the_concurrency_and_is_reported(rig: Rig) -> None:
    rig.fake.scripts["busy"] = Script(rows=rows("b"), submit_failures=[429, 503])
    for label in ("x", "y", "z"):
        rig.fake.scripts[label] = Script(rows=rows(label))
    groups = [[rig.member("busy")], *([rig.member(label)] for label in ("x", "y", "z"))]

    outcome = asyncio.run(rig.batch(groups, concurrency=8))

    report = outcome.concurrency
    assert report is not None and all(r.rows == 1 for r in outcome.results)
    assert report.throttled == 2 and report.configured == report.start == 8
    assert report.series[0] == (0.0, 8) and min(limit for _, limit in report.series) == 4  # halved once
    assert report.converged is not None and 4 <= report.converged <= 8


def test_an_unthrottled_batch_keeps_its_limit_and_starts_under_a_cap(rig: Rig) -> None:
    rig.fake.scripts["x"] = Script(rows=rows("x"))

    async def go() -> tuple[int, int]:
        rig.pending([rig.member("x")])
        async with rig.client() as client:
            outcome = await run_batch(rig.context(client), [[rig.member("x")]], concurrency=8, fail_fast=False,
                                      interrupt=asyncio.Event(), start=3.6)
            assert client.throttle is None  # the batch's listener is detached when it ends
        assert outcome.concurrency is not None
        return outcome.concurrency.start, outcome.concurrency.throttled

    assert asyncio.run(go()) == (3, 0)


def _client(rig: Rig, sleeps: list[float], *, ladder: PollLadder = FAST_LADDER,
            transport: Callable[[httpx.Request], Coroutine[None, None, httpx.Response]] | None = None) -> VezaClient:
    async def sleep(seconds: float) -> None:  # the waits pass on the client's clock, at once
        sleeps.append(seconds)
        rig.clock.advance(seconds)
        await asyncio.sleep(0)

    config = ClientConfig(base_url="https://acme.vezacloud.test", api_key=Secret(API_KEY), use_env_proxies=False,
                          poll_ladder=ladder, retry=RetryPolicy(base=0.01, cap=0.05, max_attempts=3))
    handler = transport or rig.fake
    return VezaClient(config, transport=httpx.MockTransport(handler), budget=rig.budget, rng=random.Random(7),
                      sleep=sleep, clock=rig.clock)


def test_the_first_poll_waits_the_typical_duration_and_the_job_time_is_kept(rig: Rig) -> None:
    rig.fake.scripts["slow"] = Script(rows=rows("s"), pending=1)
    rig.fake.scripts["new"] = Script(rows=rows("n"))
    rig.fake.scripts["steady"] = Script(rows=rows("t"))
    members = [rig.member("slow"), rig.member("new"), rig.member("steady")]
    sleeps: list[float] = []

    async def go() -> None:
        rig.pending(members)
        async with _client(rig, sleeps) as client:
            ctx = RunContext(client=client, journal=rig.journal, rundir=rig.rundir, run_id=rig.run_id, key=KEY,
                             page_size=100, rng=random.Random(1), typical={"slow": 4.0, "steady": 2.5})
            outcome = await run_batch(ctx, [[m] for m in members], concurrency=1, fail_fast=False,
                                      interrupt=asyncio.Event())
            assert [r.polls for r in outcome.results] == [2, 1, 1]

    asyncio.run(go())
    long_waits = [s for s in sleeps if s > 0.01]
    assert len(long_waits) == 2 and long_waits[0] >= 4.0 - 0.01 and long_waits[1] >= 2.5 - 0.01  # "new" waits not
    kept = rig.journal.pacing.typical_job_seconds(KEY, {m.plan.name: m.plan.spec_hash for m in members})
    assert set(kept) == {"slow", "new", "steady"} and kept["slow"] >= 4.0 - 0.01 and kept["new"] < 1.0
    # Found ended by the first poll: the wait is kept (however late the poll was sent), a little shortened.
    assert kept["steady"] == pytest.approx(2.5 * (1 - DECAY), abs=0.001)


LADDER = PollLadder(jitter=0.0)  # the default ladder (0.25 s, x1.4), on the client's clock, without jitter


class _TimedTenant:
    """The fake Veza whose jobs take `seconds` (or `slow` for the first `slow_runs` runs) on the client's clock,
    which the client's sleeps advance: PENDING until then, the fake's reply after."""

    def __init__(self, rig: Rig, *, seconds: float) -> None:
        self.rig, self.seconds = rig, seconds
        self.ends: dict[str, float] = {}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == endpoints.NODES_ASYNC_GET:
            ends = self.ends[str(json.loads(request.content)["query_result_id"])]
            if self.rig.clock() < ends:
                return httpx.Response(200, json={"status": "RUNNING", "values": [], "has_more": False})
        reply = await self.rig.fake(request)
        if request.url.path == endpoints.NODES_ASYNC_CREATE and reply.status_code == 200:
            self.ends[str(reply.json()["query_result_id"])] = self.rig.clock() + self.seconds
        return reply


def test_a_typical_duration_learnt_on_slow_nights_comes_down_again(rig: Rig) -> None:
    """Three slow nights (4 s jobs), then the tenant is fast again (1 s). The first poll waits the median of the
    last five runs; a wait that found the job ended used to be kept as it was, so the 4 s came back every night and
    the expectation never fell (a ratchet). Kept 5% shorter, it falls run by run to about the real second; the poll
    after a first wait that came too early follows after a tenth of that wait."""
    rig.fake.scripts["q"] = Script(rows=rows("q"))
    member = rig.member("q")
    tenant = _TimedTenant(rig, seconds=4.0)
    hashes = {"q": member.plan.spec_hash}
    typical: list[float] = []
    polls: list[int] = []
    for night in range(20):
        tenant.seconds = 4.0 if night < 3 else 1.0
        run_id = f"run-{night:02d}"
        rig.journal.start_run(run_id, env=KEY.env, target=KEY.target)
        rig.journal.record(run_id, "q", QueryState.PENDING, spec_hash=member.plan.spec_hash, file=member.plan.file)
        expected = rig.journal.pacing.typical_job_seconds(KEY, hashes)
        typical.append(expected.get("q", 0.0))

        async def go(run_id: str = run_id, expected: dict[str, float] = expected) -> None:
            sleeps: list[float] = []
            async with _client(rig, sleeps, ladder=LADDER, transport=tenant) as client:
                ctx = RunContext(client=client, journal=rig.journal, rundir=rig.rundir, run_id=run_id, key=KEY,
                                 page_size=100, rng=random.Random(1), typical=expected)
                outcome = await run_batch(ctx, [[member]], concurrency=1, fail_fast=False,
                                          interrupt=asyncio.Event())
                polls.append(outcome.results[0].polls or 0)
                if expected and (outcome.results[0].polls or 0) > 1:  # too early: the next poll comes soon after
                    assert sleeps[1] == pytest.approx(min(LADDER.cap, NEAR_STEP * sleeps[0]), abs=0.005)

        asyncio.run(go())
        rig.journal.finish_run(run_id, RunStatus.COMPLETED)

    assert typical[3] >= 4.0  # learnt on the slow nights
    assert typical[-1] < 1.2, typical  # came down again: with the wait kept as it was, it stayed at 4 s
    assert all(later <= earlier + 0.3 for earlier, later in itertools.pairwise(typical[3:])), typical
    assert max(polls[-5:]) <= 2, polls  # and a job is still found by its first or second poll
