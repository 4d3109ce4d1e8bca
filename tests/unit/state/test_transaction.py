"""`Journal.batch` and the units inside it (state/transaction.py) on a real SQLite file: one commit for the block,
nothing of a block that raises, a discarded lifecycle unit rolled back alone, and no batch inside a transaction."""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.model.lifecycle import EntityChanges, LifecycleScope
from runner.state.journal import Journal, QueryState, open_journal
from runner.state.transaction import Discard, atomic, one_transaction
from tests.unit.state.conftest import Clock

SCOPE = LifecycleScope(env="prod", target="https://acme.vezacloud.com", query="q", spec_hash="h1")
DAY0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with open_journal(path, clock=Clock()) as opened:
        yield opened


def _runs(path: Path) -> list[str]:
    """What another connection (another process) sees committed."""
    with sqlite3.connect(path) as other:
        return [str(row[0]) for row in other.execute("SELECT run_id FROM runs ORDER BY run_id")]


def _changes(run_id: str, previous: str | None, *keys: int) -> EntityChanges:
    return EntityChanges(run_id=run_id, as_of=DAY0, previous_run=previous, new=array("q", keys),
                         resolved=array("q"))


def test_a_batch_commits_once_at_its_end(journal: Journal, path: Path) -> None:
    with journal.batch():
        journal.start_run("r1", env="prod", target="t")
        journal.record("r1", "q", QueryState.PENDING, spec_hash="h1", file="queries/q.yaml")
        assert journal.query_states("r1")["q"].state is QueryState.PENDING  # this connection reads its own writes
        assert _runs(path) == []  # nobody else sees them before the commit
    assert _runs(path) == ["r1"]


def test_a_batch_that_raises_leaves_nothing(journal: Journal, path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), journal.batch():
        journal.start_run("r1", env="prod", target="t")
        journal.record("r1", "q", QueryState.PENDING, spec_hash="h1", file="queries/q.yaml")
        raise RuntimeError("boom")
    assert _runs(path) == []
    journal.start_run("r2", env="prod", target="t")  # the connection is usable again, committing on its own
    assert _runs(path) == ["r2"]


def test_a_refused_lifecycle_unit_rolls_back_alone_inside_a_batch(journal: Journal, path: Path) -> None:
    with journal.batch():
        journal.start_run("r1", env="prod", target="t")
        assert journal.record_entities(SCOPE, _changes("r1", None, 1, 2)) is True
        assert journal.record_entities(SCOPE, _changes("r2", "r0", 3)) is False  # not over r1: refused
    assert _runs(path) == ["r1"]
    opened = journal.open_entities(SCOPE, run_id="r2")
    assert (opened.previous_run, sorted(opened.keys)) == ("r1", [1, 2])


def test_atomic_nests_as_a_savepoint(path: Path) -> None:
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE t (x INTEGER)")
    with one_transaction(db):
        with atomic(db):
            db.execute("INSERT INTO t VALUES (1)")
        with atomic(db):
            db.execute("INSERT INTO t VALUES (2)")
            raise Discard
        with pytest.raises(ValueError, match="bad"), atomic(db):
            db.execute("INSERT INTO t VALUES (3)")
            raise ValueError("bad")
        assert db.in_transaction
    assert [row[0] for row in db.execute("SELECT x FROM t")] == [1]
    with pytest.raises(RuntimeError, match="inside another transaction"):
        db.execute("BEGIN")
        with one_transaction(db):
            pass  # pragma: no cover
    db.execute("ROLLBACK")
    db.close()
