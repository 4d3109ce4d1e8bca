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
from runner.execute.firstpoll import DECAY, MIN_SEEN, RunPace
from runner.execute.task import RunContext
from runner.model import RunStatus
from runner.plan.batch import FALLBACK_TIMEOUT as DEFAULT_TIMEOUT
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
    # "slow" waits 4 s, finds its job running and polls again an eighth of that later; "new" waits not at all.
    assert long_waits == [pytest.approx(4.0, abs=0.05), pytest.approx(0.5, abs=0.05), pytest.approx(2.5, abs=0.05)]
    kept = rig.journal.pacing.typical_job_seconds(KEY, {m.plan.name: m.plan.spec_hash for m in members})
    assert set(kept) == {"slow", "new", "steady"} and kept["slow"] >= 4.0 - 0.01 and kept["new"] < 1.0
    # Found ended by the first poll: the wait is kept (however late the poll was sent), a tenth shorter.
    assert kept["steady"] == pytest.approx(2.5 * (1 - DECAY), abs=0.001)


class _TimedTenant:
    """The fake Veza whose jobs take `seconds` on the client's clock, which the client's sleeps advance: RUNNING
    until then, the fake's reply after. With `cached`, a submit's reply names the last completed result (a HIT)."""

    def __init__(self, rig: Rig, *, seconds: float) -> None:
        self.rig, self.seconds, self.cached = rig, seconds, False
        self.ends: dict[str, float] = {}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == endpoints.NODES_ASYNC_GET:
            ends = self.ends[str(json.loads(request.content)["query_result_id"])]
            if self.rig.clock() < ends:
                return httpx.Response(200, json={"status": "RUNNING", "values": [], "has_more": False})
        reply = await self.rig.fake(request)
        if request.url.path == endpoints.NODES_ASYNC_CREATE and reply.status_code == 200:
            body = reply.json()
            self.ends[str(body["query_result_id"])] = self.rig.clock() + (0.0 if self.cached else self.seconds)
            if self.cached:
                return httpx.Response(200, json={**body, "last_completed_cache_id": body["cache_id"]})
        return reply


def _night(rig: Rig, tenant: _TimedTenant, number: int, *, pace: RunPace | None = None, timeout: float = 600.0
           ) -> tuple[float, int, list[float]]:
    """One nightly run of query "q": the typical time it started from, its polls, and the client's sleeps."""
    member = rig.member("q", timeout=timeout)
    run_id = f"run-{number:03d}"
    rig.journal.start_run(run_id, env=KEY.env, target=KEY.target)
    rig.journal.record(run_id, "q", QueryState.PENDING, spec_hash=member.plan.spec_hash, file=member.plan.file)
    expected = rig.journal.pacing.typical_job_seconds(KEY, {"q": member.plan.spec_hash})
    sleeps: list[float] = []
    polls: list[int] = []

    async def go() -> None:
        async with _client(rig, sleeps, ladder=PollLadder(), transport=tenant) as client:  # the default, jittered
            ctx = RunContext(client=client, journal=rig.journal, rundir=rig.rundir, run_id=run_id, key=KEY,
                             page_size=100, rng=random.Random(number), typical=expected, pace=pace or RunPace())
            outcome = await run_batch(ctx, [[member]], concurrency=1, fail_fast=False, interrupt=asyncio.Event())
            assert outcome.results[0].error is None
            polls.append(outcome.results[0].polls or 0)

    asyncio.run(go())
    rig.journal.finish_run(run_id, RunStatus.COMPLETED)
    return expected.get("q", 0.0), polls[0], sleeps


def _typical(rig: Rig) -> float:
    return rig.journal.pacing.typical_job_seconds(KEY, {"q": rig.plan("q").spec_hash}).get("q", 0.0)


