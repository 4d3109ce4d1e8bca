"""The staleness rule (state/readonly.py), one definition for `--resume` and retention, and a journal whose stored
values are damaged: the one-line "move it aside" advice, never a bare ValueError."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.model.results import RunStatus
from runner.state import read_resumable
from runner.state.journal import Journal, JournalError, QueryState, open_journal
from tests.unit.state.conftest import Clock

S = QueryState


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with open_journal(path, clock=Clock()) as opened:
        yield opened


def run_of(journal: Journal, run_id: str, names: list[str], status: RunStatus, *, env: str = "prod") -> None:
    journal.start_run(run_id, env=env, target="embedded")
    for name in names:
        journal.record(run_id, name, S.PENDING, spec_hash="h")
    if status is not RunStatus.RUNNING:
        journal.finish_run(run_id, status)


def test_an_unfinished_run_is_resumable_until_a_later_run_of_its_env_and_queries_completes(
        journal: Journal, path: Path) -> None:
    run_of(journal, "old", ["a", "b"], RunStatus.INTERRUPTED)
    assert journal.superseding_run("old") is None and read_resumable(path) == frozenset({"old"})
    run_of(journal, "other-env", ["a"], RunStatus.COMPLETED, env="staging")  # another environment
    run_of(journal, "disjoint", ["c"], RunStatus.COMPLETED)  # none of its queries
    run_of(journal, "aborted", ["a"], RunStatus.ABORTED)  # did not complete
    assert journal.superseding_run("old") is None
    assert read_resumable(path) == frozenset({"old", "aborted"})
    run_of(journal, "newer", ["a", "b", "z"], RunStatus.COMPLETED)
    later = journal.superseding_run("old")
    assert later is not None and later.run_id == "newer"
    assert read_resumable(path) == frozenset()  # "aborted" is superseded by "newer" as well


def test_a_run_started_before_the_unfinished_one_never_supersedes_it(journal: Journal, path: Path) -> None:
    journal.start_run("first", env="prod", target="embedded")
    journal.record("first", "a", S.PENDING, spec_hash="h")
    run_of(journal, "second", ["a"], RunStatus.INTERRUPTED)
    journal.finish_run("first", RunStatus.COMPLETED)  # completed after, but started before
    assert journal.superseding_run("second") is None and read_resumable(path) == frozenset({"second"})


def test_no_journal_or_an_unreadable_one_says_nothing_is_known(tmp_path: Path) -> None:
    assert read_resumable(tmp_path / "none.sqlite") is None
    (tmp_path / "bad.sqlite").write_bytes(b"not a database at all" * 100)
    assert read_resumable(tmp_path / "bad.sqlite") is None


@pytest.mark.parametrize(("table", "column", "value"), [
    ("runs", "status", "exploded"), ("runs", "started_at", "yesterday"), ("queries", "state", "weird"),
    ("queries", "updated_at", "2026-13-45"),
])
def test_a_bad_stored_value_gives_the_move_it_aside_advice(journal: Journal, path: Path, table: str, column: str,
                                                          value: str) -> None:
    run_of(journal, "r1", ["a"], RunStatus.INTERRUPTED)
    with sqlite3.connect(path) as raw:
        raw.execute(f"UPDATE {table} SET {column} = ?", (value,))
    refused = []
    for read in (journal.last_unfinished_run, lambda: journal.query_states("r1"), lambda: journal.run("r1"),
                 lambda: journal.record("r1", "a", S.SUBMITTING, attempts=1)):
        try:
            read()
        except JournalError as error:  # anything else (a bare ValueError) fails the test
            assert "\n" not in error.message
            refused.append(error.message)
    assert refused and all(re.search(r"cannot read the journal .*state\.sqlite.*move it aside", m) for m in refused)
