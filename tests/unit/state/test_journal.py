"""The SQLite journal on real files: transitions, resume, history, concurrent readers, and a SIGKILLed writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.model.results import RunStatus
from runner.state.journal import SCHEMA_VERSION, Journal, JournalError, QueryState, open_journal
from runner.state.records import ALLOWED, HistoryKey
from tests.unit.state.conftest import Clock

S = QueryState
CANARY = "canary-journal-91ab"
T = "embedded"
SANDBOX = HistoryKey(env="sandbox", target=T)


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with open_journal(path, clock=Clock(), redact=lambda text: text.replace(CANARY, "***")) as opened:
        yield opened


def walk_to_done(journal: Journal, run_id: str, name: str, *, spec_hash: str = "h1", cache_id: str = "c1",
                 rows: int = 3) -> None:
    journal.record(run_id, name, S.PENDING, spec_hash=spec_hash, file=f"queries/{name}.yaml")
    journal.record(run_id, name, S.SUBMITTING, mode="immediate_run", attempts=1)
    journal.record(run_id, name, S.SUBMITTED, query_result_id=f"qr-{name}", cache_id=cache_id,
                   last_completed_cache_id=None, request_id="req-1")
    journal.record(run_id, name, S.FETCHING)
    journal.record(run_id, name, S.DONE, rows=rows, sha256="ab" * 32, result_path=f"results/{name}.jsonl")


def test_new_journal_has_schema_and_wal(journal: Journal, path: Path) -> None:
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "queries", "history"} <= tables
    raw.close()
    with open_journal(path) as again:  # reopening does not migrate twice
        assert again.last_unfinished_run() is None


def test_a_query_walks_every_state_and_lands_in_history(journal: Journal) -> None:
    journal.start_run("r1", env="sandbox", target=T)
    walk_to_done(journal, "r1", "okta-admins", rows=7)
    record = journal.query_states("r1")["okta-admins"]
    assert record.state is S.DONE
    assert (record.query_result_id, record.cache_id, record.mode, record.rows, record.attempts) == (
        "qr-okta-admins", "c1", "immediate_run", 7, 1)
    assert (record.spec_hash, record.file, record.request_id) == ("h1", "queries/okta-admins.yaml", "req-1")
    success = journal.previous_success("okta-admins", "h1", key=SANDBOX)
    assert success is not None
    assert (success.run_id, success.row_count, success.result_path, success.cache_id) == (
        "r1", 7, "results/okta-admins.jsonl", "c1")


@pytest.mark.parametrize(("moves", "bad"), [
    ((), S.SUBMITTING),  # the first record must be pending
    ((S.SUBMITTING,), S.FETCHING),  # nothing to fetch before a submit answered
    ((S.SUBMITTING, S.SUBMITTED, S.FETCHING, S.DONE), S.SUBMITTING),  # done is final
    ((S.SUBMITTING, S.FAILED), S.DONE),
])
def test_impossible_moves_are_refused(journal: Journal, moves: tuple[QueryState, ...], bad: QueryState) -> None:
    journal.start_run("r1", env="sandbox", target=T)
    if moves:
        journal.record("r1", "q", S.PENDING, spec_hash="h")
    for state in moves:
        journal.record("r1", "q", state)
    with pytest.raises(JournalError, match="cannot go from"):
        journal.record("r1", "q", bad)


def test_transition_table_keeps_done_final_and_failed_retryable() -> None:
    assert ALLOWED[S.DONE] == frozenset()
    assert S.SUBMITTING in ALLOWED[S.FAILED]
    assert all(S.FAILED in ALLOWED[state] for state in (S.PENDING, S.SUBMITTING, S.SUBMITTED, S.FETCHING))


def test_bad_fields_are_refused(journal: Journal) -> None:
    journal.start_run("r1", env="sandbox", target=T)
    with pytest.raises(JournalError, match="needs its spec_hash"):
        journal.record("r1", "q", S.PENDING)
    with pytest.raises(JournalError, match="unknown journal fields: api_key"):
        journal.record("r1", "q", S.PENDING, spec_hash="h", api_key="x")
    with pytest.raises(JournalError, match="rows must be int"):
        journal.record("r1", "q", S.PENDING, spec_hash="h", rows="3")
    assert journal.query_states("r1") == {}


def test_failure_details_are_kept_then_cleared_on_retry(journal: Journal) -> None:
    journal.start_run("r1", env="sandbox", target=T)
    journal.record("r1", "q", S.PENDING, spec_hash="h")
    journal.record("r1", "q", S.SUBMITTING)
    journal.record("r1", "q", S.FAILED, error_category="api", error_detail=f"HTTP 500 echoing {CANARY}",
                   request_id="req-9")
    failed = journal.query_states("r1")["q"]
    assert (failed.error_category, failed.error_detail, failed.request_id) == ("api", "HTTP 500 echoing ***",
                                                                               "req-9")
    journal.record("r1", "q", S.SUBMITTING, attempts=2)
    retried = journal.query_states("r1")["q"]
    assert (retried.state, retried.error_category, retried.error_detail, retried.attempts) == (
        S.SUBMITTING, None, None, 2)


def test_resume_finds_the_last_unfinished_run_and_its_queries(journal: Journal) -> None:
    journal.start_run("r1", env="sandbox", target=T)
    journal.finish_run("r1", RunStatus.COMPLETED)
    journal.start_run("r2", env="prod", target=T)
    walk_to_done(journal, "r2", "a")
    journal.record("r2", "b", S.PENDING, spec_hash="hb")
    journal.record("r2", "b", S.SUBMITTING)
    journal.record("r2", "b", S.SUBMITTED, query_result_id="qr-b", cache_id="cb")
    journal.record("r2", "c", S.PENDING, spec_hash="hc")
    # r2 was killed here: nothing marks it finished.
    unfinished = journal.last_unfinished_run()
    assert unfinished is not None and (unfinished.run_id, unfinished.env, unfinished.status) == (
        "r2", "prod", RunStatus.RUNNING)
    states = journal.query_states("r2")
    assert {name: rec.state for name, rec in states.items()} == {"a": S.DONE, "b": S.SUBMITTED, "c": S.PENDING}
    assert states["b"].query_result_id == "qr-b"  # polled again on resume, never resubmitted
    journal.finish_run("r2", RunStatus.INTERRUPTED)
    assert journal.last_unfinished_run().run_id == "r2"  # type: ignore[union-attr]
    journal.resume_run("r2", target=T)
    assert journal.run("r2").status is RunStatus.RUNNING and journal.run("r2").finished_at is None
    journal.finish_run("r2", RunStatus.COMPLETED)
    assert journal.last_unfinished_run() is None
    assert journal.run("r2").finished_at is not None
    with pytest.raises(JournalError, match="no run"):
        journal.finish_run("nope", RunStatus.COMPLETED)


def test_history_lookups_pick_the_latest_matching_success(journal: Journal) -> None:
    for run_id, spec_hash, cache_id in (("r1", "h1", "c1"), ("r2", "h2", "c2"), ("r3", "h1", "c3")):
        journal.start_run(run_id, env="sandbox", target=T)
        walk_to_done(journal, run_id, "q", spec_hash=spec_hash, cache_id=cache_id)
        journal.finish_run(run_id, RunStatus.COMPLETED)
    journal.start_run("r4", env="sandbox", target=T)
    journal.record("r4", "q", S.PENDING, spec_hash="h1")
    journal.record("r4", "q", S.FAILED, error_category="api")  # failures never enter history
    assert journal.previous_cache_id("q", key=SANDBOX) == "c3"
    assert journal.previous_cache_id("q", "h2", key=SANDBOX) == "c2"
    assert journal.previous_cache_id("q", "h1", key=SANDBOX, exclude_run="r3") == "c1"
    assert journal.previous_cache_id("q", "other", key=SANDBOX) is None
    assert journal.previous_cache_id("unknown", key=SANDBOX) is None
    previous = journal.previous_success("q", "h1", key=SANDBOX, exclude_run="r3")
    assert previous is not None and previous.run_id == "r1"


def test_a_newer_schema_is_refused(path: Path) -> None:
    open_journal(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(JournalError, match="newer than this vqr"):
        open_journal(path)


def test_a_corrupt_file_is_a_clear_error(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="move it aside"):
        open_journal(path)


def test_no_secret_reaches_the_files(journal: Journal, path: Path) -> None:
    journal.start_run("r1", env="sandbox", target=T)
    journal.record("r1", "q", S.PENDING, spec_hash="h")
    journal.record("r1", "q", S.FAILED, error_detail=f"Bearer {CANARY}", request_id=CANARY)
    for file in path.parent.iterdir():
        assert CANARY.encode() not in file.read_bytes(), file.name


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from runner.state.journal import QueryState, open_journal
    journal = open_journal(Path(sys.argv[1]))
    journal.start_run("run", env="sandbox", target="embedded")
    for i in range(int(sys.argv[2])):
        name = f"q{i:06d}"
        journal.record("run", name, QueryState.PENDING, spec_hash="h")
        journal.record("run", name, QueryState.SUBMITTING, attempts=1)
        print(i, flush=True)
""")


