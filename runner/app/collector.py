"""The garbage collector tuned for one batch run: `batch_collector()` wraps the event loop of `vqr run`.

Why: a run makes millions of short-lived containers (a page of rows is thousands of dicts and lists), nearly none
of them in a reference cycle. CPython's default collector scans the young generation every 700 net allocations and
the whole heap every 100 such scans, re-reading the compiled plans, the journal's caches and every row in flight,
which are not garbage: about a tenth of the client's CPU in a 2,000-query run, more as the heap grows. Here the
objects made before the loop starts (modules, compiled queries, plans) are frozen out of every scan, and the young
generation is scanned every YOUNG_THRESHOLD net allocations. Cyclic garbage still goes; at most that many more
containers wait for it. Both settings are given back on the way out, so an in-process caller (a test) is unchanged.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_THRESHOLD = 50_000  # containers; the default is 700


@contextlib.contextmanager
def batch_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.freeze()  # what exists now lives for the run: never scanned again, never freed early either
    gc.set_threshold(YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
