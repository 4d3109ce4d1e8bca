"""Results large enough for the CSV worker process (runner/app/csv_workers.py), through the real CLI against the
sandbox in its own process: every query's CSV is byte for byte the one the in-memory sink makes from its rows, and
Ctrl-C sent to the run's process group (as a terminal does; the worker has its own) exits 130 with no traceback and
leaves no process behind, even one sent while the worker starts up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.app.csv_workers import cores
from runner.report.csv_export import CsvSink
from tests.acceptance.run_project import _python_env, batch_queries, external_sandbox, make_project, remote

QUERIES = 24  # batch_queries' distinct specs
NODES = 2_500  # a graph whose results range from tens to hundreds of rows


def _vqr(root: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "runner", "run", "--env", "remote", "--quiet"], cwd=root,
                            env=_python_env(remote(url)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: the SIGINT below reaches it alone


def _in_memory(jsonl: Path, out: Path) -> bytes:
    out.write_bytes(jsonl.read_bytes())
    sink = CsvSink(out)
    sink.feed([json.loads(line) for line in jsonl.read_text().splitlines()])
    sink.prepare()
    sink.save()
    return out.with_suffix(".csv").read_bytes()


def test_a_large_batchs_csvs_are_the_in_memory_bytes(tmp_path: Path) -> None:
    assert cores() >= 2, "the worker runs only where there is a second core: CI has two"
    root = make_project(tmp_path / "repo", batch_queries(QUERIES)).parent
    with external_sandbox(latency=0.05, nodes=NODES) as url:
        process = _vqr(root, url)
        _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    results = root / "reports" / "latest" / "results"
    jsonls = sorted(results.glob("*.jsonl"))
    assert len(jsonls) == QUERIES
    run = json.loads((results.parent / "run.json").read_text())
    rows = sorted(query["rows"] for query in run["queries"])
    assert rows[0] * 10 < rows[-1], f"results from tens to hundreds of rows: {rows}"
    for jsonl in jsonls:
        assert jsonl.with_suffix(".csv").read_bytes() == _in_memory(jsonl, tmp_path / jsonl.name), jsonl.name


def _worker_started(process: subprocess.Popen[str]) -> bool:
    listed = subprocess.run(["ps", "-ww", "-o", "args=", "--ppid", str(process.pid)], capture_output=True, text=True,
                            check=False).stdout
    return "csv_serve" in listed


@pytest.mark.parametrize("moment", ["worker starting", "csvs written"])
def test_ctrl_c_to_the_process_group_exits_130_without_a_traceback(tmp_path: Path, moment: str) -> None:
    root = make_project(tmp_path / "repo", batch_queries(QUERIES)).parent
    results = root / "reports"
    with external_sandbox(latency=0.5, nodes=NODES) as url:
        process = _vqr(root, url)
        deadline = time.monotonic() + 60
        # The first moment is the one a multiprocessing worker got wrong (a traceback from its imports); the
        # second is mid-run, with the worker busy.
        while not (_worker_started(process) if moment == "worker starting"
                   else len(list(results.glob("*/results/*.csv"))) >= 2):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.005)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert _live_in_session(process.pid) == [], "a process of the run outlived it"


def _live_in_session(session: int) -> list[str]:
    """Processes of the run's session still alive a moment after it exits (the worker is in its own process group
    but the run's session; a zombie waiting for init is no longer running)."""
    deadline = time.monotonic() + 10
    while True:
        listed = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-s", str(session)], capture_output=True,
                                text=True, check=False).stdout.splitlines()
        live = [line for line in listed if not line.split()[1].startswith("Z")]
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.1)
