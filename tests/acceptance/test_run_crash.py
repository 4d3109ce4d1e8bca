"""Crash safety of `vqr run` in real processes: SIGKILL mid-batch then `--resume`, and Ctrl-C (SIGINT) exiting 130
then `--resume`, both ending with the results of an uninterrupted run and no extra executions on the sandbox."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.acceptance.run_project import (
    batch_queries,
    by_name,
    check_run_json,
    external_sandbox,
    fixed_sandbox,
    make_project,
    remote,
    run_options,
    run_vqr,
    start_run_process,
    stats,
)

COUNT = 12  # distinct specs


def reference(tmp_path: Path) -> dict[str, str]:
    project = make_project(tmp_path / "reference", batch_queries(COUNT))
    with fixed_sandbox() as box:
        ran = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
    assert ran.code == 0 and ran.run
    return {name: q["sha256"] for name, q in by_name(ran.run).items()}


def wait_for_results(reports: Path, at_least: int, process: subprocess.Popen[str]) -> None:
    """Until the journal says `at_least` queries are done (a results file is renamed into place a moment before its
    `done` record, so counting files would race the kill)."""
    deadline = time.monotonic() + 30
    journal = reports.parent / ".vqr" / "state.sqlite"
    while True:
        try:
            done = list(journal_states(reports.parent).values()).count("done") if journal.is_file() else 0
        except sqlite3.Error:
            done = 0  # the writer may be creating the file or holding it exclusively for a moment
        if done >= at_least:
            return
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)


def journal_states(project_dir: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{project_dir / '.vqr' / 'state.sqlite'}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT name, state FROM queries").fetchall())


def resume_and_check(project_file: Path, url: str, expected: dict[str, str], run_id: str) -> None:
    resumed = start_run_process(project_file, url, concurrency=2, resume=True)
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, out + err
    run = check_run_json(json.loads((project_file.parent / "reports" / run_id / "run.json").read_text()))
    assert run["status"] == "completed" and run["resumed"] and run["run_id"] == run_id
    got = by_name(run)
    assert {name: q["sha256"] for name, q in got.items()} == expected
    assert any(q["kept_from_earlier_attempt"] for q in got.values())
    assert (project_file.parent / "reports" / "latest").resolve().name == run_id
    assert set(journal_states(project_file.parent).values()) == {"done"}
    assert stats(url)["executions"] == COUNT  # nothing ran twice, whatever state the kill caught


def test_a_run_killed_with_sigkill_resumes_to_the_same_results_without_extra_executions(tmp_path: Path) -> None:
    expected = reference(tmp_path)
    project_file = make_project(tmp_path / "repo", batch_queries(COUNT))
    reports = project_file.parent / "reports"
    with external_sandbox(latency=0.3) as url:
        process = start_run_process(project_file, url, concurrency=2)
        wait_for_results(reports, 3, process)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=20)
        assert process.returncode == -signal.SIGKILL
        states = journal_states(project_file.parent)
        assert len(states) == COUNT and 3 <= list(states.values()).count("done") < COUNT
        (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
        assert not (run_dir / "run.json").exists()  # run.json is written last: a killed run has none
        resume_and_check(project_file, url, expected, run_dir.name)


def test_ctrl_c_exits_130_with_the_journal_saved_and_resume_finishes_the_run(tmp_path: Path) -> None:
    expected = reference(tmp_path)
    project_file = make_project(tmp_path / "repo", batch_queries(COUNT))
    reports = project_file.parent / "reports"
    with external_sandbox(latency=0.3) as url:
        process = start_run_process(project_file, url, concurrency=2)
        wait_for_results(reports, 2, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 130, out + err
        assert "--resume" in out and "Traceback" not in err
        interrupted = check_run_json(json.loads((reports / "latest" / "run.json").read_text()))
        assert interrupted["status"] == "interrupted" and interrupted["exit_code"] == 130
        statuses = [q["status"] for q in interrupted["queries"]]
        assert "succeeded" in statuses and set(statuses) - {"succeeded"} <= {"interrupted", "not_run"}
        assert set(statuses) != {"succeeded"}
        # The summary counts what run.json counts, and a query stopped after its submit keeps its id there.
        counts = interrupted["summary"]
        head = next(line for line in out.splitlines() if line.startswith(f"run {interrupted['run_id']} interrupted:"))
        assert f"{counts['not_run']} not run" in head
        assert (f"{counts['interrupted']} interrupted" in head) == (counts["interrupted"] > 0), head
        with sqlite3.connect(f"file:{project_file.parent / '.vqr' / 'state.sqlite'}?mode=ro", uri=True) as db:
            ids = dict(db.execute("SELECT name, query_result_id FROM queries").fetchall())
        for query in interrupted["queries"]:
            assert query["query_result_id"] == ids[query["name"]], query
        resume_and_check(project_file, url, expected, interrupted["run_id"])
