"""runner/artifact/retention.py: what a run id says about when its run started (the history's bound for a run the
journal does not know). Pruning itself is tested with `vqr run`'s after-run step in tests/unit/report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.artifact.retention import RUN_ID, latest_start
from runner.artifact.rundir import new_run_id


def test_a_run_id_holds_its_start_second() -> None:
    assert latest_start("20250215T030000Z-0000") == datetime(2025, 2, 15, 3, 0, 0, 999_999, tzinfo=UTC)
    moment = datetime(2026, 5, 9, 7, 0, 1, 250_000, tzinfo=UTC)
    run_id = new_run_id(moment)
    assert RUN_ID.match(run_id)
    assert latest_start(run_id) == moment.replace(microsecond=999_999)


@pytest.mark.parametrize("name", [None, "", "latest", "20250215T030000Z", "20250215T030000Z-zzzz",
                                  "20251315T030000Z-0000", "x20250215T030000Z-0000"])
def test_anything_else_gives_no_bound(name: str | None) -> None:
    assert latest_start(name) is None


def make_run(reports: Path, run_id: str, *, complete: bool = True) -> Path:
    path = reports / run_id
    (path / "results").mkdir(parents=True)
    if complete:
        (path / "run.json").write_text("{}")
    return path


def test_retention_never_deletes_a_live_run_nor_a_resumable_one(tmp_path: Path) -> None:
    """The attack: with `retention: 1`, a fast run finishing while a slow one is live deleted the slow one; an
    interrupted run waiting for `--resume` was pruned as well."""
    from runner.artifact.retention import prune_runs
    from runner.artifact.runlock import RunLock
    from runner.model.results import RunStatus
    from runner.state.journal import QueryState, open_journal

    reports, journal_path = tmp_path / "reports", tmp_path / ".vqr" / "state.sqlite"
    live = make_run(reports, "20260101T000000Z-aaaa", complete=False)
    waiting = make_run(reports, "20260101T000001Z-bbbb")  # interrupted: it has a run.json too
    killed = make_run(reports, "20260101T000002Z-cccc", complete=False)
    superseded = make_run(reports, "20260101T000003Z-dddd")
    newest = make_run(reports, "20260101T000009Z-eeee")
    with open_journal(journal_path) as journal:
        for run_id, name, status in ((waiting.name, "other", RunStatus.INTERRUPTED),
                                     (killed.name, "other", RunStatus.RUNNING),
                                     (superseded.name, "q", RunStatus.INTERRUPTED),
                                     (newest.name, "q", RunStatus.COMPLETED)):
            journal.start_run(run_id, env="sandbox", target="embedded")
            journal.record(run_id, name, QueryState.PENDING, spec_hash="h")
            if status is not RunStatus.RUNNING:
                journal.finish_run(run_id, status)
    with RunLock.acquire(live):
        deleted = prune_runs(reports, 1, journal_path=journal_path)
    assert deleted == [superseded]  # superseded: "newest" ran its query and completed after it
    assert live.is_dir() and waiting.is_dir() and killed.is_dir() and newest.is_dir()
    # Unlocked and unknown to the journal, the old run is fair game; without a journal, a run without run.json
    # (it may be a killed run) is kept.
    assert prune_runs(reports, 1, journal_path=tmp_path / "elsewhere.sqlite") == [waiting]
    assert live.is_dir() and killed.is_dir()


def keyed_run(reports: Path, run_id: str, env: str, target: str, **queries: str) -> Path:
    """A complete run of (`env`, `target`) whose run.json says how each query ended."""
    path = make_run(reports, run_id, complete=False)
    listed = [{"name": name, "status": status} for name, status in queries.items()]
    (path / "run.json").write_text(json.dumps({"env": env, "target": target, "queries": listed}))
    return path


PROD = ("prod", "https://acme.vezacloud.com")
SANDBOX = ("sandbox", "embedded/graph-0123456789abcdef")


def test_retention_keeps_the_newest_runs_of_each_environment_and_target(tmp_path: Path) -> None:
    """The attack: with `retention: 1`, a sandbox run deleted prod's only run, so prod's next drift and `new_rows`
    said 'the results of run ... are no longer readable'. Each key keeps its own newest `keep`."""
    from runner.artifact.retention import prune_runs

    reports = tmp_path / "reports"
    prod_old = keyed_run(reports, "20260101T000000Z-aaaa", *PROD, q="succeeded")
    prod_new = keyed_run(reports, "20260101T000001Z-bbbb", *PROD, q="succeeded")
    box = [keyed_run(reports, f"20260101T00000{i}Z-ccc{i}", *SANDBOX, q="succeeded") for i in range(2, 6)]
    other_target = keyed_run(reports, "20260101T000006Z-dddd", "prod", "https://staging.example.com", q="succeeded")
    assert prune_runs(reports, 1) == [prod_old, *box[:3]]
    assert prod_new.is_dir() and box[3].is_dir() and other_target.is_dir()
    assert prune_runs(reports, 1) == []


def test_retention_never_deletes_a_keys_last_successful_run_of_a_query(tmp_path: Path) -> None:
    """Runs where a query failed do not push out the run a later run compares it with."""
    from runner.artifact.retention import prune_runs

    reports = tmp_path / "reports"
    older = keyed_run(reports, "20260101T000000Z-aaaa", *PROD, q="succeeded", r="succeeded")
    last_good = keyed_run(reports, "20260101T000001Z-bbbb", *PROD, q="succeeded", r="failed")
    failing = [keyed_run(reports, f"20260101T00000{i}Z-ccc{i}", *PROD, q="failed", r="succeeded")
               for i in range(2, 5)]
    assert prune_runs(reports, 2) == [older, failing[0]]  # r succeeded later; q's last success is `last_good`
    assert last_good.is_dir() and failing[1].is_dir() and failing[2].is_dir()
