"""Shared by the report tests: the fixed run artifact under tests/golden/run-fixture, copied where tests may write,
and a real journal (runner.state.journal) holding earlier runs of its queries, for trends and `vqr report history`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runner.model.results import RunStatus
from runner.state.journal import HistoryKey, QueryState, open_journal

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FIXTURE = GOLDEN / "run-fixture"
# The example repository's 15 nightly queries (queries/, with their owners), second of two sandbox runs around a
# `/_sandbox/advance`: drift in most queries, five new_rows warnings. The README's screenshot is rendered from it.
EXAMPLE = GOLDEN / "example-run"
RUN_ID = "20250301T020000Z-a1b2"
KEY = HistoryKey(env="sandbox", target="embedded")  # the fixture run's environment and target (run.json)
UPDATE = os.environ.get("VQR_UPDATE_GOLDEN") == "1"  # regenerate golden files instead of comparing


def copy_fixture(reports: Path) -> Path:
    """The fixture as `reports/<run-id>/`, with `reports/latest` pointing at it."""
    target = reports / RUN_ID
    shutil.copytree(FIXTURE, target)
    (reports / "latest").symlink_to(RUN_ID, target_is_directory=True)
    return target


def past_run_id(day: int) -> str:
    return f"202502{day:02d}T020000Z-{day:04x}"


def build_journal(path: Path, *, days: Sequence[int] = tuple(range(1, 29)), include_current: bool = True) -> Path:
    """Runs on the given days of February 2025 (and the fixture's own run), each with the fixture's queries:
    `okta-users-with-s3-write` grows by one row a day, fails on day 10, and changes spec on day 20."""
    start = datetime(2025, 2, 1, 2, 0, tzinfo=UTC)
    clock = [start]
    with open_journal(path, clock=lambda: clock[0]) as journal:
        runs = [(past_run_id(day), start + timedelta(days=day - 1)) for day in days]
        if include_current:
            runs.append((RUN_ID, datetime(2025, 3, 1, 2, 0, tzinfo=UTC)))
        for index, (run_id, moment) in enumerate(runs):
            clock[0] = moment
            journal.start_run(run_id, env=KEY.env, target=KEY.target)
            spec = "3f1c9a0d5e7b2c4a" if index >= 19 else "0000000000000000"
            journal.record(run_id, "okta-users-with-s3-write", QueryState.PENDING, spec_hash=spec)
            if index == 9:
                journal.record(run_id, "okta-users-with-s3-write", QueryState.FAILED, error_category="transient",
                               error_detail="503")
            else:
                journal.record(run_id, "okta-users-with-s3-write", QueryState.DONE, rows=index + 1,
                               result_path=f"/reports/{run_id}/results/okta-users-with-s3-write.jsonl")
            journal.record(run_id, "admin-roles", QueryState.PENDING, spec_hash="9a8b7c6d")
            journal.record(run_id, "admin-roles", QueryState.DONE, rows=3)
            journal.finish_run(run_id, RunStatus.COMPLETED)
    return path


def add_run(path: Path, run_id: str, *, rows: int, name: str = "okta-users-with-s3-write") -> None:
    with open_journal(path) as journal:
        journal.start_run(run_id, env=KEY.env, target=KEY.target)
        journal.record(run_id, name, QueryState.PENDING, spec_hash="3f1c9a0d5e7b2c4a")
        journal.record(run_id, name, QueryState.DONE, rows=rows)
        journal.finish_run(run_id, RunStatus.COMPLETED)
