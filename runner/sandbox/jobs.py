"""The sandbox's executions: async jobs (create, poll, page), synchronous calls, graph advances, and their stats.

Holds the graph, the result cache and the request handles in memory (and, with a `StateStore`, on disk: loaded
at start, each new result, job and advance saved as it happens); no network I/O. Engine work (evaluation,
page building, drift, which serialize on the graph's own lock) runs in worker threads so that polls, which only read
the clock and a dict, stay fast on the event loop. An async create is answered as soon as its spec has parsed; the
evaluation settles the execution after the reply. Replies are JSON-ready dicts in Veza's wire format.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from runner.sandbox.cache import (
    Execution,
    JobStatus,
    ResultCache,
    Unsettled,
    canonical_spec,
    new_cache_id,
    spec_key,
)
from runner.sandbox.config import SandboxConfig
from runner.sandbox.drift import DEFAULT_FRACTION, advance_graph
from runner.sandbox.engine import Query, QueryOutcome, SpecError, prepare, run
from runner.sandbox.graph import Graph
from runner.sandbox.limits import JobSlots
from runner.sandbox.paging import page_reply
from runner.sandbox.stats import Stats
from runner.sandbox.store import StateStore, StoredJob
from runner.sandbox.wire import ApiError, CreateMode, CreateRequest, PageTokens, field_violations, int64

_log = logging.getLogger(__name__)
COUNT_RESULT_TYPE = "NUMBER"  # [assumed]: the docs show `result_type` without listing its values


@dataclass(frozen=True, kw_only=True)
class Handle:
    """What a `query_result_id` names: one create call's view of an execution."""

    query_result_id: str
    execution: Execution
    created_at: float
    warnings: tuple[str, ...]


def _spec_error(error: SpecError) -> ApiError:
    details = [field_violations([(error.field, error.message)])] if error.field else []
    return ApiError(error.code, error.message, details=details, resolution=error.resolution)


