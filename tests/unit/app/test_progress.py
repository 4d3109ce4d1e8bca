"""Progress output: heartbeat lines when not on a terminal, failures as they happen, and the end-of-run summary."""

from __future__ import annotations

import asyncio
import io

from runner.app.progress import MAX_LISTED, Progress, summary
from runner.model.assessment import ExpectSeverity, Outcome, Verdict
from runner.model.results import CacheUse, ErrorCategory, QueryError, QueryResult, QueryStatus


def result(name: str, status: QueryStatus = QueryStatus.SUCCEEDED, **extra: object) -> QueryResult:
    return QueryResult(name=name, file=f"queries/{name}.yaml", spec_hash="0" * 64, status=status, **extra)  # type: ignore[arg-type]


def test_heartbeats_keep_a_non_terminal_log_alive_and_failures_show_at_once() -> None:
    stream = io.StringIO()

    async def scenario() -> None:
        async with Progress(total=3, stream=stream, tty=False, heartbeat=0.05) as progress:
            progress.started(["a", "b"])
            progress.finished(result("a", rows=5, cache=CacheUse.HIT))
            progress.finished(result("b", QueryStatus.FAILED, error=QueryError(
                category=ErrorCategory.JOB_FAILED, message="the job ended FAILED")))
            for _ in range(500):  # until two heartbeats (0.05 s apart) were written, or 5 s
                if stream.getvalue().count("2/3 done") >= 2:
                    break
                await asyncio.sleep(0.01)

    asyncio.run(scenario())
    lines = stream.getvalue().splitlines()
    assert lines[0] == "vqr run: 3 queries"
    assert lines[1] == "vqr run: b failed: the job ended FAILED"
    beats = [line for line in lines[2:] if line.startswith("vqr run: 2/3 done, 0 running, 1 cached, 1 failed, 5 rows")]
    assert len(beats) >= 2


def test_quiet_progress_writes_nothing() -> None:
    stream = io.StringIO()

    async def scenario() -> None:
        async with Progress(total=1, stream=stream, tty=False, quiet=True, heartbeat=0.01) as progress:
            progress.finished(result("a", QueryStatus.FAILED, error=QueryError(category=ErrorCategory.API,
                                                                               message="x")))
            await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert stream.getvalue() == ""


def test_the_summary_fits_one_screen() -> None:
    failing = Outcome(metric="rows", bounds={"max": 0}, severity=ExpectSeverity.ERROR, verdict=Verdict.FAILED,
                      actual=4, message="rows = 4 (expected max 0)")
    results = [result(f"f{i}", QueryStatus.FAILED, error=QueryError(category=ErrorCategory.TRANSIENT,
                                                                      message="HTTP 503")) for i in range(15)]
    results += [result("ok", rows=1234, cache=CacheUse.HIT, expectations=(failing,)), result("later",
                                                                                              QueryStatus.NOT_RUN)]
    text = summary(results, run_id="20260101T000000Z-abcd", status="completed", seconds=3.21,
                   run_file="reports/20260101T000000Z-abcd/run.json", note="stopped early: fail fast")
    lines = text.splitlines()
    assert lines[0] == ("run 20260101T000000Z-abcd completed: 1 succeeded, 15 failed, 1 not run; 1 cache hits; "
                        "1,234 rows; 3.2s")
    assert lines[1] == "stopped early: fail fast"
    assert "  f0: [transient] HTTP 503" in lines and "  ... and 5 more (see run.json)" in lines
    assert "  ok: [error] rows = 4 (expected max 0)" in lines
    assert lines[-1] == "report: reports/20260101T000000Z-abcd/run.json"
    assert len(lines) <= 2 * MAX_LISTED + 6


def test_the_line_shows_the_concurrency_once_the_target_throttled() -> None:
    progress = Progress(total=4, stream=io.StringIO(), tty=False, clock=lambda: 0.0)
    progress.pacing(8, 0)
    assert "concurrency" not in progress.line()  # nothing throttled: the configured concurrency, nothing to say
    progress.pacing(3, 7)
    assert "rows, concurrency 3 (7 throttled), 0s elapsed" in progress.line()
