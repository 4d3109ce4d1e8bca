"""Each query's CSV made in a worker process while the run goes on: `result_sinks(queries)` yields what `Hooks.result`
takes (a `ResultSink` per results file), and stops the worker when the run is over.

Why: making the CSVs was about 30% of the client's CPU in a large run, on the one core the event loop runs on;
another core was mostly idle (the tenant is remote, or the sandbox takes a fraction of one). A worker process
reads each committed results file and writes its CSV (`report.csv_export.write_csv`, the same bytes as the
in-memory `CsvSink`), so the loop spends that time on the next queries: a 2,000-query run took about a quarter less
wall time. A thread would not do: it holds the GIL the loop needs. The worker is a `spawn`ed child of this process,
so its CPU is counted in this process's own accounting once it is reaped (a benchmark's figures stay honest).

Only worth a process for a batch of at least POOL_MIN_QUERIES queries on a machine with more than one core;
otherwise the CSV is made in memory as before. If the worker dies, each later CSV is written by the thread that
waits for it; the after-run step writes any CSV that is still missing. A worker ignores Ctrl-C: the run stops it,
so an interrupt never prints a worker's traceback.
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

POOL_MIN_QUERIES = 64  # fewer: the CSVs are small and a worker's start (an interpreter, ~0.2 s) is not repaid


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _write_csv(jsonl: Path) -> int:
    from runner.report.csv_export import write_csv

    return write_csv(jsonl, jsonl.with_suffix(".csv"))


class _WorkerCsv:
    """`ResultSink` whose CSV the worker makes from the committed results file: the loop keeps no rows for it."""

    def __init__(self, pool: ProcessPoolExecutor, jsonl: Path) -> None:
        self._pool = pool
        self._jsonl = jsonl
        self._job: Future[int] | None = None

    def feed(self, rows: Sequence[JSONValue]) -> None:
        del rows  # read again by the worker, from the page cache

    def prepare(self) -> None:
        with contextlib.suppress(BrokenExecutor, RuntimeError):  # a dead worker, or one already stopped
            self._job = self._pool.submit(_write_csv, self._jsonl)

    def save(self) -> None:
        if self._job is not None:
            with contextlib.suppress(BrokenExecutor):
                self._job.result()  # the worker's OSError or ValueError is raised here, as CsvSink's would be
                return
        _write_csv(self._jsonl)  # no worker to do it: this thread does


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def result_sinks(queries: int, *, in_memory: Callable[[Path], ResultSink],
                 min_queries: int = POOL_MIN_QUERIES) -> Iterator[Callable[[Path], ResultSink]]:
    """A CSV maker per results file for a run of `queries` queries: the worker's, or `in_memory` (`CsvSink`)."""
    if queries < min_queries or cores() < 2:
        yield in_memory
        return
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_ignore_interrupts)
    try:
        yield lambda jsonl: _WorkerCsv(pool, jsonl)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