class Jobs:
    """The executions service behind the API routes."""

    def __init__(self, *, config: SandboxConfig, graph: Graph, clock: Callable[[], float] = time.monotonic,
                 regenerate: Callable[[], Graph] | None = None, store: StateStore | None = None) -> None:
        self.config = config
        self.graph = graph
        self._regenerate = regenerate  # how to get the original graph back after `advance` (None: keep it)
        self._initial_version = graph.version
        self._store = store
        self._advances: tuple[tuple[int, float, int], ...] = ()
        self.store_warning: str | None = None  # one line when the store was corrupt and rebuilt
        self.stats = Stats()
        self._clock = clock
        self._cache = ResultCache(ttl=config.cache_ttl, clock=clock)
        self._handles: dict[str, Handle] = {}
        self._handle_order: collections.deque[Handle] = collections.deque()
        self._tokens = PageTokens()
        self.slots = JobSlots(config.job_slots)
        self._evaluating: set[asyncio.Task[None]] = set()
        self._generation = 0  # counts resets: an evaluation that ends after one keeps its result out of the store
        self._unstored: dict[str, list[StoredJob]] = {}  # jobs of unsettled results, by cache_id
        if store is not None:
            self._restore(store)

    def _restore(self, store: StateStore) -> None:
        """Replay the stored advances (the same seeds give the same graph), then take back results and jobs."""
        loaded, self.store_warning = store.load()
        for seed, fraction, _ in loaded.advances:
            advance_graph(self.graph, seed=seed, fraction=fraction)
        self._advances = loaded.advances
        for execution in loaded.executions:
            self._cache.add(execution)
        for job in loaded.jobs:
            stored = self._cache.get(job.cache_id)
            if stored is not None:
                handle = Handle(query_result_id=job.query_result_id, execution=stored,
                                created_at=job.created_at, warnings=job.warnings)
                self._handles[handle.query_result_id] = handle
                self._handle_order.append(handle)

    def reset(self) -> None:
        """Back to the start: no cache, jobs or counters, and the generated graph as it was before any advance."""
        if self._regenerate is not None and self.graph.version != self._initial_version:
            self.graph = self._regenerate()
            self._initial_version = self.graph.version
        self._cache.clear()
        self._handles.clear()
        self._handle_order.clear()
        self.stats.reset()
        self.slots.clear()
        self._advances = ()
        self._generation += 1
        self._unstored.clear()
        if self._store is not None:
            self._store.clear()

    async def _evaluate(self, spec: dict[str, Any]) -> QueryOutcome:
        query = self._parse(spec)
        return (await asyncio.to_thread(run, self.graph, query))[0]

    def _parse(self, spec: dict[str, Any]) -> Query:
        try:
            return prepare(self.graph, canonical_spec(spec))
        except SpecError as error:
            raise _spec_error(error) from None

    def _duration(self, outcome: QueryOutcome) -> float:
        return self.config.latency + float(outcome.cost) * self.config.cost_per_unit

    def _new_handle(self, execution: Execution, warnings: tuple[str, ...]) -> Handle:
        now = self._clock()
        limit = now - self.config.cache_ttl
        while self._handle_order and self._handle_order[0].created_at <= limit:
            self._handles.pop(self._handle_order.popleft().query_result_id, None)
        handle = Handle(query_result_id="qr-" + secrets.token_hex(12), execution=execution, created_at=now,
                        warnings=warnings)
        self._handles[handle.query_result_id] = handle
        self._handle_order.append(handle)
        if self._store is not None:
            job = StoredJob(query_result_id=handle.query_result_id, cache_id=execution.cache_id, created_at=now,
                            warnings=warnings)
            if execution.settled:
                self._store.save_job(job)
            else:  # stored with its result, once settled: a restart keeps no job whose result it cannot serve
                self._unstored.setdefault(execution.cache_id, []).append(job)
        return handle

    async def create(self, request: CreateRequest, *, fail: bool, tenant: str = "") -> dict[str, Any]:
        """Run, reuse or attach to a result per the request's mode; reply `{query_result_id, cache_id, ...}`."""
        arrived = self._clock()
        execution: Execution | None = None
        if request.mode is CreateMode.CONTEXT:
            assert request.cache_id is not None
            execution = self._cache.get(request.cache_id)
            if execution is None:
                raise ApiError("NotFound", f"cache_id {request.cache_id!r} does not exist or has expired",
                               details=[field_violations([("cached_result_context.cache_id",
                                                           "unknown or expired cache_id")])],
                               resolution="Submit the query with cached_result_if_available or immediate_run to get "
                                          "a new cache_id.")
            self.stats.cache_hits += 1
        else:
            assert request.spec is not None
            key = spec_key(request.spec)
            if request.mode is CreateMode.IF_AVAILABLE:
                execution = self._cache.fresh(key, request.max_staleness,
                                              include_running=self.config.cache_joins_running)
                if execution is not None:
                    self.stats.cache_hits += 1
            if execution is None:
                execution = self._start(request.spec, key, fail=fail, tenant=tenant)
        last = self._cache.last_completed(execution.key, at=arrived)
        handle = self._new_handle(execution, request.warnings)
        self.stats.creates += 1  # creates that were accepted: a query_result_id was issued
        reply: dict[str, Any] = {"query_result_id": handle.query_result_id, "cache_id": execution.cache_id,
                                 "last_completed_cache_id": last.cache_id if last else ""}
        warnings = [*request.warnings, *execution.outcome.warnings]
        if warnings:
            reply["warnings"] = warnings
        return reply

    def _start(self, spec: dict[str, Any], key: str, *, fail: bool, tenant: str = "") -> Execution:
        """Accept an execution and evaluate it after the reply. Only the parse, where every refusal comes from, runs
        before it: Veza answers a create with a `query_result_id` while the job is still queued [assumed], and an
        engine that evaluated first would hold every reply of a burst behind the evaluations queued before it."""
        query = self._parse(spec)
        started = self._clock()
        execution = Execution(cache_id=new_cache_id(), key=key, graph_version=self.graph.version, created_at=started,
                              finished_at=started + self.config.latency, failed=fail,
                              outcome=Unsettled(query.warnings, result_value_type=query.result),
                              error="the execution failed (injected by the sandbox)" if fail else None, settled=False)
        self.stats.executions += 1
        if fail:
            self.stats.fault("job")
        self._cache.add(execution)
        # The graph and the generation as they are now: a reset before the task first runs must not hand it the
        # regenerated graph, nor let its result into the store or its booking into the slots of the fresh sandbox.
        task = asyncio.get_running_loop().create_task(
            self._settle(execution, query, tenant, graph=self.graph, generation=self._generation))
        self._evaluating.add(task)  # a reference, so that the loop cannot collect the task while it runs
        task.add_done_callback(self._evaluating.discard)
        return execution

    async def drain(self) -> None:
        """Wait until every execution accepted so far has settled and been stored (a stop, and tests)."""
        while self._evaluating:
            await asyncio.gather(*self._evaluating)

    async def _settle(self, execution: Execution, query: Query, tenant: str, *, graph: Graph,
                      generation: int) -> None:
        try:
            outcome, version = await asyncio.to_thread(run, graph, query)
        except Exception as error:  # an engine fault fails this job, as it would on Veza, not the server
            _log.exception("the engine failed on %s", execution.cache_id)
            execution.settle(execution.outcome, finished_at=self._clock(), graph_version=execution.graph_version,
                             error=f"the execution failed: {type(error).__name__} in the sandbox's engine")
        else:
            duration = self._duration(outcome)
            current = generation == self._generation
            # With --job-slots the execution starts when its key has a slot free: until then the job is queued.
            begin = self.slots.start(tenant, execution.created_at, duration) if current else execution.created_at
            execution.settle(outcome, finished_at=max(begin + duration, self._clock()), graph_version=version)
        jobs = self._unstored.pop(execution.cache_id, [])
        if self._store is not None and generation == self._generation:  # not a result from before a reset
            store = self._store

            def save() -> None:
                store.save_execution(execution)
                for job in jobs:
                    store.save_job(job)

            await asyncio.to_thread(save)

    async def poll(self, query_result_id: Any, *, page_size: int, page_token: Any,
                   empty_page: bool) -> dict[str, Any]:
        """Status and progress of a result; once DONE, also one page of it."""
        self.stats.polls += 1
        handle = self._handles.get(query_result_id) if isinstance(query_result_id, str) else None
        now = self._clock()
        if handle is None or handle.created_at + self.config.cache_ttl <= now:
            raise ApiError("NotFound", f"query result {query_result_id!r} does not exist or has expired",
                           details=[field_violations([("query_result_id", "unknown or expired")])],
                           resolution=f"Poll with a query_result_id from a nodes_async_create reply less than "
                                      f"{self.config.cache_ttl:g} seconds old, or submit the query again.")
        execution = handle.execution
        status = execution.status(now)
        word = self.config.failed_status if status is JobStatus.FAILED else status.value
        reply: dict[str, Any] = {"status": word, "progress_status": {"row_count": int64(0)},
                                 "values": [], "path_values": [], "next_page_token": "", "has_more": False,
                                 "warnings": list(handle.warnings), "error": None}
        if status is JobStatus.FAILED:
            reply["error"] = {"code": "Internal", "message": execution.error}
        if status is not JobStatus.DONE:
            return reply
        outcome = execution.outcome
        reply["progress_status"]["row_count"] = int64(outcome.total)
        reply["warnings"] += list(outcome.warnings)
        offset = self._tokens.decode(page_token, handle.query_result_id)
        reply.update(await page_reply(outcome, handle.query_result_id, offset, page_size, empty_page=empty_page,
                                       stats=self.stats, tokens=self._tokens))
        return reply

    async def nodes(self, spec: dict[str, Any], *, page_size: int, page_token: Any,
                    empty_page: bool) -> dict[str, Any]:
        """`query_spec:nodes`: every page is a full execution that answers when done."""
        started = self._clock()
        binding = "spec-" + spec_key(spec)[:32]
        offset = self._tokens.decode(page_token, binding)
        outcome = await self._evaluate(spec)
        self.stats.executions += 1
        await asyncio.sleep(max(0.0, started + self._duration(outcome) - self._clock()))
        reply = await page_reply(outcome, binding, offset, page_size, empty_page=empty_page, stats=self.stats,
                                 tokens=self._tokens)
        reply["warnings"] = list(outcome.warnings)
        return reply

    async def count(self, spec: dict[str, Any]) -> dict[str, Any]:
        """`query_spec:result`: the number of rows, as an int64 string (and the spec's warnings)."""
        started = self._clock()
        outcome = await self._evaluate(spec)
        self.stats.executions += 1
        await asyncio.sleep(max(0.0, started + self.config.latency - self._clock()))
        return {"result_type": COUNT_RESULT_TYPE, "number_value": int64(outcome.total),
                "warnings": list(outcome.warnings)}

    async def advance(self, *, seed: int | None, fraction: float | None, days: int = 1) -> dict[str, Any]:
        """Mutate a few percent of the graph and move the clock `days` forward (a nightly step: one day by
        default); cached results keep the version they were computed on."""
        use_seed = self.config.seed + 1000 * (self.graph.version + 1) if seed is None else seed
        use_fraction = DEFAULT_FRACTION if fraction is None else fraction
        summary = await asyncio.to_thread(advance_graph, self.graph, seed=use_seed, fraction=use_fraction)
        self._advances = (*self._advances, (use_seed, use_fraction, days))
        if self._store is not None:
            self._store.save_advances(self._advances)
        return {"seed": use_seed, "days": days, "clock": self.wall_clock().isoformat(),
                **dataclasses.asdict(summary)}

    def wall_clock(self) -> datetime:
        """The sandbox's simulated date and time: the real one moved forward by every advance's days. Served as
        each reply's `Date` header, as a real server's clock would be, so a client's notion of "today" (exception
        expiry, finding ages) can follow the graph's story."""
        return datetime.now(UTC) + timedelta(days=sum(days for _, _, days in self._advances))
