"""One query's lifecycle against the API: submit (or share a submit, or resume a recorded one), poll, page, stream
rows to its result file (and its CSV sink), then its assessment (`assess_step`); every state change journaled
before and after each API call.

`run_group(ctx, members, deadline, off_tenant=)` runs queries whose create bodies are identical with one submit and
returns one `QueryResult` each, calling `off_tenant` once their pages are read; API failures become results (never
exceptions), cancellation propagates. Network and file I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from runner.artifact import ResultWriter, RunDir, UnwritableRow, link_verified
from runner.assess import (
    LifecycleScan,
    start_scan,
)
from runner.client import (
    ApiError,
    AuthError,
    DeadlineExceeded,
    InvalidRequest,
    JobState,
    NotFoundError,
    ResponseError,
    Submitted,
    TransientError,
    VezaClient,
    cached_resend_body,
)
from runner.execute.assess_step import assess_result, scope
from runner.execute.firstpoll import RunPace, first_poll_wait, kept_duration
from runner.model import (
    CacheUse,
    ErrorCategory,
    Member,
    QueryError,
    QueryResult,
    QueryStatus,
    ResultSink,
    cache_use,
)
from runner.model.exceptions import ExceptionRule
from runner.state import HistoryKey, Journal, QueryRecord, QueryState

S = QueryState


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """What every query of a run shares. `run_deadline` is on `client.now()`'s clock."""

    client: VezaClient
    journal: Journal
    rundir: RunDir
    run_id: str
    page_size: int
    key: HistoryKey  # this run's environment and target: every history lookup reads only their runs
    run_deadline: float | None = None
    rng: random.Random | None = None
    on_result: Callable[[Path], ResultSink] | None = None  # a report fed each query's rows (model.ResultSink)
    records: Mapping[str, QueryRecord] = field(default_factory=dict)  # what the journal holds of this run (--resume)
    # Each query's typical job duration here (seconds, from the journal's history): its first poll waits that long.
    typical: Mapping[str, float] = field(default_factory=dict)
    # The run's reference time (run.json `as_of`): the tenant's clock (the `Date` of its first reply), else ours.
    # Exception expiry and finding ages read it, so they follow the tenant (and the sandbox's simulated days).
    as_of: datetime = field(default_factory=_now)
    exceptions: tuple[ExceptionRule, ...] = ()  # the repository's accepted exceptions; each query applies its own
    pace: RunPace = field(default_factory=RunPace)  # this run's new executions so far: the fallback first-poll wait


class JobFailed(ApiError):
    """The async job ended with a failure status word."""


def error_of(error: Exception) -> QueryError:
    kinds: tuple[tuple[type[Exception], ErrorCategory], ...] = (
        (AuthError, ErrorCategory.AUTH), (NotFoundError, ErrorCategory.NOT_FOUND),
        (InvalidRequest, ErrorCategory.INVALID_REQUEST), (DeadlineExceeded, ErrorCategory.DEADLINE),
        (TransientError, ErrorCategory.TRANSIENT), (ResponseError, ErrorCategory.RESPONSE),
        (JobFailed, ErrorCategory.JOB_FAILED), (ApiError, ErrorCategory.API))
    category = next((c for kind, c in kinds if isinstance(error, kind)), ErrorCategory.IO)
    request_id = error.request_id if isinstance(error, ApiError) else None
    message = str(error) if isinstance(error, ApiError) else f"cannot write the result file: {error}"
    return QueryError(category=category, message=message, request_id=request_id)


class SharedSubmit:
    """One submit for every member of a group; the first member to ask sends it, the others await the same reply.

    `since` is when an earlier attempt of this run began a submit whose outcome was never recorded (the process was
    killed): the body is then resent as `cached_result_if_available` covering that attempt, like the client does
    after a lost reply, so a job that attempt started is reused."""

    def __init__(self, ctx: RunContext, member: Member, since: datetime | None) -> None:
        self._ctx = ctx
        self._body = member.body or {}
        self._fallback = member.fallback
        self._since = since
        self._task: asyncio.Task[Submitted] | None = None

    def get(self, deadline: float) -> asyncio.Task[Submitted]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._submit(deadline))
        return self._task

    async def _submit(self, deadline: float) -> Submitted:
        body = self._body
        if self._since is not None:
            body = cached_resend_body(body, (_now() - self._since).total_seconds()) or body
        try:
            return await self._ctx.client.submit(body, deadline=deadline)
        except NotFoundError:
            if self._fallback is None:
                raise
            return await self._ctx.client.submit(self._fallback, deadline=deadline)


