"""Each query's CSV made in a worker process while the run goes on: `result_sinks(in_memory)` yields what `Hooks.result`
takes (a `ResultSink` per results file), and stops the worker when the run is over.

Why: making the CSVs was about 30% of the client's CPU in a large run, on the one core the event loop runs on;
another core was mostly idle (the tenant is remote, or the sandbox takes a fraction of one). A worker process
reads each committed results file and writes its CSV (`report.csv_export.write_csv`, the same bytes as the
in-memory `CsvSink`), so the loop spends that time on the next queries: a 2,000-query run took about a quarter less
wall time. A thread would not do: it holds the GIL the loop needs. The worker is a `spawn`ed child of this process,
so its CPU is counted in this process's own accounting once it is reaped (a benchmark's figures stay honest).

Only worth a process for a result of more than WORKER_ROWS rows, on a machine with more than one core: a smaller
result's CSV is made in memory as before, and a run of small results starts no worker. If the worker dies, each
later CSV is written by the thread that waits for it; the after-run step writes any CSV that is still missing. A
worker ignores Ctrl-C: the run stops it, so an interrupt never prints a worker's traceback.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from pathlib import Path

from runner.model import JSONValue, ResultSink

WORKER_ROWS = 100  # a result of more rows is the worker's: most rows of a large run are in such results (80% of a
# 2,000-query run's); a smaller one is made in memory at once, cheaper than handing it over (~1 ms for 100 rows)


def _ignore_interrupts() -> None:
    # Blocked from the first instruction (inherited, see `_Pool`), ignored from here on: a Ctrl-C during the
    # worker's own start-up could otherwise print a traceback from inside multiprocessing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """SIGINT blocked in this thread while the worker is spawned: the child inherits the mask, and one that arrives
    meanwhile is delivered here when the mask is restored (held, never lost)."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _write_csv(jsonl: Path) -> int:
    from runner.report.csv_export import write_csv

    return write_csv(jsonl, jsonl.with_suffix(".csv"))


class _Pool:
    """One worker process, started with the first result that needs it (a run of small results starts none)."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, jsonl: Path) -> Future[int] | None:
        try:
            if self._executor is None:
                with _interrupts_held():  # the first submit spawns the worker (in this thread)
                    self._executor = ProcessPoolExecutor(
                        max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
                    return self._executor.submit(_write_csv, jsonl)
            return self._executor.submit(_write_csv, jsonl)
        except (BrokenExecutor, RuntimeError):  # a dead worker, or one already stopped
            return None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)


class _Csv:
    """`ResultSink`: the rows of a small result are kept (references, no copy) and made into its CSV in memory; past
    WORKER_ROWS they are let go and the worker makes the CSV from the committed results file."""

    def __init__(self, pool: _Pool, in_memory: Callable[[Path], ResultSink], jsonl: Path) -> None:
        self._pool, self._in_memory, self._jsonl = pool, in_memory, jsonl
        self._rows: list[JSONValue] | None = []
        self._local: ResultSink | None = None
        self._job: Future[int] | None = None

    def feed(self, rows: Sequence[JSONValue]) -> None:
        if self._rows is not None:
            self._rows.extend(rows)
            if len(self._rows) > WORKER_ROWS:
                self._rows = None

    def prepare(self) -> None:
        if self._rows is not None:
            self._local = self._in_memory(self._jsonl)
            self._local.feed(self._rows)
            self._rows = None
            self._local.prepare()
        else:
            self._job = self._pool.submit(self._jsonl)

    def save(self) -> None:
        if self._local is not None:
            self._local.save()
            return
        if self._job is not None:
            with contextlib.suppress(BrokenExecutor):
                self._job.result()  # the worker's OSError or ValueError is raised here, as CsvSink's would be
                return
        _write_csv(self._jsonl)  # no worker to do it: this thread does


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def result_sinks(in_memory: Callable[[Path], ResultSink]) -> Iterator[Callable[[Path], ResultSink]]:
    """A CSV maker per results file for one run: `in_memory` (`CsvSink`) alone on a one-core machine."""
    if cores() < 2:
        yield in_memory
        return
    pool = _Pool()
    try:
        yield lambda jsonl: _Csv(pool, in_memory, jsonl)
    finally:
        pool.close()
