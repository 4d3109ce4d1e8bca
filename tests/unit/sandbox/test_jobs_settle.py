"""`sandbox/jobs.py`: an async create is answered before the engine evaluates its spec, as Veza's is.

The graph's lock is held by the test to keep the engine from running: a create that waited for the evaluation
would then never answer. The clock is the test's own, so a job's length is decided here, not by the machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runner.sandbox.config import SandboxConfig
from runner.sandbox.drift import advance_graph
from runner.sandbox.engine import evaluate
from runner.sandbox.engine import run as real_run
from runner.sandbox.jobs import Jobs
from runner.sandbox.store import StateStore
from runner.sandbox.wire import ApiError, parse_create_body
from tests.unit.sandbox.company import company, spec, to

LATENCY = 0.5
BODY = spec(relates=to("S3Bucket"))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _jobs(clock: Clock, *, store: StateStore | None = None, **config: Any) -> Jobs:
    return Jobs(config=SandboxConfig(latency=LATENCY, **config), graph=company(), clock=clock, store=store)


def _create(body: dict[str, Any]) -> Any:
    return parse_create_body({"immediate_run": {"request": {"body": body}}})


def broken(*args: Any, **kwargs: Any) -> Any:
    """The engine's `run` with a bug in it."""
    raise RuntimeError("a bug in the engine")


async def _poll(jobs: Jobs, query_result_id: str) -> dict[str, Any]:
    return await jobs.poll(query_result_id, page_size=100, page_token="", empty_page=False)


def test_the_create_answers_while_the_engine_is_held_and_the_job_runs_until_it_has_settled() -> None:
    clock = Clock()
    jobs = _jobs(clock)

    async def scenario() -> None:
        with jobs.graph.lock:  # the evaluation thread blocks on it
            reply = await asyncio.wait_for(jobs.create(_create(BODY), fail=False), timeout=5)
            clock.now += 10 * LATENCY  # long past the job's length: only the engine can end it now
            waiting = await _poll(jobs, reply["query_result_id"])
            assert waiting["status"] == "RUNNING"
            assert waiting["values"] == []
        await jobs.drain()
        done = await _poll(jobs, reply["query_result_id"])
        assert done["status"] == "DONE"
        expected, _ = evaluate(jobs.graph, BODY).page(0, 100)
        assert [row["id"] for row in done["values"]] == [row["id"] for row in expected]
        assert expected  # the spec matches rows, so an empty page above would have been a failure

    asyncio.run(scenario())


def test_a_settled_job_still_lasts_its_latency_from_the_create() -> None:
    clock = Clock()
    jobs = _jobs(clock)

    async def scenario() -> None:
        reply = await jobs.create(_create(BODY), fail=False)
        await jobs.drain()
        assert (await _poll(jobs, reply["query_result_id"]))["status"] in ("PENDING", "RUNNING")
        clock.now += LATENCY
        assert (await _poll(jobs, reply["query_result_id"]))["status"] == "DONE"

    asyncio.run(scenario())


def test_a_spec_the_sandbox_refuses_is_still_the_create_s_own_reply() -> None:
    jobs = _jobs(Clock())

    async def scenario() -> None:
        with pytest.raises(ApiError) as refused:
            await jobs.create(_create(spec(snapshot_id="7")), fail=False)
        assert refused.value.code == "NotFound"
        assert jobs.stats.snapshot()["executions"] == 0

    asyncio.run(scenario())


def test_the_parse_warnings_are_in_the_create_reply_before_the_evaluation() -> None:
    jobs = _jobs(Clock())
    legacy = spec({"node_type": "OktaUser", "conditions": [{"property": "is_active", "value": True}]})

    async def scenario() -> None:
        with jobs.graph.lock:
            reply = await asyncio.wait_for(jobs.create(_create(legacy), fail=False), timeout=5)
        await jobs.drain()
        assert reply["warnings"] == ["source_node_types.nodes[0].conditions is a legacy field: use "
                                     "condition_expression.specs"]

    asyncio.run(scenario())


