"""The CSV worker process (runner/app/csv_workers.py), a real child: it writes the very bytes the in-memory sink
makes; on a one-core machine every CSV is made in memory, and a run without results starts no worker; it is outside
the terminal's process group; a dead worker or a Ctrl-C sent to it loses no CSV; its errors reach the waiting caller
as CsvSink's would; stopping it mid-file leaves no temp file; and nothing is left running after the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.app import csv_workers
from runner.app.csv_workers import result_sinks
from runner.model import JSONValue, ResultSink
from runner.report.csv_export import CsvSink
from runner.secret import SECRET_FILTER, Secret

ROWS: list[JSONValue] = [
    {"id": f"u{i}", "type": "OktaUser", "active": i % 2 == 0, "n": i, "tags": [{"key": "k"}] if i % 3 else [],
     "properties": {"name": "=cmd" if i == 4 else f"user {i}", "note": "a\x1bb" if i == 5 else None}}
    for i in range(30)
]


def _results(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in ROWS))
    return path


def _in_memory(jsonl: Path) -> bytes:
    sink = CsvSink(jsonl)
    sink.feed(ROWS)
    sink.prepare()
    sink.save()
    return jsonl.with_suffix(".csv").read_bytes()


def _made(make: Callable[[Path], ResultSink], jsonl: Path) -> Path:
    sink = make(jsonl)
    sink.feed(ROWS[:10])
    sink.feed(ROWS[10:])
    sink.prepare()
    sink.save()
    return jsonl.with_suffix(".csv")


def _worker_pids() -> list[int]:
    """This process's live CSV-worker children, as `ps` sees them (a reaped one is gone; a zombie is not live)."""
    listed = subprocess.run(["ps", "-ww", "-o", "pid=,stat=,args=", "--ppid", str(os.getpid())], capture_output=True,
                            text=True, check=False).stdout.splitlines()
    return [int(line.split()[0]) for line in listed if "csv_serve" in line and not line.split()[1].startswith("Z")]


def test_the_worker_writes_the_bytes_the_in_memory_sink_does(tmp_path: Path) -> None:
    expected = _in_memory(_results(tmp_path / "memory" / "q.jsonl"))
    with result_sinks(CsvSink) as make:
        assert _made(make, _results(tmp_path / "worker" / "q.jsonl")).read_bytes() == expected
        assert _worker_pids(), "the CSV was made in a child process"
    assert _worker_pids() == []  # stopped and reaped with the run


def test_the_worker_redacts_the_keys_this_process_redacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker is another process: it knew no key, and a row that echoed the key went into its CSV as it was."""
    key = "vqr-worker-canary-93be"
    monkeypatch.setattr(SECRET_FILTER, "_secrets", [Secret(key)])
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text(json.dumps({"id": "u1", "note": f"echoed {key}", key: 1}) + "\n")
    environment = {**os.environ, "VQR_TEST_KEY": key, "VQR_TEST_KEPT": "kept"}
    with result_sinks(CsvSink, environment=environment) as make:
        sink = make(jsonl)
        sink.prepare()
        sink.save()
        pids = _worker_pids()
        assert pids, "the CSV was made in a child process"
        child_env = Path(f"/proc/{pids[0]}/environ").read_bytes().split(b"\0")
        assert b"VQR_TEST_KEPT=kept" in child_env and not any(key.encode() in item for item in child_env)
    made = jsonl.with_suffix(".csv").read_text()
    assert key not in made and made.count("***") == 2, made  # the header and the cell


def test_a_run_without_results_starts_no_worker() -> None:
    with result_sinks(CsvSink):
        assert _worker_pids() == []


def test_one_core_keeps_every_csv_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_workers, "cores", lambda: 1)
    with result_sinks(CsvSink) as make:
        assert make is CsvSink


def test_a_dead_worker_leaves_each_csv_to_the_waiting_thread(tmp_path: Path) -> None:
    expected = _in_memory(_results(tmp_path / "memory" / "q.jsonl"))
    with result_sinks(CsvSink) as make:
        _made(make, _results(tmp_path / "a" / "q.jsonl"))
        for pid in _worker_pids():
            os.kill(pid, signal.SIGKILL)
        for name in ("b", "c"):  # the one whose worker died under it, then one after the pool broke
            assert _made(make, _results(tmp_path / name / "q.jsonl")).read_bytes() == expected


def test_the_workers_error_reaches_the_caller(tmp_path: Path) -> None:
    with result_sinks(CsvSink) as make:
        sink = make(tmp_path / "missing.jsonl")
        sink.feed(ROWS)
        sink.prepare()
        with pytest.raises(FileNotFoundError):  # an OSError: the run keeps the query done (as with CsvSink)
            sink.save()


def test_ctrl_c_sent_to_the_worker_loses_nothing(tmp_path: Path) -> None:
    expected = _in_memory(_results(tmp_path / "memory" / "q.jsonl"))
    with result_sinks(CsvSink) as make:
        _made(make, _results(tmp_path / "a" / "q.jsonl"))
        for pid in _worker_pids():
            os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C sends the whole process group
        assert _made(make, _results(tmp_path / "b" / "q.jsonl")).read_bytes() == expected
        assert _worker_pids(), "the worker is still there"


def test_the_worker_is_outside_the_terminals_process_group(tmp_path: Path) -> None:
    with result_sinks(CsvSink) as make:
        _made(make, _results(tmp_path / "a" / "q.jsonl"))
        [pid] = _worker_pids()
        assert os.getpgid(pid) == pid != os.getpgid(0)  # a terminal's Ctrl-C goes to the run's group alone


def test_stopping_the_worker_mid_file_leaves_no_temp_file(tmp_path: Path) -> None:
    big = tmp_path / "big" / "q.jsonl"
    big.parent.mkdir()
    big.write_text("".join(json.dumps({"id": f"u{i}", "n": i, "properties": {"name": "x" * 40}}) + "\n"
                           for i in range(200_000)))  # about a second of CSV: the stop lands while it is written
    with result_sinks(CsvSink) as make:
        sink = make(big)
        sink.feed(ROWS)
        sink.prepare()  # handed to the worker, never waited for: the run was interrupted
        time.sleep(0.3)  # past the worker's start-up, into the file (its SIGTERM handler is in place)
    assert _worker_pids() == []
    assert sorted(path.name for path in big.parent.iterdir() if path.name != "q.jsonl") in ([], ["q.csv"])
