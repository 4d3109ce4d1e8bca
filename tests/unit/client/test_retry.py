"""Retry policy: full-jitter backoff bounds, Retry-After forms, the run budget, the poll ladder, resend bodies."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.client.retry import PollLadder, RetryBudget, RetryPolicy, cached_resend_body, parse_retry_after, poll_delays
from runner.model.values import JSONObject, JSONValue

SPEC: JSONObject = {"query_type": "SOURCE_TO_DESTINATION"}


def staleness(body: JSONObject, elapsed: float) -> JSONValue:
    resent = cached_resend_body(body, elapsed)
    assert resent is not None
    inner = resent["cached_result_if_available"]
    assert isinstance(inner, dict)
    return inner["max_staleness"]


@given(failures=st.integers(min_value=1, max_value=200), seed=st.integers(min_value=0, max_value=2**32))
def test_full_jitter_stays_within_the_exponential_ceiling(failures: int, seed: int) -> None:
    policy = RetryPolicy(base=0.5, cap=30.0)
    wait = policy.backoff(failures, random.Random(seed))
    assert 0.0 <= wait <= min(30.0, 0.5 * 2 ** (failures - 1))


def test_full_jitter_spreads_waits() -> None:
    rng = random.Random(1)
    waits = [RetryPolicy().backoff(5, rng) for _ in range(200)]
    assert min(waits) < 1.0 < 7.0 < max(waits) <= 8.0


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(base=0.5, retry_after_cap=10.0)
    rng = random.Random(3)
    assert 2.0 <= policy.wait(1, rng, retry_after=2.0) <= 2.5
    assert 10.0 <= policy.wait(1, rng, retry_after=3600.0) <= 10.5


def test_retry_after_forms() -> None:
    now = datetime(2026, 5, 9, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now) == 42.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=42), usegmt=True), now=now) == 0.0
    assert parse_retry_after("Sat, 09 May 2026 12:00:30", now=now) == 30.0  # no zone: taken as GMT
    for garbage in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026"):
        assert parse_retry_after(garbage, now=now) is None


def test_inconsistent_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(base=10.0, cap=1.0)
    with pytest.raises(ValueError, match="poll ladder"):
        PollLadder(jitter=1.0)


def test_budget_runs_out_when_nothing_succeeds_and_refills_on_success() -> None:
    budget = RetryBudget(capacity=3, refund=0.5)
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    assert budget.exhausted and budget.retries == 3 and budget.denied == 1
    budget.record_success()
    assert not budget.try_spend()  # half a token is not a retry
    budget.record_success()
    assert budget.try_spend()
    for _ in range(100):
        budget.record_success()
    assert budget.tokens == 3


def test_budget_survives_a_mostly_working_api() -> None:
    # 35% of requests failing (the fault mix): successes refill faster than failures drain.
    budget = RetryBudget(capacity=20)
    rng = random.Random(5)
    for _ in range(5000):
        if rng.random() < 0.35:
            assert budget.try_spend()
        else:
            budget.record_success()
    assert not budget.exhausted


def test_poll_ladder_starts_at_once_and_is_capped() -> None:
    delays = list(itertools.islice(poll_delays(PollLadder(), random.Random(0)), 40))
    assert delays[0] == 0.0
    assert 0.225 <= delays[1] <= 0.25
    assert max(delays) <= 5.0
    assert delays[-1] >= 4.5


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_a_five_second_job_needs_at_most_eight_polls(seed: int) -> None:
    elapsed, polls = 0.0, 0
    for delay in poll_delays(PollLadder(), random.Random(seed)):
        elapsed += delay
        polls += 1
        if elapsed >= 5.0:
            break
    assert polls <= 8


def test_a_one_second_job_is_seen_soon_after_it_ends() -> None:
    worst = 0.0
    for seed in range(200):
        elapsed = 0.0
        for delay in poll_delays(PollLadder(), random.Random(seed)):
            elapsed += delay
            if elapsed >= 1.0:
                worst = max(worst, elapsed)
                break
    assert worst <= 1.8


def test_unknown_outcome_resend_of_immediate_run_uses_elapsed_seconds() -> None:
    body: JSONObject = {"immediate_run": {"request": {"body": SPEC}}}
    assert cached_resend_body(body, 12.2) == {
        "cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "13s"}}
    assert cached_resend_body(body, 0.0) == {
        "cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "1s"}}


def test_unknown_outcome_resend_keeps_a_looser_original_staleness() -> None:
    loose: JSONObject = {"cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "43200s"}}
    assert staleness(loose, 30.5) == "43200s"
    tight: JSONObject = {"cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "5s"}}
    assert staleness(tight, 30.5) == "31s"
    default: JSONObject = {"cached_result_if_available": {"request": {"body": SPEC}}}
    assert staleness(default, 3) == "86400s"


def test_context_submits_are_resent_as_is() -> None:
    assert cached_resend_body({"cached_result_context": {"cache_id": "c-1"}}, 50) is None