def test_an_engine_fault_fails_that_job_and_not_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    jobs = _jobs(clock)

    async def scenario() -> None:
        reply = await jobs.create(_create(BODY), fail=False)
        await jobs.drain()
        clock.now += LATENCY
        failed = await _poll(jobs, reply["query_result_id"])
        assert failed["status"] == jobs.config.failed_status
        assert "RuntimeError" in failed["error"]["message"]
        assert "a bug in the engine" not in failed["error"]["message"]  # no internals in the reply
        monkeypatch.undo()
        other = await jobs.create(_create(spec()), fail=False)  # the next create is served as usual
        await jobs.drain()
        clock.now += LATENCY
        assert (await _poll(jobs, other["query_result_id"]))["status"] == "DONE"

    monkeypatch.setattr("runner.sandbox.jobs.run", broken)
    asyncio.run(scenario())


def test_a_drift_between_the_create_and_the_evaluation_labels_the_result_with_the_graph_it_saw() -> None:
    clock = Clock()
    jobs = _jobs(clock)
    before = jobs.graph.version

    async def scenario() -> None:
        with jobs.graph.lock:
            reply = await asyncio.wait_for(jobs.create(_create(BODY), fail=False), timeout=5)
            advance_graph(jobs.graph, seed=3, fraction=0.5)  # the lock is re-entrant: this thread holds it
        await jobs.drain()
        execution = jobs._cache.get(reply["cache_id"])
        assert execution is not None
        assert execution.graph_version == before + 1 == jobs.graph.version

    asyncio.run(scenario())


def test_a_restart_serves_every_job_it_answered_before_its_result_had_settled(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    identity = SandboxConfig().graph_identity()
    first = _jobs(clock, store=StateStore(tmp_path, identity, ttl=60.0, clock=clock))

    async def before_restart() -> tuple[str, str, str]:
        with first.graph.lock:
            answered = await asyncio.wait_for(first.create(_create(BODY), fail=False), timeout=5)
            # A joiner of the same unsettled execution: its job is stored with that result too.
            joined = await first.create(parse_create_body({"cached_result_if_available": {
                "request": {"body": BODY}, "max_staleness": "60s"}}), fail=False)
        assert joined["cache_id"] == answered["cache_id"]
        monkeypatch.setattr("runner.sandbox.jobs.run", broken)
        failed = await first.create(_create(spec()), fail=False)
        await first.drain()  # what a stop does (server._Server.shutdown)
        monkeypatch.setattr("runner.sandbox.jobs.run", real_run)
        return answered["query_result_id"], joined["query_result_id"], failed["query_result_id"]

    answered, joined, failed = asyncio.run(before_restart())
    again = _jobs(clock, store=StateStore(tmp_path, identity, ttl=60.0, clock=clock))
    clock.now += LATENCY  # after the store's wall-clock offset is taken: the test's clock moves alone

    async def after_restart() -> None:
        for query_result_id in (answered, joined):
            done = await _poll(again, query_result_id)
            assert done["status"] == "DONE" and done["values"], query_result_id
        assert (await _poll(again, failed))["status"] == again.config.failed_status

    asyncio.run(after_restart())


def test_an_evaluation_that_ends_after_a_reset_books_no_slot_in_the_fresh_sandbox() -> None:
    clock = Clock()
    jobs = _jobs(clock, job_slots=1)

    async def scenario() -> None:
        with jobs.graph.lock:
            await asyncio.wait_for(jobs.create(_create(BODY), fail=False), timeout=5)
            jobs.reset()
        await jobs.drain()
        clock.now += 0.1
        fresh = await jobs.create(_create(BODY), fail=False)
        await jobs.drain()
        clock.now += LATENCY
        assert (await _poll(jobs, fresh["query_result_id"]))["status"] == "DONE"  # not queued behind the old one
        assert jobs.slots.queued == 0

    asyncio.run(scenario())


def test_a_job_seen_running_never_turns_pending_when_it_settles_longer_than_expected() -> None:
    clock = Clock()
    jobs = _jobs(clock, cost_per_unit=1.0)  # the engine's cost makes the job far longer than --latency

    async def scenario() -> None:
        with jobs.graph.lock:
            reply = await asyncio.wait_for(jobs.create(_create(BODY), fail=False), timeout=5)
            clock.now += 0.6 * LATENCY
            assert (await _poll(jobs, reply["query_result_id"]))["status"] == "RUNNING"
        await jobs.drain()
        execution = jobs._cache.get(reply["cache_id"])
        assert execution is not None and execution.finished_at - execution.created_at > 3 * LATENCY
        assert (await _poll(jobs, reply["query_result_id"]))["status"] == "RUNNING"
        clock.now = execution.finished_at
        assert (await _poll(jobs, reply["query_result_id"]))["status"] == "DONE"

    asyncio.run(scenario())
