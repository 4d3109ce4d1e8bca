"""Each query's CSV made in a worker process while the run goes on: `result_sinks(in_memory)` yields what `Hooks.result`
takes (a `ResultSink` per results file), and stops the worker when the run is over.

Why: making the CSVs was about 30% of the client's CPU in a large run, on the one core the event loop runs on;
another core was mostly idle (the tenant is remote, or the sandbox takes a fraction of one). A worker process
reads each committed results file and writes its CSV (`report.csv_export.write_csv`, the same bytes as the
in-memory `CsvSink`), so the loop spends that time on the next queries: a 2,000-query run took about a quarter less
wall time. A thread would not do: it holds the GIL the loop needs. The worker is a child of this process that the run
reaps, so its CPU is counted in this process's own accounting (a benchmark's figures stay honest).

Every result's CSV is the worker's, small ones too, on a machine with more than one core (on one, `in_memory`, the
`CsvSink`, makes each as before). Handing a file over costs the event loop one pipe write; making a small CSV in
memory cost it about 1 ms, at the moment 50 or 200 results arrive together and the next submits wait behind them
(two A/Bs of 2,000-query runs against keeping results of up to 100 rows in memory: wall 0.90 and 0.98, client CPU
0.92 and 1.02). The worker starts with the first result. If it dies, fails a file, or its pipe is full, the thread
that waits for that CSV writes it itself (so an error is the real one, raised where CsvSink's would be); the
after-run step writes any CSV that is still missing.

The worker is started in its own process group, so a terminal's Ctrl-C reaches the run alone, which then stops the
worker: an interrupt can never print a worker's traceback, even one that arrives while the worker starts (a
multiprocessing child, used before, is in the terminal's group and unpickles, so imports, before any code of ours
runs: a Ctrl-C there printed a KeyboardInterrupt traceback). Stopping it mid-file (SIGTERM) leaves no temp file:
the child exits through `atomic_output`'s cleanup.

Protocol, JSON lines: the parent first writes `{"redact": [keys]}`, the API keys this process redacts (the child is
another process: it knows no key unless told, and a row echoing the key would reach its CSV; no variable of its
environment holds one), then one line each way per file, in order: the parent writes the results file's path on the
child's stdin; the child answers `{"rows": N}` or `{"failed": true}` on its stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

from runner.model import JSONValue, ResultSink
from runner.report.csv_export import csv_beside
from runner.secret import SECRET_FILTER

STOP_WAIT = 30.0  # seconds the run waits for the worker to leave before it kills it

# -P: the project's directory (the run's cwd) is not on the child's path, so a `runner/` there cannot shadow ours.
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from runner.report.csv_serve import serve; serve()"
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class _Gone(Exception):
    """The worker did not make this CSV (it died, failed the file, or was stopped): the waiting thread makes it."""


class _Worker:
    """The child process and the futures of the files it was given, answered in order by a reader thread."""

    def __init__(self, environment: Mapping[str, str] | None) -> None:
        # The keys are those registered when the first result starts the worker: the API key and the budget's
        # Redis URL are loaded before any query is sent (a secret registered later would not reach the child).
        secrets = SECRET_FILTER.secrets
        keys = [secret.reveal() for secret in secrets]
        # Nor does the child get them from its environment: a variable that holds one is not passed on.
        env = None if environment is None else {
            name: value for name, value in environment.items() if not any(s.occurs_in(value) for s in secrets)}
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and code, no shell
            [sys.executable, "-P", "-c", _CHILD, str(_PACKAGE_ROOT)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, process_group=0, env=env)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        try:
            self._stdin.write((json.dumps({"redact": keys}) + "\n").encode())  # before non-blocking: a few bytes
            self._stdin.flush()
        except OSError:  # it died at once: reaped here, and every CSV is made in this process
            self._process.kill()
            self._process.wait()
            self._stdout.close()
            raise
        os.set_blocking(self._stdin.fileno(), False)  # a full pipe never blocks the event loop: see `submit`
        self._lock = threading.Lock()  # one order for writes and answers: a future is queued before its answer
        self._pending: deque[Future[int]] = deque()
        self._open = True
        self._reader = threading.Thread(target=self._read, name="vqr-csv-worker", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def submit(self, jsonl: Path) -> Future[int] | None:
        line = (json.dumps(str(jsonl)) + "\n").encode()
        if len(line) > select.PIPE_BUF:  # only a write this short is all-or-nothing on a pipe
            return None
        future: Future[int] = Future()
        with self._lock:
            if not self._open:
                return None
            try:
                os.write(self._stdin.fileno(), line)
            except OSError:  # BlockingIOError: the worker is far behind; BrokenPipeError: it is gone
                return None
            self._pending.append(future)
        return future

    def _read(self) -> None:
        for line in self._stdout:
            with self._lock:
                if not self._pending:
                    break  # an answer nobody asked for: stop trusting the worker
                future = self._pending.popleft()
            try:
                rows = json.loads(line).get("rows")
            except (ValueError, AttributeError):
                rows = None
            if isinstance(rows, int):
                future.set_result(rows)
            else:
                future.set_exception(_Gone())
        with self._lock:
            self._open = False
            pending, self._pending = self._pending, deque()
        for future in pending:
            future.set_exception(_Gone())

    def close(self) -> None:
        with self._lock:
            self._open = False
            unfinished = bool(self._pending)
        if unfinished:  # the run stopped early (an interrupt): its queue is not wanted
            with contextlib.suppress(ProcessLookupError):
                self._process.terminate()
        with contextlib.suppress(OSError):
            self._stdin.close()  # end of input: a worker with nothing left to do leaves
        try:
            self._process.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join()
        self._stdout.close()


class _Pool:
    """One worker, started with the first result that needs it (a run of small results starts none)."""

    def __init__(self, environment: Mapping[str, str] | None) -> None:
        self._worker: _Worker | None = None
        self._failed = False
        self._environment = environment

    def submit(self, jsonl: Path) -> Future[int] | None:
        if self._worker is None and not self._failed:
            try:
                self._worker = _Worker(self._environment)
            except OSError:  # no process to be had: every CSV is made here
                self._failed = True
        return self._worker.submit(jsonl) if self._worker is not None else None

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()


class _Csv:
    """`ResultSink`: the worker makes the CSV from the committed results file, so the rows are not kept here."""

    def __init__(self, pool: _Pool, jsonl: Path) -> None:
        self._pool, self._jsonl = pool, jsonl
        self._job: Future[int] | None = None

    def feed(self, rows: Sequence[JSONValue]) -> None:
        pass

    def prepare(self) -> None:
        self._job = self._pool.submit(self._jsonl)

    def save(self) -> None:
        if self._job is not None:
            with contextlib.suppress(_Gone):
                self._job.result()
                return
        csv_beside(self._jsonl)  # the worker did not: this thread does, and raises its OSError or ValueError


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def result_sinks(in_memory: Callable[[Path], ResultSink], *,
                 environment: Mapping[str, str] | None = None) -> Iterator[Callable[[Path], ResultSink]]:
    """A CSV maker per results file for one run: `in_memory` (`CsvSink`) alone on a one-core machine. The worker
    gets `environment` (`ProcessEnv.variables`; None: this process's) without any variable holding a key."""
    if cores() < 2:
        yield in_memory
        return
    pool = _Pool(environment)
    try:
        yield lambda jsonl: _Csv(pool, jsonl)
    finally:
        pool.close()