async def run_group(ctx: RunContext, members: Sequence[Member], deadline: float, *,
                    off_tenant: Callable[[], None] = lambda: None) -> list[QueryResult]:
    """`off_tenant` is called once every member has read its pages. A member that fails never calls it: the group's
    slot then stays held until the batch has seen the failure, so `--fail-fast` and a refused key stop the groups
    after it before they submit."""
    recorded = [ctx.records.get(m.plan.name) for m in members]
    waiting = [r.updated_at for r in recorded if r is not None and r.state is S.SUBMITTING]
    shared = SharedSubmit(ctx, members[0], min(waiting) if waiting else None)
    left = {m.plan.name for m in members}

    def done_with_tenant(name: str) -> None:
        if name in left:
            left.discard(name)
            if not left:
                off_tenant()

    return list(await asyncio.gather(*(run_member(ctx, m, shared, deadline, shared=len(members) > 1,
                                                  off_tenant=functools.partial(done_with_tenant, m.plan.name))
                                       for m in members)))


async def run_member(ctx: RunContext, member: Member, submit: SharedSubmit, deadline: float, *,
                     shared: bool, off_tenant: Callable[[], None] = lambda: None) -> QueryResult:
    plan, journal = member.plan, ctx.journal
    record = ctx.records.get(plan.name)
    base = QueryResult(name=plan.name, file=plan.file, spec_hash=plan.spec_hash, status=QueryStatus.FAILED,
                       started_at=_now(), shared_submit=shared)
    if record is not None and record.state is S.DONE:
        return _finish(ctx, member, replace(base, status=QueryStatus.SUCCEEDED, kept=True, mode=record.mode,
                                            query_result_id=record.query_result_id, cache_id=record.cache_id,
                                            last_completed_cache_id=record.last_completed_cache_id,
                                            rows=record.rows, sha256=record.sha256,
                                            results_file=_relative(ctx, plan.name)))
    if member.problem is not None:
        journal.record(ctx.run_id, plan.name, S.FAILED, error_category=member.problem.category.value,
                       error_detail=member.problem.message)
        return replace(base, error=member.problem, finished_at=_now())
    try:
        if record is not None and record.state in (S.SUBMITTED, S.FETCHING) and record.query_result_id:
            try:
                resumed = replace(base, mode=record.mode, query_result_id=record.query_result_id,
                                  cache_id=record.cache_id, last_completed_cache_id=record.last_completed_cache_id)
                return await _fetch(ctx, member, resumed, deadline, submitted_at=None, off_tenant=off_tenant)
            except NotFoundError:
                pass  # the recorded query_result_id has expired: submit again
        if record is None or record.state is not S.SUBMITTING:
            journal.record(ctx.run_id, plan.name, S.SUBMITTING, attempts=(record.attempts if record else 0) + 1,
                           mode=next(iter(member.body or {}), None))
        submitted_at = ctx.client.now()
        reply = await submit.get(deadline)
        replied_at = ctx.client.now()
        journal.record(ctx.run_id, plan.name, S.SUBMITTED, query_result_id=reply.query_result_id,
                       cache_id=reply.cache_id, last_completed_cache_id=reply.last_completed_cache_id,
                       request_id=reply.request_id, mode=reply.mode)
        current = replace(base, mode=reply.mode, query_result_id=reply.query_result_id, cache_id=reply.cache_id,
                          last_completed_cache_id=reply.last_completed_cache_id)
        reused = _reuse_downloaded(ctx, member, current)
        if reused is not None:
            return reused
        return await _fetch(ctx, member, current, deadline, submitted_at=submitted_at, replied_at=replied_at,
                            off_tenant=off_tenant)
    except (ApiError, OSError, UnwritableRow) as problem:
        error = error_of(problem)
        journal.record(ctx.run_id, plan.name, S.FAILED, error_category=error.category.value,
                       error_detail=error.message, request_id=error.request_id)
        return replace(base, error=error, finished_at=_now())


