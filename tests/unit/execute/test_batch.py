"""`run_batch` on a scripted Veza (MockTransport) with a real SQLite journal: submit sharing, every stop reason,
Ctrl-C with a resumable journal, and one query's failure leaving the others' results intact.
"""

from __future__ import annotations

import asyncio

import pytest

from runner.client.retry import RetryBudget
from runner.model.plans import Member
from runner.model.results import ErrorCategory, QueryResult, QueryStatus, StopReason
from runner.plan.batch import build_groups
from runner.plan.select import canonical_json
from runner.state.journal import QueryState
from tests.unit.execute.fake_veza import Rig, Script, result_lines, rows

S = QueryStatus


def statuses(results: tuple[QueryResult, ...]) -> dict[str, QueryStatus]:
    return {r.name: r.status for r in results}


def text_of(rig: Rig, name: str) -> str:
    return rig.rundir.result_path(name).read_text()


# --- submit sharing ------------------------------------------------------------------------------------------------


def test_identical_create_bodies_share_one_submit(rig: Rig) -> None:
    users = rows("u1", "u2", "u3")
    rig.fake.scripts["users"] = Script(rows=users, pending=2)
    first, second = rig.member("okta-users", label="users"), rig.member("okta-users-copy", label="users")
    assert first.body == second.body

    outcome = asyncio.run(rig.batch([[first, second]]))

    assert len(rig.fake.submits) == 1 and rig.fake.submits_per_label["users"] == 1
    a, b = outcome.results
    assert (a.status, b.status) == (S.SUCCEEDED, S.SUCCEEDED)
    assert a.shared_submit and b.shared_submit
    assert a.query_result_id == b.query_result_id == rig.fake.submitted_ids("users")[0]
    assert a.rows == b.rows == 3 and a.sha256 == b.sha256
    assert text_of(rig, "okta-users") == text_of(rig, "okta-users-copy") == result_lines(users)
    assert rig.state("okta-users").state is rig.state("okta-users-copy").state is QueryState.DONE


def test_different_bodies_are_submitted_separately(rig: Rig) -> None:
    for label in ("users", "groups"):
        rig.fake.scripts[label] = Script(rows=rows(f"{label}-1"))
    plans = [rig.plan("a", label="users"), rig.plan("b", label="groups"), rig.plan("c", label="users")]
    groups = build_groups(plans, lambda name, spec: None)
    assert [[m.plan.name for m in g] for g in groups] == [["a", "c"], ["b"]]

    outcome = asyncio.run(rig.batch(groups))

    assert [r.name for r in outcome.results] == ["a", "c", "b"]  # plan order within groups, groups in order
    assert all(r.status is S.SUCCEEDED for r in outcome.results)
    assert len(rig.fake.submits) == 2 and sorted(rig.fake.submits_per_body.values()) == [1, 1]
    assert {r.name: r.shared_submit for r in outcome.results} == {"a": True, "c": True, "b": False}
    by_name = {r.name: r for r in outcome.results}
    assert by_name["a"].query_result_id == by_name["c"].query_result_id != by_name["b"].query_result_id
    assert text_of(rig, "b") == result_lines(rows("groups-1"))


def test_the_same_spec_under_another_cache_mode_is_another_submit(rig: Rig) -> None:
    rig.fake.scripts["users"] = Script(rows=rows("u1"))
    immediate = rig.member("now", label="users")
    cached = rig.member("cached", label="users", cache={"mode": "if_available", "max_staleness": "1h"})

    asyncio.run(rig.batch([[immediate], [cached]]))

    assert sorted(next(iter(body)) for body in rig.fake.submits) == ["cached_result_if_available", "immediate_run"]
    assert set(rig.fake.submits_per_body) == {canonical_json(immediate.body), canonical_json(cached.body)}


# --- stop reasons --------------------------------------------------------------------------------------------------


def three_in_line(rig: Rig, first: Script) -> list[list[Member]]:
    """`bad` then two good queries, each its own group (run one at a time, in this order)."""
    rig.fake.scripts["bad"] = first
    rig.fake.scripts["ok"] = Script(rows=rows("x"))
    return [[rig.member("bad")], [rig.member("ok-1", label="ok")], [rig.member("ok-2", label="ok")]]