def start_writer(path: Path, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(count)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])})


def test_a_second_process_reads_while_one_writes(path: Path) -> None:
    writer = start_writer(path, 2000)
    assert writer.stdout is not None
    seen: list[int] = []
    with writer, open_journal(path) as reader:
        for line in writer.stdout:
            acknowledged = int(line)
            if acknowledged % 100 == 0:  # read while the writer goes on writing
                states = reader.query_states("run")
                assert len(states) >= acknowledged + 1
                # Each transaction is whole: every query but the newest is seen with both of its records.
                assert all(rec.state is S.SUBMITTING for rec in list(states.values())[:-1])
                seen.append(len(states))
        assert writer.wait(timeout=30) == 0
        assert len(reader.query_states("run")) == 2000
    assert seen == sorted(seen) and len(seen) == 20


def test_a_killed_writer_leaves_every_acknowledged_record(path: Path) -> None:
    writer = start_writer(path, 1_000_000)
    assert writer.stdout is not None
    acknowledged = -1
    for line in writer.stdout:
        acknowledged = int(line)
        if acknowledged >= 300:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    with open_journal(path) as journal:
        states = journal.query_states("run")
        for i in range(acknowledged + 1):
            assert states[f"q{i:06d}"].state is S.SUBMITTING
        assert journal.last_unfinished_run().run_id == "run"  # type: ignore[union-attr]


