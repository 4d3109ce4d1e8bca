"""The engine's pacing on a scripted Veza: a throttled submit lowers the batch's concurrency (reported in the
outcome), the first poll waits the query's typical duration unless the reply is a cached result, and each
finished job's duration lands in the journal's history for the next run."""

from __future__ import annotations

import asyncio
import random

import httpx

from runner.client.api import ClientConfig, VezaClient
from runner.client.retry import RetryPolicy
from runner.execute.batch import run_batch
from runner.execute.task import RunContext
from runner.secret import Secret
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


def _client(rig: Rig, sleeps: list[float]) -> VezaClient:
    async def sleep(seconds: float) -> None:  # the waits pass on the client's clock, at once
        sleeps.append(seconds)
        rig.clock.advance(seconds)
        await asyncio.sleep(0)

    config = ClientConfig(base_url="https://acme.vezacloud.test", api_key=Secret(API_KEY), use_env_proxies=False,
                          poll_ladder=FAST_LADDER, retry=RetryPolicy(base=0.01, cap=0.05, max_attempts=3))
    return VezaClient(config, transport=httpx.MockTransport(rig.fake), budget=rig.budget, rng=random.Random(7),
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
    assert kept["steady"] == 2.5  # found ended by the first poll: the wait itself is kept, however late it was sent
