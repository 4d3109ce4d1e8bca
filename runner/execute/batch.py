"""The batch engine: runs groups of queries (identical create bodies share one submit) with adaptive concurrency.

`run_batch(ctx, groups, concurrency=..., fail_fast=..., interrupt=...)` returns a `BatchOutcome` with one
`QueryResult` per query, in plan order, and the run's concurrency over time. At most `concurrency` groups run at
once, fewer while the target throttles (`execute/aimd.py`, starting at `start`: the last run's converged value).
It stops starting new groups after a failure with `--fail-fast`, when the key is refused, when the run's retry
budget or deadline is spent, or when `interrupt` is set (Ctrl-C: in-flight groups are cancelled, their journal
states kept for `--resume`). One query's failure never touches another's files.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Protocol

from runner.execute.aimd import AimdLimit, AimdSettings
from runner.execute.slots import AdaptiveSlots
from runner.execute.task import RunContext, run_group
from runner.model import BatchOutcome, ErrorCategory, Member, QueryResult, QueryStatus, StopReason
from runner.state import QueryRecord


class ProgressSink(Protocol):
    def started(self, names: Sequence[str]) -> None: ...

    def finished(self, result: QueryResult) -> None: ...

    def pacing(self, limit: int, throttled: int) -> None: ...


class _Silent:
    def started(self, names: Sequence[str]) -> None:
        pass

    def finished(self, result: QueryResult) -> None:
        pass

    def pacing(self, limit: int, throttled: int) -> None:
        pass


class _Batch:
    def __init__(self, ctx: RunContext, *, fail_fast: bool, progress: ProgressSink) -> None:
        self.ctx = ctx
        self.fail_fast = fail_fast
        self.progress = progress
        self.results: dict[str, QueryResult] = {}
        self.running: set[str] = set()
        self.stopped: StopReason | None = None

    def _stop_reason(self) -> StopReason | None:
        if self.stopped is not None:
            return self.stopped
        if self.ctx.client.budget.exhausted:
            return StopReason.RETRY_BUDGET
        if self.ctx.run_deadline is not None and self.ctx.client.now() >= self.ctx.run_deadline:
            return StopReason.RUN_DEADLINE
        return None

    async def run(self, group: Sequence[Member], slots: AdaptiveSlots) -> None:
        async with slots.hold() as held:
            self.stopped = self._stop_reason()
            if self.stopped is not None:
                return
            names = [m.plan.name for m in group]
            self.running.update(names)
            self.progress.pacing(slots.aimd.limit, slots.aimd.throttles)
            self.progress.started(names)
            limit = self.ctx.run_deadline if self.ctx.run_deadline is not None else math.inf
            deadline = min(self.ctx.client.now() + max(m.plan.timeout for m in group), limit)
            for result in await run_group(self.ctx, group, deadline, off_tenant=held.release):
                self.results[result.name] = result
                self.running.discard(result.name)
                self.progress.finished(result)
                if result.status is QueryStatus.FAILED and self.stopped is None:
                    if result.error is not None and result.error.category is ErrorCategory.AUTH:
                        self.stopped = StopReason.AUTH
                    elif self.fail_fast:
                        self.stopped = StopReason.FAIL_FAST
            if self.stopped is None and self.ctx.client.budget.exhausted:
                self.stopped = StopReason.RETRY_BUDGET


async def run_batch(ctx: RunContext, groups: Sequence[Sequence[Member]], *, concurrency: int, fail_fast: bool,
                    interrupt: asyncio.Event, progress: ProgressSink | None = None, start: float | None = None,
                    aimd: AimdSettings | None = None) -> BatchOutcome:
    batch = _Batch(ctx, fail_fast=fail_fast, progress=progress or _Silent())
    limit = AimdLimit(ceiling=max(1, concurrency), start=start, clock=ctx.client.now, settings=aimd or AimdSettings())
    slots = AdaptiveSlots(limit)
    listening, ctx.client.throttle = ctx.client.throttle, slots  # this batch's limit hears the client's replies
    try:
        interrupted = await _gather(batch, groups, slots, interrupt)
    finally:
        ctx.client.throttle = listening
    batch.progress.pacing(limit.limit, limit.throttles)
    ordered: list[QueryResult] = []
    # What the journal holds of the queries that did not end: a submitted query keeps its query_result_id (and
    # cache ids) in run.json, as `--resume` will use them.
    recorded = ctx.journal.query_states(ctx.run_id) if len(batch.results) < sum(map(len, groups)) else {}
    for group in groups:
        for member in group:
            plan = member.plan
            found = batch.results.get(plan.name)
            if found is None:
                status = QueryStatus.INTERRUPTED if plan.name in batch.running else QueryStatus.NOT_RUN
                found = _unfinished(plan.name, plan.file, plan.spec_hash, status, recorded.get(plan.name))
            ordered.append(found)
    return BatchOutcome(results=tuple(ordered), interrupted=interrupted, stopped=batch.stopped,
                        concurrency=limit.report(configured=max(1, concurrency)))


async def _gather(batch: _Batch, groups: Sequence[Sequence[Member]], slots: AdaptiveSlots,
                  interrupt: asyncio.Event) -> bool:
    """Run every group under the gate until all end or `interrupt` is set; True when interrupted."""
    tasks = [asyncio.create_task(batch.run(group, slots)) for group in groups]
    everything: asyncio.Future[list[None]] = asyncio.gather(*tasks)
    stop_waiter = asyncio.ensure_future(interrupt.wait())
    try:
        await asyncio.wait((everything, stop_waiter), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_waiter.cancel()
        interrupted = interrupt.is_set() and not everything.done()
        if not everything.done():
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if interrupted:
        if not everything.cancelled():
            everything.exception()  # mark it retrieved: cancelled tasks are expected here, not worth a log line
    else:
        everything.result()  # a bug in a task (API failures are results, not exceptions) surfaces here
    return interrupted


def _unfinished(name: str, file: str, spec_hash: str, status: QueryStatus, record: QueryRecord | None) -> QueryResult:
    if record is None:
        return QueryResult(name=name, file=file, spec_hash=spec_hash, status=status)
    return QueryResult(name=name, file=file, spec_hash=spec_hash, status=status, mode=record.mode,
                       query_result_id=record.query_result_id, cache_id=record.cache_id,
                       last_completed_cache_id=record.last_completed_cache_id)
