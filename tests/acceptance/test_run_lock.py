"""The run lock across real `python -m runner run` processes on the embedded sandbox (one slowed with
VQR_SANDBOX_LATENCY): retention never deletes a live run, `--resume` refuses a live run and a stale one, and a
resumed old run never moves `reports/latest` back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.artifact.runlock import holder
from tests.acceptance.run_project import REPO, batch_queries, check_run_json, make_project

QUERIES = 4


def project(tmp_path: Path) -> Path:
    project_file = make_project(tmp_path / "repo", batch_queries(QUERIES))
    project_file.write_text(project_file.read_text() + "retention: 1\n")
    return project_file.parent


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _reaped() -> Iterator[None]:
    """Every run a test started is gone when it ends, its pipes closed: a failed assertion leaks nothing into the
    next test (an unclosed pipe is a ResourceWarning there, which filterwarnings=error makes its failure)."""
    yield
    for process in _STARTED:
        if process.poll() is None:
            process.kill()
    while _STARTED:
        _STARTED.pop().communicate(timeout=20)


def vqr(root: Path, *args: str, latency: float = 0.0) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(root.parent), VQR_NO_LINT_CACHE="1", VQR_SANDBOX_NODES="400",
               VQR_SANDBOX_LATENCY=str(latency))
    process = subprocess.Popen([sys.executable, "-m", "runner", "run", "--concurrency", "1", *args],
                               cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _STARTED.append(process)
    return process


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def live_run(root: Path, process: subprocess.Popen[str], *, done: int = 0) -> Path:
    """The run directory of `process` once its lock is held (and `done` queries are recorded done)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for run_dir in (root / "reports").glob("2*"):
            found = holder(run_dir)
            if found is not None and found.pid == process.pid and done_count(root, run_dir.name) >= done:
                return run_dir
        time.sleep(0.02)
    raise AssertionError("the run never took its lock")


def done_count(root: Path, run_id: str) -> int:
    try:
        with sqlite3.connect(f"file:{root / '.vqr' / 'state.sqlite'}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM queries WHERE run_id = ? AND state = 'done'",
                                  (run_id,)).fetchone()[0])
    except sqlite3.Error:
        return 0


def killed_run(root: Path, *args: str) -> str:
    process = vqr(root, *args, latency=0.3)
    run_dir = live_run(root, process, done=1)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=20)
    return run_dir.name


def latest(root: Path) -> str:
    return (root / "reports" / "latest").resolve(strict=True).name


def complete_run_json(run_dir: Path) -> dict[str, Any]:
    run = check_run_json(json.loads((run_dir / "run.json").read_text()))
    for query in run["queries"]:
        assert (run_dir / query["results_file"]).is_file(), query
    return run


def test_a_fast_run_with_retention_1_never_deletes_a_slow_run_in_progress(tmp_path: Path) -> None:
    root = project(tmp_path)
    slow = vqr(root, latency=1.0)  # 4 s at least: longer than the fast run's whole life, on a loaded machine too
    slow_dir = live_run(root, slow)
    code, text = finish(vqr(root))
    assert code == 0, text
    assert slow.poll() is None, "the slow run ended before the fast one: the race was not exercised"
    assert slow_dir.is_dir(), "retention deleted a live run"
    code, text = finish(slow)
    assert code == 0 and f"completed: {QUERIES} succeeded" in text, text
    run = complete_run_json(slow_dir)
    assert run["status"] == "completed"
    # latest names an existing run: the fast one, which started later, so the slow one does not take it back.
    assert latest(root) != slow_dir.name and "reports/latest stays at the newer run" in text


def test_resume_refuses_a_run_that_is_live_in_another_process(tmp_path: Path) -> None:
    root = project(tmp_path)
    slow = vqr(root, latency=0.3)
    run_dir = live_run(root, slow, done=1)
    code, text = finish(vqr(root, "--resume"))
    assert code == 2, text
    assert text.strip().splitlines() == [f"vqr: run {run_dir.name} is live in process {slow.pid} "
                                         f"(since {holder(run_dir).since}) (wait for it, or stop it; "  # type: ignore[union-attr]
                                         "--resume continues a stopped run)"]
    code, text = finish(slow)
    assert code == 0 and f"completed: {QUERIES} succeeded" in text, text  # untouched: no partial removed
    assert complete_run_json(run_dir)["status"] == "completed"


def test_a_stale_run_is_not_resumed_and_a_resumed_old_run_leaves_latest_alone(tmp_path: Path) -> None:
    root = project(tmp_path)
    # Killed while running q00 and q01; a newer run of another query (q02) completes: the killed run's queries
    # were not run since, so it may still be resumed, but it must not take `latest` back.
    old = killed_run(root, "--select", "q00", "--select", "q01")
    code, text = finish(vqr(root, "--select", "q02"))
    assert code == 0, text
    newer = latest(root)
    code, text = finish(vqr(root, "--resume"))
    assert code == 0 and f"run {old} completed: 2 succeeded" in text, text
    assert complete_run_json(root / "reports" / old)["resumed"] is True
    assert latest(root) == newer and f"reports/latest stays at the newer run {newer}" in text
    # Killed again; then a newer run of one of its queries completes: resuming would bring back older results.
    stale = killed_run(root, "--select", "q03", "--select", "q02")
    code, text = finish(vqr(root, "--select", "q03"))
    assert code == 0, text
    fresh = latest(root)
    code, text = finish(vqr(root, "--resume"))
    assert code == 2 and text.strip().splitlines() == [
        f"vqr: cannot resume run {stale}: run {fresh} of environment 'sandbox' started after it and completed, "
        "so its results are stale (run without --resume)"], text
    assert latest(root) == fresh
