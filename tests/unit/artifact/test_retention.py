"""runner/artifact/retention.py: what a run id says about when its run started (the history's bound for a run the
journal does not know). Pruning itself is tested with `vqr run`'s after-run step in tests/unit/report."""

from __future__ import annotations

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
