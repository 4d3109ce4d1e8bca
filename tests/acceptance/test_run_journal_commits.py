"""What `vqr run` commits to its journal, counted on the real SQLite connection: a run opens with every query's
PENDING record in one commit (nothing is sent before it), and from then on commits each record as it happens, which
`--resume` relies on."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.app import run_command
from runner.state import Journal, open_journal
from tests.acceptance.run_project import batch_queries, fixed_sandbox, make_project, remote, run_options, run_vqr

COUNT = 9


def test_a_run_opens_with_one_commit_and_then_commits_every_record(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[str] = []
    def traced(path: Path) -> Journal:  # how run_command opens it
        journal = open_journal(path)
        db: sqlite3.Connection = journal._db
        db.set_trace_callback(statements.append)
        return journal

    monkeypatch.setattr(run_command, "open_journal", traced)
    project = make_project(tmp_path / "repo", batch_queries(COUNT))
    with fixed_sandbox() as box:
        ran = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
    assert ran.code == 0 and ran.run and len(ran.run["queries"]) == COUNT

    def commits_until(found: Callable[[str], bool]) -> int:
        upto = next(i for i, sql in enumerate(statements) if found(sql))
        return sum(1 for sql in statements[:upto] if sql == "COMMIT")

    # The run's row, then one commit for all its PENDING records, before the first query leaves PENDING.
    assert commits_until(lambda sql: "INSERT INTO queries" in sql) == 1
    assert commits_until(lambda sql: sql.startswith("UPDATE queries") and "submitting" in sql) == 2
    inserts = [sql for sql in statements if sql.startswith("INSERT INTO queries")]
    assert len(inserts) == COUNT and all("pending" in sql for sql in inserts)
    # Every later state change is its own transaction: at least SUBMITTING, SUBMITTED, FETCHING and DONE each.
    updates = [sql for sql in statements if sql.startswith("UPDATE queries")]
    assert len(updates) >= 4 * COUNT
    assert statements.count("COMMIT") >= 2 + len(updates)
