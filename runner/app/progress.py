"""Progress of a running batch: a rich live line on a terminal, plain heartbeat lines otherwise, a summary at the end.

`Progress(total=..., stream=...)` receives `started`/`finished` from the engine; `async with progress:` keeps the
display alive (a heartbeat at least every `heartbeat` seconds when not a terminal, so CI never sits silent).
`summary(...)` returns the one-screen text printed when the run ends. Writes to the given stream only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from runner.model import CacheUse, QueryResult, QueryStatus, Verdict
from runner.sanitize import terminal_line

if TYPE_CHECKING:
    from rich.live import Live

MAX_LISTED = 10


class Progress:
    def __init__(self, *, total: int, stream: TextIO, tty: bool | None = None, quiet: bool = False,
                 heartbeat: float = 15.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._quiet = quiet
        self._heartbeat = heartbeat
        self._clock = clock
        self._start = clock()
        self.running = 0
        self.done = 0
        self.failed = 0
        self.cached = 0
        self.rows = 0
        self.limit: int | None = None  # the adaptive concurrency limit, as the engine last reported it
        self.throttled = 0
        self._live: Live | None = None
        self._ticker: asyncio.Task[None] | None = None

    def line(self) -> str:
        elapsed = self._clock() - self._start
        pacing = f", concurrency {self.limit} ({self.throttled} throttled)" if self.throttled else ""
        return (f"{self.done}/{self.total} done, {self.running} running, {self.cached} cached, {self.failed} failed, "
                f"{self.rows:,} rows{pacing}, {elapsed:.0f}s elapsed")

    def pacing(self, limit: int, throttled: int) -> None:
        """The engine's concurrency limit and the throttled attempts so far: shown once the target throttled."""
        self.limit, self.throttled = limit, throttled

    def started(self, names: Sequence[str]) -> None:
        self.running += len(names)
        self._refresh()

    def finished(self, result: QueryResult) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        self.rows += result.rows or 0
        self.cached += result.cache is CacheUse.HIT
        if result.status is QueryStatus.FAILED:
            self.failed += 1
            if not self._tty and not self._quiet and result.error is not None:
                # Server text, one line: no escape sequence, no line of its own (a `::` workflow command).
                self._write(f"vqr run: {terminal_line(result.name)} failed: {terminal_line(result.error.message)}")
        self._refresh()

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def _refresh(self) -> None:
        if self._live is not None:
            from rich.text import Text

            self._live.update(Text(self.line()))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            self._write(f"vqr run: {self.line()}")

    async def __aenter__(self) -> Progress:
        if self._quiet:
            return self
        if self._tty:
            # rich only for a terminal's live line: a nightly job's plain lines need none of it (~30 ms of imports)
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text

            console = Console(file=self._stream, force_terminal=True)
            self._live = Live(Text(self.line()), console=console, refresh_per_second=4, transient=True)
            self._live.start()
        else:
            self._write(f"vqr run: {self.total} queries")
            self._ticker = asyncio.create_task(self._beat())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._live is not None:
            self._live.stop()


def _listed(lines: list[str]) -> list[str]:
    extra = len(lines) - MAX_LISTED
    return lines[:MAX_LISTED] + ([f"  ... and {extra} more (see run.json)"] if extra > 0 else [])


def summary(results: Sequence[QueryResult], *, run_id: str, status: str, seconds: float, run_file: str,
            note: str | None = None) -> str:
    """The end-of-run text: counts, then what failed and why, then failed expectations, then where the report is."""
    def count(wanted: QueryStatus) -> int:
        return sum(1 for r in results if r.status is wanted)

    hits = sum(1 for r in results if r.cache is CacheUse.HIT)
    # The same counts as run.json's summary: a query stopped mid-way is interrupted, not "not run".
    interrupted = f", {count(QueryStatus.INTERRUPTED)} interrupted" if count(QueryStatus.INTERRUPTED) else ""
    rows = sum(r.rows or 0 for r in results)
    head = (f"run {terminal_line(run_id)} {status}: {count(QueryStatus.SUCCEEDED)} succeeded, "
            f"{count(QueryStatus.FAILED)} failed, "
            f"{count(QueryStatus.NOT_RUN)} not run{interrupted}; {hits} cache hits; "
            f"{rows:,} rows; {seconds:.1f}s")
    lines = [head]
    if note:
        lines.append(terminal_line(note))
    t = terminal_line  # every piece of data below is server or repository text
    failures = [f"  {t(r.name)}: [{r.error.category.value}] {t(r.error.message)}" for r in results
                if r.error is not None]
    if failures:
        lines += ["failed queries:", *_listed(failures)]
    expectations = [f"  {t(r.name)}: [{o.severity.value}] {t(o.message)}" for r in results for o in r.expectations
                    if o.verdict is Verdict.FAILED]
    if expectations:
        lines += ["failed expectations:", *_listed(expectations)]
    lines.append(f"report: {terminal_line(run_file)}")
    return "\n".join(lines) + "\n"