def test_a_refused_key_stops_every_later_group(rig: Rig) -> None:
    groups = three_in_line(rig, Script(refuse=401))

    outcome = asyncio.run(rig.batch(groups, concurrency=1))

    assert outcome.stopped is StopReason.AUTH and not outcome.interrupted
    assert statuses(outcome.results) == {"bad": S.FAILED, "ok-1": S.NOT_RUN, "ok-2": S.NOT_RUN}
    error = outcome.results[0].error
    assert error is not None and error.category is ErrorCategory.AUTH and error.request_id == "req-bad-401"
    assert len(rig.fake.requests) == 1  # nothing was sent for the queries after it
    assert rig.state("ok-1").state is rig.state("ok-2").state is QueryState.PENDING


@pytest.mark.parametrize("fail_fast", [True, False])
def test_fail_fast_stops_after_a_refused_spec(rig: Rig, fail_fast: bool) -> None:
    groups = three_in_line(rig, Script(refuse=400))

    outcome = asyncio.run(rig.batch(groups, concurrency=1, fail_fast=fail_fast))

    if fail_fast:
        assert outcome.stopped is StopReason.FAIL_FAST
        assert statuses(outcome.results) == {"bad": S.FAILED, "ok-1": S.NOT_RUN, "ok-2": S.NOT_RUN}
        assert rig.fake.submits_per_label["ok"] == 0
    else:
        assert outcome.stopped is None
        assert statuses(outcome.results) == {"bad": S.FAILED, "ok-1": S.SUCCEEDED, "ok-2": S.SUCCEEDED}


def test_a_spent_retry_budget_stops_the_batch(rig: Rig) -> None:
    rig.budget = RetryBudget(capacity=1, refund=0)
    groups = three_in_line(rig, Script(refuse=503))

    outcome = asyncio.run(rig.batch(groups, concurrency=1))

    assert outcome.stopped is StopReason.RETRY_BUDGET
    assert statuses(outcome.results) == {"bad": S.FAILED, "ok-1": S.NOT_RUN, "ok-2": S.NOT_RUN}
    error = outcome.results[0].error
    assert error is not None and error.category is ErrorCategory.TRANSIENT
    assert "retry budget is exhausted" in error.message
    assert rig.fake.submits_per_label["bad"] == 2  # the one retry the budget held, then no more
    assert rig.budget.exhausted and rig.budget.denied == 1


def test_a_budget_spent_by_the_last_group_still_marks_the_stop(rig: Rig) -> None:
    rig.budget = RetryBudget(capacity=1, refund=0)
    rig.fake.scripts["flaky"] = Script(rows=rows("f"), submit_failures=[503])

    outcome = asyncio.run(rig.batch([[rig.member("flaky")]]))

    assert outcome.results[0].status is S.SUCCEEDED  # its one retry worked, and spent the last token
    assert outcome.stopped is StopReason.RETRY_BUDGET


@pytest.mark.parametrize("spent", [StopReason.RUN_DEADLINE, StopReason.RETRY_BUDGET])
def test_a_run_whose_deadline_or_budget_is_already_spent_starts_nothing(rig: Rig, spent: StopReason) -> None:
    groups = three_in_line(rig, Script(rows=rows("y")))
    if spent is StopReason.RETRY_BUDGET:
        rig.budget = RetryBudget(capacity=0)

    outcome = asyncio.run(rig.batch(groups, deadline_in=-1.0 if spent is StopReason.RUN_DEADLINE else None))

    assert outcome.stopped is spent
    assert statuses(outcome.results) == {"bad": S.NOT_RUN, "ok-1": S.NOT_RUN, "ok-2": S.NOT_RUN}
    assert rig.fake.requests == []


def test_a_run_deadline_passing_while_a_job_runs_fails_it_and_stops_the_rest(rig: Rig) -> None:
    async def jump(nth: int, token: str) -> None:
        rig.clock.advance(120.0)  # the run's 30 s pass during the first poll

    groups = three_in_line(rig, Script(pending=10**6, on_read=jump))

    outcome = asyncio.run(rig.batch(groups, concurrency=1, deadline_in=30.0))

    assert outcome.stopped is StopReason.RUN_DEADLINE
    assert statuses(outcome.results) == {"bad": S.FAILED, "ok-1": S.NOT_RUN, "ok-2": S.NOT_RUN}
    error = outcome.results[0].error
    assert error is not None and error.category is ErrorCategory.DEADLINE
    assert rig.fake.reads[rig.fake.submitted_ids("bad")[0]] == 1  # given up without polling past the deadline
    assert rig.state("bad").state is QueryState.FAILED and rig.state("bad").error_category == "deadline"