def test_ids_and_hashes_are_stored_verbatim_and_only_free_text_is_redacted(journal: Journal) -> None:
    """Issue 10, point 10: with a key that occurs inside ids and hashes, they must come back byte-exact (drift,
    `previous` and `--resume` compare them); only the server's free text is redacted before it is stored."""
    journal.start_run("r1", env="sandbox", target=T)
    journal.record("r1", "q", S.PENDING, spec_hash=f"ab{CANARY}cd", file=f"queries/{CANARY}.yaml")
    journal.record("r1", "q", S.SUBMITTING)
    journal.record("r1", "q", S.SUBMITTED, query_result_id=f"qr-{CANARY}", cache_id=f"c-{CANARY}",
                   last_completed_cache_id=CANARY)
    journal.record("r1", "q", S.FAILED, error_category="api", error_detail=f"echo {CANARY}", request_id=CANARY)
    stored = journal.query_states("r1")["q"]
    assert (stored.spec_hash, stored.file, stored.query_result_id, stored.cache_id, stored.last_completed_cache_id) \
        == (f"ab{CANARY}cd", f"queries/{CANARY}.yaml", f"qr-{CANARY}", f"c-{CANARY}", CANARY)
    assert (stored.error_detail, stored.request_id) == ("echo ***", "***")
