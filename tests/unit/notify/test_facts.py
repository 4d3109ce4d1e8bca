"""runner.notify.facts: run.json → facts and triggers, CONTRACT14's exceptions and lifecycle, hostile files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from runner.errors import UsageError
from runner.model.notify import Trigger
from runner.notify.facts import read_facts, triggers
from tests.unit.notify.runs import contract_run, golden_run


def test_the_golden_run_reads_into_facts(tmp_path: Path) -> None:
    run = read_facts(golden_run(tmp_path), expiring_within_days=14)
    assert run.run_id == "20250301T020000Z-a1b2" and run.exit_code == 1 and run.env == "sandbox"
    assert run.as_of == date(2025, 3, 1)  # no as_of: the finish time's day
    names = {q.name: q for q in run.queries}
    assert names["stale-access-keys"].failed and names["stale-access-keys"].error is not None
    assert names["admin-roles"].failed  # its error expectation failed
    assert not names["s3-write-paths"].failed  # a skipped warn expectation is nothing
    assert names["okta-users-with-s3-write"].new_rows == 1 and names["okta-users-with-s3-write"].new_entities is None
    assert run.owners() == ["identity-team", "cloud-team", None]
    assert triggers(run, run.queries, everyone=True) == {Trigger.ALWAYS, Trigger.FAILURE, Trigger.NEW_ROWS}
    identity = [q for q in run.queries if q.owner == "identity-team"]
    assert triggers(run, identity, everyone=False) == {Trigger.ALWAYS, Trigger.NEW_ROWS}


def test_exceptions_expiring_within_the_window_and_expired_ones_are_read(tmp_path: Path) -> None:
    run = read_facts(contract_run(tmp_path), expiring_within_days=14)
    assert run.as_of == date(2025, 3, 1)
    first = run.queries[0]
    assert [(e.id, e.expired) for e in first.exceptions] == [("exceptions/okta.yaml#2", True),
                                                             ("exceptions/okta.yaml#0", False)]
    assert first.new_entities == 2
    assert Trigger.EXPIRING_EXCEPTIONS in triggers(run, [first], everyone=False)
    wider = read_facts(contract_run(tmp_path, name="wider"), expiring_within_days=120)
    assert len(wider.queries[0].exceptions) == 3  # the rule expiring on 2025-06-01 is within 120 days


def test_no_expiring_exception_is_no_trigger(tmp_path: Path) -> None:
    run = read_facts(contract_run(tmp_path), expiring_within_days=14)
    others = run.queries[1:]
    assert Trigger.EXPIRING_EXCEPTIONS not in triggers(run, others, everyone=False)


def test_lifecycle_new_alone_is_new_rows(tmp_path: Path) -> None:
    directory = contract_run(tmp_path)
    data = json.loads((directory / "run.json").read_text())
    data["queries"][0]["drift"] = None  # no drift, only the lifecycle's new entities
    (directory / "run.json").write_text(json.dumps(data))
    run = read_facts(directory, expiring_within_days=14)
    assert run.queries[0].new_rows == 0 and Trigger.NEW_ROWS in triggers(run, run.queries[:1], everyone=False)


def test_a_lifecycles_first_run_is_a_baseline_not_new_rows(tmp_path: Path) -> None:
    directory = contract_run(tmp_path)
    data = json.loads((directory / "run.json").read_text())
    data["queries"][0]["drift"] = None
    data["queries"][0]["lifecycle"]["previous_run"] = None  # every entity is "new" on the first run
    (directory / "run.json").write_text(json.dumps(data))
    run = read_facts(directory, expiring_within_days=14)
    assert Trigger.NEW_ROWS not in triggers(run, run.queries[:1], everyone=False)


def test_an_interrupted_run_is_a_failure_for_everyone(tmp_path: Path) -> None:
    directory = golden_run(tmp_path)
    data = json.loads((directory / "run.json").read_text())
    data["status"], data["exit_code"] = "interrupted", 130
    for query in data["queries"]:
        query.update(status="succeeded", expectations=[], error=None)
    (directory / "run.json").write_text(json.dumps(data))
    run = read_facts(directory, expiring_within_days=14)
    assert Trigger.FAILURE in triggers(run, run.queries, everyone=True)
    assert Trigger.FAILURE not in triggers(run, run.queries, everyone=False)


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"run_id": 3, "queries": []}', b"\xff\xfe"])
def test_a_file_that_is_not_a_run_json_is_a_usage_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "run.json").write_bytes(content)
    with pytest.raises(UsageError):
        read_facts(tmp_path, expiring_within_days=14)


def test_a_missing_run_json_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_facts(tmp_path, expiring_within_days=14)


def test_fields_of_the_wrong_type_are_absent_not_a_crash(tmp_path: Path) -> None:
    hostile = {"run_id": "r", "queries": [
        {"name": "q", "status": 7, "expectations": "x", "drift": {"added": "lots"}, "owner": ["a"],
         "exceptions": {"active": [{"id": "x"}, 3], "expired": "no"}, "lifecycle": {"new": "2"}},
        "not a query", {"status": "failed"}], "as_of": "yesterday", "exit_code": True}
    (tmp_path / "run.json").write_text(json.dumps(hostile))
    run = read_facts(tmp_path, expiring_within_days=14)
    assert [q.name for q in run.queries] == ["q"]
    query = run.queries[0]
    assert (query.status, query.new_rows, query.owner, query.exceptions, query.new_entities) == (
        "unknown", 0, None, (), None)
    assert run.exit_code == 0