async def _fetch(ctx: RunContext, member: Member, current: QueryResult, deadline: float, *,
                 submitted_at: float | None, replied_at: float | None = None,
                 off_tenant: Callable[[], None] = lambda: None) -> QueryResult:
    plan, journal, client = member.plan, ctx.journal, ctx.client
    assert current.query_result_id is not None
    first_wait = _first_wait(ctx, member, current, deadline) if replied_at is not None else 0.0
    asked: list[float] = []  # when each poll was sent: the last one saw the job end
    first, polls = await client.wait_until_finished(current.query_result_id, page_size=ctx.page_size,
                                                    deadline=deadline, rng=ctx.rng, first_wait=first_wait,
                                                    asking=asked.append)
    # The job's duration as this run saw it: from the submit's reply to the poll that found it ended, when that poll
    # was sent (not answered). A first poll that waited the expected time and found the job ended counts that wait,
    # not the send time: a busy event loop sends it a little late, and the history would creep up run after run. The
    # journal keeps it a little shorter again (firstpoll.kept_duration), so that it can also come down.
    job_ms: int | None = None
    # Found done at once: a cached result, not a job's length (kept, it would become the next night's expectation).
    if replied_at is not None and asked and not (polls == 1 and first_wait == 0):
        waited = first_wait or 0.0
        by_first_wait = polls == 1 and waited > 0
        seen = waited if by_first_wait else asked[-1] - replied_at
        confirms = by_first_wait and ctx.typical.get(plan.name, 0.0) > 0  # the wait was this query's own history
        job_ms = round(kept_duration(seen, confirms_history=confirms) * 1000)
        ctx.pace.record(seen)
    if first.state is JobState.FAILED:
        raise JobFailed(f"the job ended {first.status}" + (f": {first.error}" if first.error else ""),
                        operation="poll", request_id=first.request_id)
    journal.record(ctx.run_id, plan.name, S.FETCHING)
    path = ctx.rundir.result_path(plan.name)
    scan = start_scan(journal, scope(ctx.key, plan), run_id=ctx.run_id, as_of=ctx.as_of)  # fed as rows are written
    sink = ctx.on_result(path) if ctx.on_result is not None else None
    with ResultWriter(path) as writer:
        async for page in client.iter_pages(current.query_result_id, page_size=ctx.page_size, first=first,
                                            deadline=deadline):
            for rows in (page.values, page.path_values):
                writer.write(rows, decoded=True)  # straight from decode_json: never NaN or infinity
                scan.feed(rows)
                if sink is not None:
                    sink.feed(rows)
        if first.row_count is not None and first.row_count != writer.rows:
            raise ResponseError(f"the job reported {first.row_count} rows but its pages held {writer.rows}",
                                operation="page read", request_id=first.request_id)
        off_tenant()  # every page read: the next group may submit while these rows are synced and assessed
        await asyncio.to_thread(writer.sync)  # the fsync off the event loop: ~5 ms a file that the loop went without
        result = writer.commit()
    journal.record(ctx.run_id, plan.name, S.DONE, rows=result.rows, sha256=result.sha256,
                   result_path=str(result.path), job_ms=job_ms)
    if sink is not None:
        # An early report (the CSV) that cannot be written must not fail a query already done: the after-run
        # step writes every report again and warns about the ones it cannot.
        with contextlib.suppress(OSError, ValueError):
            sink.prepare()
            await asyncio.to_thread(sink.save)
    use = cache_use(mode=current.mode, cache_id=current.cache_id,
                    last_completed_cache_id=current.last_completed_cache_id,
                    done_at_first_poll=polls == 1 and submitted_at is not None and first_wait == 0)
    age = client.now() - submitted_at if use is CacheUse.MISS and submitted_at is not None else None
    done = replace(current, status=QueryStatus.SUCCEEDED, polls=polls, rows=result.rows, sha256=result.sha256,
                   results_file=_relative(ctx, plan.name), cache=use, result_age_seconds=age)
    return _finish(ctx, member, done, scan=scan)


def _first_wait(ctx: RunContext, member: Member, current: QueryResult, deadline: float) -> float | None:
    """How long the first poll waits (execute/firstpoll.py): the query's typical job duration in this environment,
    else the shortest job this run has seen, unless the reply says the result is a cached one (ready now)."""
    use = cache_use(mode=current.mode, cache_id=current.cache_id,
                    last_completed_cache_id=current.last_completed_cache_id, done_at_first_poll=False)
    return first_poll_wait(use=use, typical=ctx.typical.get(member.plan.name, 0.0), seen=ctx.pace.shortest(),
                           remaining=deadline - ctx.client.now())


def _reuse_downloaded(ctx: RunContext, member: Member, current: QueryResult) -> QueryResult | None:
    """Veza answered with the very result (same `cache_id`) that this query's last successful run downloaded: its
    rows are already on disk, so link that file instead of polling and paging it again. The link is used only if
    its bytes still hash to what that run recorded; anything else falls back to fetching."""
    plan = member.plan
    previous = ctx.journal.previous_success(plan.name, plan.spec_hash, key=ctx.key, exclude_run=ctx.run_id)
    if (previous is None or not current.cache_id or previous.cache_id != current.cache_id
            or not previous.result_path or not previous.sha256 or previous.row_count is None):
        return None
    target = ctx.rundir.result_path(plan.name)
    if not link_verified(Path(previous.result_path), target, previous.sha256):
        return None
    ctx.journal.record(ctx.run_id, plan.name, S.DONE, rows=previous.row_count, sha256=previous.sha256,
                       result_path=str(target))
    age = max(0.0, (_now() - previous.finished_at).total_seconds())
    done = replace(current, status=QueryStatus.SUCCEEDED, polls=0, rows=previous.row_count, sha256=previous.sha256,
                   results_file=_relative(ctx, plan.name), cache=CacheUse.HIT, result_age_seconds=age)
    return _finish(ctx, member, done)


def _relative(ctx: RunContext, name: str) -> str:
    return ctx.rundir.result_path(name).relative_to(ctx.rundir.path).as_posix()


def _finish(ctx: RunContext, member: Member, result: QueryResult, *, scan: LifecycleScan | None = None) -> QueryResult:
    return assess_result(journal=ctx.journal, key=ctx.key, run_id=ctx.run_id, as_of=ctx.as_of, plan=member.plan,
                         results=ctx.rundir.result_path(member.plan.name), result=result, exceptions=ctx.exceptions,
                         scan=scan)
