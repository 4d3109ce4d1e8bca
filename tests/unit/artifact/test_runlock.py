"""runner/artifact/runlock.py: one holder at a time, the holder named in the refusal, and a lock that dies with its
process (a SIGKILLed run's lock is stale by itself). Real flocks, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runner.artifact.runlock import LOCK_FILE, RunLive, RunLock, holder

HOLD = """
import sys, time
from pathlib import Path
from runner.artifact.runlock import RunLock
lock = RunLock.acquire(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


def hold_in_child(run_dir: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])})
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    return child


def test_one_holder_at_a_time_and_the_refusal_names_it(tmp_path: Path) -> None:
    assert holder(tmp_path) is None  # no lock file: nobody
    with RunLock.acquire(tmp_path):
        found = holder(tmp_path)
        assert found is not None and found.pid == os.getpid() and found.since
        with pytest.raises(RunLive, match=rf"run {tmp_path.name} is live in process {os.getpid()}"):
            RunLock.acquire(tmp_path)  # a second descriptor, even in this process, is refused
    assert holder(tmp_path) is None  # released; the file stays, harmless
    assert (tmp_path / LOCK_FILE).is_file()
    RunLock.acquire(tmp_path).release()


def test_a_lock_held_by_another_process_is_refused_and_freed_when_it_is_killed(tmp_path: Path) -> None:
    child = hold_in_child(tmp_path)
    try:
        found = holder(tmp_path)
        assert found is not None and found.pid == child.pid
        with pytest.raises(RunLive, match=f"process {child.pid}"):
            RunLock.acquire(tmp_path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
    assert holder(tmp_path) is None  # the kernel dropped it: a killed run is never "live"
    with RunLock.acquire(tmp_path) as lock:
        assert holder(lock.run_dir) is not None


def test_garbage_in_the_lock_file_is_only_a_less_precise_message(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_bytes(b"\xff not json")
    assert holder(tmp_path) is None
    with RunLock.acquire(tmp_path):
        (tmp_path / LOCK_FILE).write_text("[1, 2]")
        found = holder(tmp_path)
        assert found is not None and found.pid is None and "process ?" in found.describe()
