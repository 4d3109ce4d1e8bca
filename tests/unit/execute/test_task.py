"""`run_group`/`run_member` on a scripted Veza with a real SQLite journal: resuming from each recorded state,
problems known before sending, the context-id fallback, job failures, paging, and a shared submit's failure.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from runner.model.lifecycle import LifecycleScope
from runner.model.plans import Member
from runner.model.results import ErrorCategory, QueryError, QueryStatus
from runner.model.values import JSONObject
from runner.state.journal import QueryState
from tests.unit.execute.fake_veza import KEY, Rig, Script, result_lines, rows

S = QueryState


# --- resume: what the journal recorded decides what is sent --------------------------------------------------------


def test_a_query_recorded_done_is_kept_without_any_call(rig: Rig) -> None:
    member = rig.member("done")
    rig.pending([member])
    rig.journal.record(rig.run_id, "done", S.DONE, rows=3, sha256="ab" * 32, query_result_id="qr-earlier",
                       cache_id="cache-earlier", mode="immediate_run", result_path="/elsewhere/done.jsonl")
    records = rig.journal.query_states(rig.run_id)

    (result,) = asyncio.run(rig.group([member], records=records))

    assert rig.fake.requests == []
    assert result.status is QueryStatus.SUCCEEDED and result.kept
    assert (result.rows, result.sha256, result.query_result_id, result.cache_id) == (3, "ab" * 32, "qr-earlier",
                                                                                      "cache-earlier")
    assert result.results_file == "results/done.jsonl"
    assert rig.state("done").state is S.DONE  # untouched


@pytest.mark.parametrize("recorded", [S.SUBMITTED, S.FETCHING])
def test_a_recorded_query_result_id_is_polled_not_resubmitted(rig: Rig, recorded: QueryState) -> None:
    wanted = rows("r1", "r2", "r3")
    rig.fake.scripts["resumed"] = Script(rows=wanted, pending=1)
    rig.fake.add_job("qr-from-last-night", "resumed", cache_id="cache-9")
    member = rig.member("resumed")
    rig.pending([member])
    rig.journal.record(rig.run_id, "resumed", S.SUBMITTED, query_result_id="qr-from-last-night",
                       cache_id="cache-9", mode="immediate_run")
    if recorded is S.FETCHING:
        rig.journal.record(rig.run_id, "resumed", S.FETCHING)
    records = rig.journal.query_states(rig.run_id)

    (result,) = asyncio.run(rig.group([member], records=records, page_size=2))

    assert rig.fake.submits == []
    assert rig.fake.reads["qr-from-last-night"] == 3  # one PENDING poll, then two pages
    assert result.status is QueryStatus.SUCCEEDED and not result.kept
    assert (result.query_result_id, result.cache_id, result.rows) == ("qr-from-last-night", "cache-9", 3)
    assert rig.rundir.result_path("resumed").read_text() == result_lines(wanted)
    assert rig.state("resumed").state is S.DONE


def test_an_expired_recorded_id_is_submitted_again(rig: Rig) -> None:
    rig.fake.scripts["expired"] = Script(rows=rows("e1"))
    member = rig.member("expired")
    rig.pending([member])
    rig.journal.record(rig.run_id, "expired", S.SUBMITTED, query_result_id="qr-long-gone", attempts=1)
    records = rig.journal.query_states(rig.run_id)

    (result,) = asyncio.run(rig.group([member], records=records))

    assert rig.fake.reads["qr-long-gone"] == 1  # answered 404
    assert rig.fake.submits == [member.body]
    assert result.status is QueryStatus.SUCCEEDED
    assert result.query_result_id == rig.fake.submitted_ids("expired")[0]
    assert rig.state("expired").attempts == 2


@pytest.mark.parametrize(("cache", "staleness"), [
    ({"mode": "immediate"}, (90, 120)),  # whole seconds since the lost submit began
    ({"mode": "if_available", "max_staleness": "12h"}, (43200, 43200)),  # never stricter than the query's own
])
def test_a_query_recorded_submitting_is_resent_as_cached(rig: Rig, cache: JSONObject,
                                                         staleness: tuple[int, int]) -> None:
    rig.fake.scripts["lost"] = Script(rows=rows("l1"))
    member = rig.member("lost", cache=cache)
    assert member.body is not None
    rig.pending([member])
    rig.wall.shift = timedelta(seconds=-90)  # the killed process began its submit 90 s ago
    rig.journal.record(rig.run_id, "lost", S.SUBMITTING, attempts=1, mode=next(iter(member.body)))
    rig.wall.shift = timedelta()
    records = rig.journal.query_states(rig.run_id)

    (result,) = asyncio.run(rig.group([member], records=records))

    (sent,) = rig.fake.submits
    assert list(sent) == ["cached_result_if_available"]
    inner = sent["cached_result_if_available"]
    assert isinstance(inner, dict) and isinstance(inner["max_staleness"], str)
    (original,) = member.body.values()
    assert isinstance(original, dict) and inner["request"] == original["request"]
    low, high = staleness
    assert low <= int(inner["max_staleness"].removesuffix("s")) <= high
    assert result.status is QueryStatus.SUCCEEDED and result.mode == "cached_result_if_available"
    assert rig.state("lost").state is S.DONE and rig.state("lost").attempts == 1


# --- failing before, during and after the submit -------------------------------------------------------------------


def test_a_member_with_a_known_problem_fails_without_any_call(rig: Rig) -> None:
    problem = QueryError(category=ErrorCategory.CACHE_CONTEXT, message="cache_id: previous, but nothing recorded")
    member = Member(plan=rig.plan("no-context"), body=None, problem=problem)

    (result,) = asyncio.run(rig.group([member]))

    assert rig.fake.requests == []
    assert result.status is QueryStatus.FAILED and result.error == problem
    assert result.finished_at is not None and result.results_file is None
    record = rig.state("no-context")
    assert (record.state, record.error_category, record.error_detail) == (S.FAILED, "cache_context",
                                                                          problem.message)


def test_an_expired_context_id_falls_back_to_running(rig: Rig) -> None:
    rig.fake.scripts["cache-stale"] = Script(refuse=404)
    rig.fake.scripts["ctx"] = Script(rows=rows("c1"))
    plan = rig.plan("ctx")
    fallback: JSONObject = {"immediate_run": {"request": {"body": plan.spec}}}
    member = Member(plan=plan, body={"cached_result_context": {"cache_id": "cache-stale"}}, fallback=fallback)

    (result,) = asyncio.run(rig.group([member]))

    assert rig.fake.submits == [member.body, fallback]
    assert result.status is QueryStatus.SUCCEEDED and result.mode == "immediate_run"
    assert rig.rundir.result_path("ctx").read_text() == result_lines(rows("c1"))


def test_a_job_ending_in_a_failure_word_is_job_failed(rig: Rig) -> None:
    rig.fake.scripts["dies"] = Script(pending=1, final="FAILED", job_error={"code": "Internal", "message": "oom"})
    member = rig.member("dies")

    (result,) = asyncio.run(rig.group([member]))

    assert result.status is QueryStatus.FAILED and result.error is not None
    assert result.error.category is ErrorCategory.JOB_FAILED and "Internal: oom" in result.error.message
    assert not rig.rundir.result_path("dies").exists()
    assert rig.state("dies").state is S.FAILED and rig.state("dies").error_category == "job_failed"


def test_every_page_is_streamed_in_order_and_hashed(rig: Rig) -> None:
    wanted = rows(*(f"p{i}" for i in range(7)))
    rig.fake.scripts["paged"] = Script(rows=wanted)
    member = rig.member("paged")

    (result,) = asyncio.run(rig.group([member], page_size=3))

    (job_id,) = rig.fake.submitted_ids("paged")
    assert rig.fake.pages[job_id] == 3
    data = rig.rundir.result_path("paged").read_bytes()
    assert data.decode() == result_lines(wanted)
    assert result.rows == 7 and result.sha256 == hashlib.sha256(data).hexdigest() and result.polls == 1
    record = rig.state("paged")
    assert (record.state, record.rows, record.sha256) == (S.DONE, 7, result.sha256)


def test_a_row_count_that_disagrees_with_the_pages_is_a_response_error(rig: Rig) -> None:
    rig.fake.scripts["short"] = Script(rows=rows("1", "2"), row_count=5)
    member = rig.member("short")

    (result,) = asyncio.run(rig.group([member]))

    assert result.status is QueryStatus.FAILED and result.error is not None
    assert result.error.category is ErrorCategory.RESPONSE and "5 rows" in result.error.message
    assert list(rig.rundir.result_path("short").parent.iterdir()) == []  # no result, no temp file


def test_a_shared_submit_that_is_refused_fails_every_member(rig: Rig) -> None:
    rig.fake.scripts["shared"] = Script(refuse=400)
    members = [rig.member("one", label="shared"), rig.member("two", label="shared")]

    results = asyncio.run(rig.group(members))

    assert len(rig.fake.submits) == 1
    assert [r.status for r in results] == [QueryStatus.FAILED, QueryStatus.FAILED]
    assert all(r.shared_submit and r.error is not None and r.error.request_id == "req-shared-400" for r in results)
    assert rig.state("one").state is rig.state("two").state is S.FAILED


def test_a_transient_submit_failure_is_retried_and_recovers(rig: Rig) -> None:
    rig.fake.scripts["flaky"] = Script(rows=rows("f1"), submit_failures=[503, 503])
    member = rig.member("flaky")

    (result,) = asyncio.run(rig.group([member]))

    assert rig.fake.submits == [member.body] * 3  # 503 is never delivered: resent as is
    assert result.status is QueryStatus.SUCCEEDED and rig.budget.retries == 2


def test_a_query_kept_by_a_resume_reports_its_lifecycle_once(rig: Rig) -> None:
    # The first attempt fetched and recorded the entities; the resume finishes the kept query again (`_finish`),
    # which must report the same lifecycle and leave the journal's entities as the first attempt left them.
    rig.fake.scripts["users"] = Script(rows=rows("u1", "u2", "u1"))
    member = rig.member("users")
    rig.pending([member])
    (first,) = asyncio.run(rig.group([member]))
    assert first.lifecycle is not None and (first.lifecycle.previous_run, first.lifecycle.new) == (None, 2)
    (again,) = asyncio.run(rig.group([member], records=rig.journal.query_states(rig.run_id)))
    assert again.kept and again.lifecycle == first.lifecycle
    scope = LifecycleScope(env=KEY.env, target=KEY.target, query="users", spec_hash=member.plan.spec_hash)
    stored = rig.journal.open_entities(scope, run_id="the-next-run")
    assert stored.previous_run == rig.run_id and len(stored.keys) == 2
