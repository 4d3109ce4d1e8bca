"""Expectations after a run: bounds, severities, messages, drift expectations skipped without a previous run, and
max_age_days on the finding lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from runner.assess.expectations import evaluate_expectations, evaluate_one
from runner.model.assessment import Drift, ExpectSeverity, Verdict
from runner.model.lifecycle import Lifecycle, OpenEntity
from runner.model.values import JSONValue

DRIFT = Drift(added=3, removed=1, previous_run="20260101T000000Z-abcd")


@pytest.mark.parametrize(("bounds", "rows", "verdict"), [
    ({"max": 0}, 0, Verdict.PASSED), ({"max": 0}, 1, Verdict.FAILED),
    ({"min": 2}, 1, Verdict.FAILED), ({"min": 2}, 2, Verdict.PASSED),
    ({"eq": 5}, 5, Verdict.PASSED), ({"eq": 5}, 4, Verdict.FAILED),
    ({"min": 1, "max": 3}, 3, Verdict.PASSED), ({"min": 1, "max": 3}, 4, Verdict.FAILED),
])
def test_row_bounds(bounds: dict[str, Any], rows: int, verdict: Verdict) -> None:
    outcome = evaluate_one({"rows": bounds}, rows=rows, drift=None)
    assert outcome is not None
    assert outcome.verdict is verdict and outcome.actual == rows
    assert outcome.severity is ExpectSeverity.ERROR  # the schema's default


def test_messages_name_the_count_and_the_bound_and_prefix_the_users_message_on_failure() -> None:
    entries: JSONValue = [
        {"rows": {"max": 0}, "severity": "warn", "message": "nobody should write"},
        {"rows": {"min": 1}, "message": "never shown when passing"},
    ]
    failed, passed = evaluate_expectations(entries, rows=7, drift=None)
    assert failed.message == "nobody should write: rows = 7 (expected max 0)"
    assert failed.severity is ExpectSeverity.WARN and not failed.is_error_failure
    assert passed.message == "rows = 7 (expected min 1)" and passed.verdict is Verdict.PASSED


def test_drift_metrics_use_the_previous_run_or_are_skipped_without_one() -> None:
    entries: JSONValue = [{"new_rows": {"max": 0}}, {"removed_rows": {"max": 1}}]
    new, removed = evaluate_expectations(entries, rows=10, drift=DRIFT)
    assert (new.verdict, new.actual, removed.verdict, removed.actual) == (Verdict.FAILED, 3, Verdict.PASSED, 1)
    assert new.is_error_failure and "since run 20260101T000000Z-abcd" in new.message
    skipped = evaluate_expectations(entries, rows=10, drift=None)
    assert [o.verdict for o in skipped] == [Verdict.SKIPPED] * 2
    assert skipped[0].message == "skipped: no previous run" and not skipped[0].is_error_failure
    gone = evaluate_expectations(entries, rows=10, drift=None, no_drift="skipped: results gone")
    assert gone[1].message == "skipped: results gone"
    assert skipped[0].to_json() == {"metric": "new_rows", "bounds": {"max": 0}, "severity": "error",
                                    "outcome": "skipped", "actual": None, "message": "skipped: no previous run"}


def test_entries_without_a_metric_or_not_a_list_are_ignored() -> None:
    assert evaluate_expectations(None, rows=1, drift=None) == ()
    assert evaluate_expectations([{"severity": "warn"}, "text"], rows=1, drift=None) == ()



def _lifecycle(*ages: int) -> Lifecycle:
    first = datetime(2026, 3, 1, tzinfo=UTC)
    oldest = tuple(OpenEntity(key=f"u{i}", name=None, first_seen=first, age_days=age) for i, age in enumerate(ages))
    return Lifecycle(previous_run="r1", new=0, persisting=len(ages), resolved=0, oldest=oldest)


@pytest.mark.parametrize(("ages", "verdict", "actual"), [
    ((31, 12), Verdict.FAILED, 31), ((30, 2), Verdict.PASSED, 30), ((), Verdict.PASSED, 0),
])
def test_max_age_days_is_the_age_of_the_oldest_open_entity(ages: tuple[int, ...], verdict: Verdict,
                                                           actual: int) -> None:
    outcome = evaluate_one({"max_age_days": 30, "message": "review them"}, rows=len(ages), drift=None,
                           lifecycle=_lifecycle(*ages))
    assert outcome is not None and (outcome.verdict, outcome.actual) == (verdict, actual)
    assert outcome.to_json()["bounds"] == {"max": 30} and outcome.metric == "max_age_days"
    if verdict is Verdict.FAILED:
        assert outcome.message == ("review them: max_age_days = 31, the oldest open entity first seen 2026-03-01 "
                                   "(expected at most 30 days)")
    else:
        assert not outcome.message.startswith("review them")


def test_max_age_days_is_skipped_without_a_lifecycle() -> None:
    (outcome,) = evaluate_expectations([{"max_age_days": 1}], rows=3, drift=DRIFT)
    assert outcome.verdict is Verdict.SKIPPED and outcome.actual is None and not outcome.is_error_failure
