"""Two processes that open the same new journal at the same moment both get it (two runs started together)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from runner.state import open_journal


def _open(path: str, start: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue[str]) -> None:
    start.wait()
    try:
        open_journal(Path(path)).close()
        results.put("ok")
    except Exception as error:  # the test reports what went wrong
        results.put(f"{type(error).__name__}: {error}")


def test_two_processes_open_one_new_journal_together(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    outcomes = []
    for attempt in range(15):
        start, results = context.Barrier(3), context.Queue()
        path = str(tmp_path / f"j{attempt}" / "state.sqlite")
        workers = [context.Process(target=_open, args=(path, start, results)) for _ in range(3)]
        for worker in workers:
            worker.start()
        outcomes += [results.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
    assert outcomes == ["ok"] * len(outcomes)
