"""The journal's pacing (schema 4): each query's median job duration over its recent runs of one environment and
target with the same spec, and the concurrency cap the last run of a key learnt. Real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runner.model import RunStatus
from runner.state.journal import Journal, QueryState, open_journal
from runner.state.pacing import RECENT
from runner.state.records import HistoryKey
from tests.support.old_journal import OldSuccess, write_schema2_journal
from tests.unit.state.conftest import Clock

S = QueryState
PROD = HistoryKey(env="prod", target="https://acme.vezacloud.com")
STAGING = HistoryKey(env="staging", target="https://acme.vezacloud.com")


@pytest.fixture
def journal(path: Path) -> Journal:
    return open_journal(path, clock=Clock())


def done(journal: Journal, run_id: str, key: HistoryKey, jobs: dict[str, int | None], *, spec_hash: str = "h") -> None:
    journal.start_run(run_id, env=key.env, target=key.target)
    for name, job_ms in jobs.items():
        journal.record(run_id, name, S.PENDING, spec_hash=spec_hash)
        journal.record(run_id, name, S.SUBMITTED, query_result_id=f"qr-{run_id}-{name}")
        journal.record(run_id, name, S.DONE, rows=1, sha256="ab" * 32, job_ms=job_ms)
    journal.finish_run(run_id, RunStatus.COMPLETED)


def test_the_typical_duration_is_the_median_of_the_recent_runs(journal: Journal) -> None:
    durations = [9000, 1000, 1400, 1100, 5000, 1300]  # oldest first: the 9 s outlier is past RECENT runs
    for index, job_ms in enumerate(durations):
        done(journal, f"r{index}", PROD, {"a": job_ms, "b": None if index else 400})
    assert RECENT == 5
    typical = journal.pacing.typical_job_seconds(PROD, {"a": "h", "b": "h", "never-ran": "h"})
    assert typical == {"a": 1.3, "b": 0.4}  # median(1000, 1400, 1100, 5000, 1300); b's NULLs are not durations
    assert journal.pacing.typical_job_seconds(PROD, {"a": "h"}, exclude_run="r5") == {"a": 1.4}


def test_a_latest_duration_shorter_than_the_median_wins(journal: Journal) -> None:
    for index, job_ms in enumerate([4000, 4000, 4000, 3600]):  # oldest first: the tenant got faster
        done(journal, f"r{index}", PROD, {"a": job_ms})
    assert journal.pacing.typical_job_seconds(PROD, {"a": "h"}) == {"a": 3.6}  # not the median, 4 s
    done(journal, "r4", PROD, {"a": 9000})  # one slow night: the median holds
    assert journal.pacing.typical_job_seconds(PROD, {"a": "h"}) == {"a": 4.0}


def test_durations_are_keyed_by_environment_target_and_spec(journal: Journal) -> None:
    done(journal, "r1", PROD, {"a": 2000})
    done(journal, "r2", STAGING, {"a": 7000})
    done(journal, "r3", PROD, {"a": 3000}, spec_hash="other")
    assert journal.pacing.typical_job_seconds(PROD, {"a": "h"}) == {"a": 2.0}
    assert journal.pacing.typical_job_seconds(STAGING, {"a": "h"}) == {"a": 7.0}
    assert journal.pacing.typical_job_seconds(PROD, {"a": "new-spec"}) == {}
    assert journal.pacing.typical_job_seconds(PROD, {}) == {}


def test_the_last_run_of_a_key_decides_the_cap(journal: Journal) -> None:
    assert journal.pacing.last_concurrency(PROD) is None
    journal.pacing.record_concurrency(PROD, "r1", 12.5)
    journal.pacing.record_concurrency(STAGING, "r2", 3.0)
    assert journal.pacing.last_concurrency(PROD) == 12.5
    assert journal.pacing.last_concurrency(STAGING) == 3.0
    journal.pacing.record_concurrency(PROD, "r3", None)  # reached its configured concurrency unthrottled
    assert journal.pacing.last_concurrency(PROD) is None


def test_a_schema2_journal_is_upgraded_with_no_durations(path: Path) -> None:
    write_schema2_journal(path, [OldSuccess(run_id="old-1", env="prod", name="a", spec_hash="h", cache_id="c1",
                                            rows=2)], target=PROD.target)
    with open_journal(path, clock=Clock()) as journal:
        assert journal.pacing.typical_job_seconds(PROD, {"a": "h"}) == {}
        assert journal.pacing.last_concurrency(PROD) is None
        done(journal, "new", PROD, {"a": 800})
        assert journal.pacing.typical_job_seconds(PROD, {"a": "h"}) == {"a": 0.8}
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT run_id, job_ms FROM history ORDER BY run_id").fetchall() == [("new", 800),
                                                                                            ("old-1", None)]
    raw.close()
