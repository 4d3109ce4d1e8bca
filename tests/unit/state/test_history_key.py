"""History keyed by environment and target (issue 12, point 2): every journal lookup (`previous_success`,
`previous_cache_id`, `read_history`, `latest_key`) reads only the runs of its key, and a schema-1 journal is migrated
with its rows kept but never matched. Real SQLite files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.assess.lifecycle import track_lifecycle
from runner.model.lifecycle import LifecycleScope
from runner.model.results import RunStatus
from runner.state.journal import SCHEMA_VERSION, Journal, QueryState, latest_key, open_journal, read_history
from runner.state.records import HistoryKey
from tests.support.old_journal import OldSuccess, write_schema1_journal, write_schema2_journal
from tests.unit.state.conftest import Clock

S = QueryState
PROD = HistoryKey(env="prod", target="https://acme.vezacloud.com")
STAGING = HistoryKey(env="staging", target="https://acme-staging.vezacloud.com")
PROD_ELSEWHERE = HistoryKey(env="prod", target="https://acme.vezacloud.com/eu")  # same name, another target
KEYS = (PROD, STAGING, PROD_ELSEWHERE)


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with open_journal(path, clock=Clock()) as opened:
        yield opened


def done(journal: Journal, run_id: str, key: HistoryKey, name: str = "q", *, spec_hash: str = "h",
         cache_id: str | None = None, rows: int = 1) -> None:
    journal.start_run(run_id, env=key.env, target=key.target)
    journal.record(run_id, name, S.PENDING, spec_hash=spec_hash)
    journal.record(run_id, name, S.SUBMITTED, query_result_id=f"qr-{run_id}", cache_id=cache_id or f"c-{run_id}")
    journal.record(run_id, name, S.DONE, rows=rows, sha256="ab" * 32, result_path=f"/r/{run_id}/{name}.jsonl")
    journal.finish_run(run_id, RunStatus.COMPLETED)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k.env}@{k.target}")
def test_each_lookup_sees_only_its_own_environment_and_target(journal: Journal, path: Path, key: HistoryKey) -> None:
    # Interleaved runs of three keys; each key's latest is the last of its own, whatever ran after it elsewhere.
    for index, run_key in enumerate((PROD, STAGING, PROD_ELSEWHERE, PROD, STAGING, PROD_ELSEWHERE)):
        done(journal, f"r{index}-{run_key.env}", run_key, rows=10 * index)
    mine = [f"r{i}-{k.env}" for i, k in enumerate((PROD, STAGING, PROD_ELSEWHERE) * 2) if k == key]
    found = journal.previous_success("q", "h", key=key)
    assert found is not None and found.run_id == mine[-1] and (found.env, found.target) == (key.env, key.target)
    assert journal.previous_cache_id("q", "h", key=key) == f"c-{mine[-1]}"
    earlier = journal.previous_success("q", "h", key=key, exclude_run=mine[-1])
    assert earlier is not None and earlier.run_id == mine[0]
    series = read_history(path, ["q"], key=key, until_run=None, not_after=None, limit=30).of("q")
    assert [p.run_id for p in series] == mine
    assert journal.previous_success("q", "h", key=HistoryKey(env=key.env, target=key.target + "/other")) is None


def test_a_new_key_has_no_history_even_when_other_keys_do(journal: Journal, path: Path) -> None:
    done(journal, "prod-1", PROD, cache_id="prod-cache")
    fresh = HistoryKey(env="sandbox", target="embedded")
    assert journal.previous_success("q", "h", key=fresh) is None
    assert journal.previous_cache_id("q", key=fresh) is None  # `cache_id: previous` never borrows prod's id
    assert read_history(path, ["q"], key=fresh, until_run=None, not_after=None, limit=30).of("q") == ()


def test_latest_key_names_the_last_run_of_the_query_or_of_an_environment(journal: Journal, path: Path) -> None:
    done(journal, "a", PROD)
    done(journal, "b", STAGING)
    done(journal, "c", PROD_ELSEWHERE, name="other")
    assert latest_key(path, "q") == STAGING
    assert latest_key(path, "q", env="prod") == PROD
    assert latest_key(path, "other", env="prod") == PROD_ELSEWHERE
    assert latest_key(path, "q", env="nowhere") is None and latest_key(path, "missing") is None
    assert latest_key(path.parent / "absent.sqlite", "q") is None


def test_resuming_keeps_the_recorded_target_and_fills_a_missing_one(journal: Journal, path: Path) -> None:
    journal.start_run("r", env="prod", target=PROD.target)
    journal.finish_run("r", RunStatus.INTERRUPTED)
    journal.resume_run("r", target="https://somewhere.else")
    assert journal.run("r").target == PROD.target  # the caller refuses a different target; the journal keeps its own
    journal.start_run("old", env="prod", target="x")
    raw = sqlite3.connect(path)
    raw.execute("UPDATE runs SET target = NULL WHERE run_id = 'old'")  # an unfinished run from schema 1
    raw.commit()
    raw.close()
    journal.resume_run("old", target=PROD.target)
    assert journal.run("old").target == PROD.target


def test_a_schema1_journal_is_migrated_keeping_rows_that_no_key_matches(path: Path) -> None:
    old = [OldSuccess(run_id="old-prod", env="prod", name="q", spec_hash="h", cache_id="old-cache", rows=5,
                      result_path="/r/old-prod/q.jsonl", sha256="cd" * 32),
           OldSuccess(run_id="old-sandbox", env="sandbox", name="q", spec_hash="h", cache_id="old-sb", rows=7,
                      at="2026-01-02T00:00:00.000000Z")]
    write_schema1_journal(path, old)
    # Read-only readers of an unmigrated file answer "nothing", never an error.
    assert read_history(path, ["q"], key=PROD, until_run=None, not_after=None, limit=30).of("q") == ()
    with open_journal(path, clock=Clock()) as journal:
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        kept = raw.execute("SELECT run_id, env, target, cache_id FROM history ORDER BY run_id").fetchall()
        assert kept == [("old-prod", None, None, "old-cache"), ("old-sandbox", None, None, "old-sb")]
        assert raw.execute("SELECT run_id, env, target FROM runs ORDER BY run_id").fetchall() == [
            ("old-prod", "prod", None), ("old-sandbox", "sandbox", None)]
        raw.close()
        for key in (PROD, HistoryKey(env="sandbox", target="embedded")):
            assert journal.previous_success("q", "h", key=key) is None
            assert journal.previous_cache_id("q", "h", key=key) is None
            assert read_history(path, ["q"], key=key, until_run=None, not_after=None, limit=30).of("q") == ()
        assert latest_key(path, "q") is None  # `vqr report history` names no schema-1 run as "the latest"
        assert journal.run("old-prod").target is None  # the old run is still there, for retention and --resume
        done(journal, "new-prod", PROD, cache_id="new-cache")
        found = journal.previous_success("q", "h", key=PROD)
        assert found is not None and found.run_id == "new-prod" and found.cache_id == "new-cache"
        assert journal.previous_success("q", "h", key=PROD, exclude_run="new-prod") is None
    with open_journal(path) as again:  # reopening a migrated file migrates nothing twice
        assert again.previous_cache_id("q", key=PROD) == "new-cache"


def test_a_schema2_journal_gains_empty_lifecycles_and_keeps_its_history(path: Path, tmp_path: Path) -> None:
    old = [OldSuccess(run_id="old-1", env="prod", name="q", spec_hash="h", cache_id="c1", rows=2,
                      result_path="/r/old-1/q.jsonl", sha256="ef" * 32)]
    write_schema2_journal(path, old, target=PROD.target)
    with open_journal(path, clock=Clock()) as journal:
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"lifecycles", "lifecycle_runs", "entities"} <= tables
        assert raw.execute("SELECT COUNT(*) FROM entities").fetchone()[0] == 0
        raw.close()
        found = journal.previous_success("q", "h", key=PROD)  # schema-2 history keeps matching its key
        assert found is not None and found.run_id == "old-1" and found.sha256 == "ef" * 32
        scope = LifecycleScope(env=PROD.env, target=PROD.target, query="q", spec_hash="h")
        rows = tmp_path / "q.jsonl"
        rows.write_text('{"id":"a"}\n{"id":"b"}\n')
        first = track_lifecycle(journal, scope, rows, run_id="new-1", as_of=datetime(2026, 6, 1, tzinfo=UTC),
                                drift=None)
        # The lifecycle starts with the first run after the upgrade: the old run left no entities to compare with.
        assert first is not None and (first.previous_run, first.new, first.resolved) == (None, 2, 0)
    with open_journal(path) as again:
        assert again.open_entities(scope, run_id="new-2").previous_run == "new-1"


def test_the_history_lookups_find_a_query_by_its_name_not_by_scanning_every_run(journal: Journal, path: Path) -> None:
    # A report reads the history of every query of the run, one lookup each: a scan of the whole `queries` table per
    # name grows with queries × nights kept (30 s of a 42 s re-render of a 10,000-query report).
    from runner.state.readonly import _LATEST_KEY, _SERIES

    done(journal, "r1", PROD)
    raw = sqlite3.connect(path)
    try:
        for statement, parameters in ((_SERIES, ("q", "prod", PROD.target, None, "9999", 30)),
                                      (_LATEST_KEY, ("q", None, None))):
            plan = " | ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "USING INDEX queries_by_name (name=?)" in plan, plan
            assert "SCAN q" not in plan, plan
    finally:
        raw.close()
    assert [p.run_id for p in read_history(path, ["q"], key=PROD, until_run=None, not_after=None, limit=30).of("q")] \
        == ["r1"]


def test_a_journal_of_an_older_vqr_gains_the_index_at_open_and_keeps_its_schema_version(path: Path) -> None:
    # The index is no migration: an older vqr (schema 5, no index) can still open the journal afterwards.
    with open_journal(path, clock=Clock()) as journal:
        done(journal, "r1", PROD)
    raw = sqlite3.connect(path)
    raw.execute("DROP INDEX queries_by_name")
    raw.commit()
    raw.close()
    with open_journal(path, clock=Clock()):
        raw = sqlite3.connect(path)
        try:
            indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert "queries_by_name" in indexes
            assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        finally:
            raw.close()