# --- cancellation --------------------------------------------------------------------------------------------------


def test_an_interrupt_while_a_job_is_pending_keeps_it_resumable(rig: Rig) -> None:
    async def scenario() -> None:
        interrupt = asyncio.Event()

        async def ctrl_c(nth: int, token: str) -> None:
            if nth == 2:
                interrupt.set()

        script = Script(rows=rows("s1", "s2"), pending=10**6, on_read=ctrl_c)
        groups = three_in_line(rig, script)

        outcome = await rig.batch(groups, concurrency=1, interrupt=interrupt)

        assert outcome.interrupted and outcome.stopped is None
        assert statuses(outcome.results) == {"bad": S.INTERRUPTED, "ok-1": S.NOT_RUN, "ok-2": S.NOT_RUN}
        (job_id,) = rig.fake.submitted_ids("bad")
        record = rig.state("bad")
        assert record.state is QueryState.SUBMITTED and record.query_result_id == job_id
        assert rig.state("ok-1").state is QueryState.PENDING
        assert not rig.rundir.result_path("bad").exists()
        assert rig.fake.submits_per_label["ok"] == 0

        # `--resume`: the job has finished meanwhile; it is polled by its id, never submitted again.
        script.pending, script.on_read = 0, None
        records = rig.journal.query_states(rig.run_id)
        again = await rig.batch(groups, concurrency=1, records=records)

        assert not again.interrupted and all(r.status is S.SUCCEEDED for r in again.results)
        assert rig.fake.submits_per_label["bad"] == 1
        assert again.results[0].query_result_id == job_id
        assert text_of(rig, "bad") == result_lines(rows("s1", "s2"))

    asyncio.run(scenario())


def test_an_interrupt_while_paging_leaves_no_partial_file(rig: Rig) -> None:
    async def scenario() -> None:
        interrupt = asyncio.Event()

        async def ctrl_c_then_hang(nth: int, token: str) -> None:
            if token == "2":
                interrupt.set()
                await asyncio.Event().wait()  # the page never comes: only the cancellation ends this read

        rig.fake.scripts["big"] = Script(rows=rows("1", "2", "3", "4", "5"), on_read=ctrl_c_then_hang)
        rig.fake.scripts["ok"] = Script(rows=rows("x"))
        groups = [[rig.member("big")], [rig.member("later", label="ok")]]

        outcome = await rig.batch(groups, concurrency=1, interrupt=interrupt, page_size=2)

        assert outcome.interrupted
        assert statuses(outcome.results) == {"big": S.INTERRUPTED, "later": S.NOT_RUN}
        record = rig.state("big")
        assert record.state is QueryState.FETCHING and record.query_result_id == rig.fake.submitted_ids("big")[0]
        results_dir = rig.rundir.result_path("big").parent
        assert list(results_dir.iterdir()) == []  # neither the result nor its temp file

    asyncio.run(scenario())


# --- failures are values -------------------------------------------------------------------------------------------


def test_a_refused_query_fails_alone(rig: Rig) -> None:
    good_rows = rows("g1", "g2")
    rig.fake.scripts["bad"] = Script(refuse=400)
    rig.fake.scripts["good"] = Script(rows=good_rows, pending=3)

    outcome = asyncio.run(rig.batch([[rig.member("bad")], [rig.member("good")]], concurrency=2))

    assert outcome.stopped is None and not outcome.interrupted
    bad, good = outcome.results
    assert bad.status is S.FAILED and bad.error is not None
    assert bad.error.category is ErrorCategory.INVALID_REQUEST and bad.error.request_id == "req-bad-400"
    assert "HTTP 400" in bad.error.message and bad.results_file is None
    assert not rig.rundir.result_path("bad").exists()
    assert good.status is S.SUCCEEDED and good.rows == 2 and good.polls == 4
    assert good.results_file == "results/good.jsonl" and text_of(rig, "good") == result_lines(good_rows)
    record = rig.state("bad")
    assert (record.state, record.error_category, record.request_id) == (QueryState.FAILED, "invalid_request",
                                                                       "req-bad-400")
    assert rig.state("good").state is QueryState.DONE and rig.state("good").rows == 2
    assert outcome.count(S.FAILED) == 1 and outcome.count(S.SUCCEEDED) == 1