@pytest.mark.parametrize("length", [1.0, 60.0])
def test_a_typical_duration_learnt_on_slow_nights_comes_down_again(rig: Rig, length: float) -> None:
    """Three slow nights (jobs 4x as long), then the tenant is fast again. A first wait that found the job ended used
    to be kept as it was, so the slow time came back every night and the expectation never fell (a ratchet). Kept a
    tenth shorter, and followed by the latest run when shorter than the median, it falls night by night to about the
    real length, as fast for a minute-long job as for a second-long one; a first wait that came too early is
    followed by one poll an eighth of it later, which finds the job."""
    rig.fake.scripts["q"] = Script(rows=rows("q"))
    tenant = _TimedTenant(rig, seconds=4 * length)
    typical: list[float] = []
    polls: list[int] = []
    for number in range(24):
        tenant.seconds = 4 * length if number < 3 else length
        before, polled, sleeps = _night(rig, tenant, number)
        typical.append(before)
        polls.append(polled)
        if before and polled > 1:  # too early: the next poll an eighth of the wait later (the ladder's clock runs
            # on from the first poll, so the real time its round trip took comes off the sleep: up to 50 ms allowed)
            assert sleeps[1] == pytest.approx(NEAR_STEP * sleeps[0], abs=0.05), sleeps

    assert typical[3] >= 4 * length  # learnt on the slow nights
    # With the wait kept as it was, it stayed at the first night's find (5.6 s for the 4 s job) for good.
    assert typical[17] < 1.2 * length and 0.85 * length <= typical[-1] < 1.15 * length, typical
    assert all(later <= earlier + 0.15 * length for earlier, later in itertools.pairwise(typical[3:])), typical
    assert max(polls[3:]) <= 2, polls  # once fast again, each job is found by its first or second poll


def test_a_steady_long_job_is_found_by_its_first_or_second_poll(rig: Rig) -> None:
    """A 60 s job night after night: its expectation is shortened by a tenth (6 s, more than the ladder's 5 s cap),
    and the near poll an eighth of it later (6.75 s) still reaches the job's end: never a third poll. From the 5 s
    ladder steps the expectation could fall by no more than about 5 s a night."""
    rig.fake.scripts["q"] = Script(rows=rows("q"))
    tenant = _TimedTenant(rig, seconds=60.0)
    nights = [_night(rig, tenant, number) for number in range(12)]
    later = nights[2:]  # the first night climbs the ladder; from the second on, the journal paces it
    assert max(polls for _, polls, _ in later) <= 2, [n[:2] for n in nights]
    assert min(polls for _, polls, _ in later) == 1  # and it is not polled twice every night
    assert all(50.0 <= typical <= 66.0 for typical, _, _ in later), [n[:2] for n in nights]


def test_a_job_of_ten_minutes_under_the_default_timeout_is_polled_once_or_twice(rig: Rig) -> None:
    """The first wait leaves a tenth of the time to the deadline (firstpoll.deadline_slack). It used to leave half:
    a 600 s job under the default 900 s timeout waited 450 s, then climbed the ladder to 5 s steps, ~30 polls."""
    rig.fake.scripts["q"] = Script(rows=rows("q"))
    tenant = _TimedTenant(rig, seconds=600.0)
    nights = [_night(rig, tenant, number, timeout=DEFAULT_TIMEOUT) for number in range(6)]
    assert DEFAULT_TIMEOUT == 900.0
    assert max(polls for _, polls, _ in nights[1:]) <= 2, [n[:2] for n in nights]


def test_a_cached_night_is_not_kept_as_a_job_length(rig: Rig) -> None:
    """A night whose reply names a cached result is polled at once and found done: that is no job's length. Kept,
    it would become the next night's expectation (the latest run wins when shorter), and a 20 s job would then be
    polled a dozen times."""
    rig.fake.scripts["q"] = Script(rows=rows("q"))
    tenant = _TimedTenant(rig, seconds=20.0)
    for number in range(3):
        _night(rig, tenant, number)
    learnt = _typical(rig)
    tenant.cached = True
    _, polls, _ = _night(rig, tenant, 3)
    assert polls == 1 and _typical(rig) == learnt  # nothing kept of the cached night
    tenant.cached = False
    before, polls, _ = _night(rig, tenant, 4)
    assert before == learnt and polls <= 2


def test_a_wait_from_the_runs_own_pace_is_kept_as_it_was(rig: Rig) -> None:
    """No history: the first poll waits the shortest job this run has seen (2 s) and finds the 1 s job ended. That
    wait is no estimate of this query's own, so it is kept unshortened; the next night's first poll confirms it."""
    rig.fake.scripts["q"] = Script(rows=rows("q"))
    tenant = _TimedTenant(rig, seconds=1.0)
    pace = RunPace()
    for _ in range(MIN_SEEN):
        pace.record(2.0)
    before, polls, sleeps = _night(rig, tenant, 0, pace=pace)
    assert before == 0.0 and polls == 1 and sleeps[0] == pytest.approx(2.0, abs=0.05)
    assert _typical(rig) == pytest.approx(2.0, abs=0.01)  # not 1.8 s: shortened only when it was its own history
    before, polls, _ = _night(rig, tenant, 1)
    assert before == pytest.approx(2.0, abs=0.01) and polls == 1
    assert _typical(rig) == pytest.approx(1.8, abs=0.01)  # confirmed by its own history: now a tenth shorter
