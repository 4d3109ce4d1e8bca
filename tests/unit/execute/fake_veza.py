"""A scripted Veza for the batch engine's unit tests (an `httpx.MockTransport` handler counting every call), and a
`Rig` wiring it to a real `VezaClient`, a temporary SQLite journal and a run directory. No server, no sockets.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from runner.artifact.rundir import RunDir
from runner.client import endpoints
from runner.client.api import ClientConfig, VezaClient
from runner.client.retry import PollLadder, RetryBudget, RetryPolicy
from runner.execute.batch import run_batch
from runner.execute.task import RunContext, run_group
from runner.model.plans import Member, QueryPlan
from runner.model.query import Immediate, cache_policy
from runner.model.results import BatchOutcome, QueryResult
from runner.model.values import JSONObject, JSONValue
from runner.plan.select import canonical_json, create_body, spec_hash
from runner.secret import Secret
from runner.state.journal import HistoryKey, Journal, QueryRecord, QueryState

RUN_ID = "20260509T070000Z-unit"
KEY = HistoryKey(env="unit", target="https://acme.vezacloud.test")  # the rig's runs: their environment and target
API_KEY = "unit-test-key-0000"
# Polls 1 ms apart: a job scripted PENDING a few times costs milliseconds of real waiting.
FAST_LADDER = PollLadder(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)
_CODES = {400: "InvalidArgument", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound",
          429: "ResourceExhausted", 500: "Internal", 503: "Unavailable"}

Hook = Callable[[int, str], Awaitable[None]]  # (nth read of this job, page token): runs before the fake replies


@dataclass
class Script:
    """How the fake answers one query: its submits, then its job (PENDING `pending` times, then `final`)."""

    rows: list[JSONValue] = field(default_factory=list)
    pending: int = 0
    final: str = "DONE"
    job_error: JSONObject | None = None  # the `error` of a reply whose status is a failure word
    row_count: int | None = None  # what progress_status claims; default: len(rows)
    submit_failures: list[int] = field(default_factory=list)  # HTTP statuses of the first submits, in order
    refuse: int | None = None  # HTTP status of every submit
    on_read: Hook | None = None


@dataclass
class Job:
    query_result_id: str
    cache_id: str
    script: Script
    status_polls: int = 0  # reads with an empty page token (status polls and the first page)


class FakeVeza:
    """Answers `nodes_async_create` and `nodes_async_get`. A query is known by the `label` of its spec (or, for a
    `cached_result_context` body, by its cache_id); replies are cut into pages of the request's page_size."""

    def __init__(self, **scripts: Script) -> None:
        self.scripts: dict[str, Script] = dict(scripts)
        self.jobs: dict[str, Job] = {}
        self.requests: list[tuple[str, JSONObject]] = []
        self.submits: list[JSONObject] = []
        self.submits_per_body: Counter[str] = Counter()
        self.submits_per_label: Counter[str] = Counter()
        self.reads: Counter[str] = Counter()  # nodes_async_get calls per query_result_id
        self.pages: Counter[str] = Counter()  # DONE replies (pages) per query_result_id

    def add_job(self, query_result_id: str, label: str, *, cache_id: str | None = None) -> Job:
        """A job some earlier process submitted (what a resumed run finds in its journal)."""
        job = Job(query_result_id=query_result_id, cache_id=cache_id or f"cache-{query_result_id}",
                  script=self.scripts[label])
        self.jobs[query_result_id] = job
        return job

    def submitted_ids(self, label: str) -> list[str]:
        return [job.query_result_id for job in self.jobs.values() if job.script is self.scripts[label]]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert isinstance(body, dict)
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        self.requests.append((request.url.path, body))
        if request.url.path == endpoints.NODES_ASYNC_CREATE:
            return self._submit(body)
        if request.url.path == endpoints.NODES_ASYNC_GET:
            return await self._read(body)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def _submit(self, body: JSONObject) -> httpx.Response:
        label = label_of(body)
        script = self.scripts[label]
        self.submits.append(body)
        self.submits_per_body[canonical_json(body)] += 1
        self.submits_per_label[label] += 1
        status = script.submit_failures.pop(0) if script.submit_failures else script.refuse
        if status is not None:
            return error_reply(status, f"req-{label}-{status}")
        number = len(self.jobs) + 1
        job = Job(query_result_id=f"qr-{label}-{number}", cache_id=f"cache-{label}-{number}", script=script)
        self.jobs[job.query_result_id] = job
        return httpx.Response(200, json={"query_result_id": job.query_result_id, "cache_id": job.cache_id,
                                         "last_completed_cache_id": "", "request_id": f"req-submit-{number}"})

    async def _read(self, body: JSONObject) -> httpx.Response:
        query_result_id, token = str(body["query_result_id"]), str(body["page_token"])
        page_size = int(str(body["page_size"]))
        self.reads[query_result_id] += 1
        job = self.jobs.get(query_result_id)
        if job is None:
            return error_reply(404, f"req-read-{query_result_id}")
        script = job.script
        if script.on_read is not None:
            await script.on_read(self.reads[query_result_id], token)
        if not token:
            job.status_polls += 1
            if job.status_polls <= script.pending:
                return httpx.Response(200, json={"status": "PENDING", "values": [], "has_more": False})
        if script.final != "DONE":
            return httpx.Response(200, json={"status": script.final, "error": script.job_error})
        self.pages[query_result_id] += 1
        start = int(token or 0)
        end = start + page_size
        has_more = end < len(script.rows)
        count = len(script.rows) if script.row_count is None else script.row_count
        return httpx.Response(200, json={
            "status": "DONE", "progress_status": {"row_count": str(count)}, "values": script.rows[start:end],
            "path_values": [], "next_page_token": str(end) if has_more else "", "has_more": has_more})


def label_of(body: Mapping[str, Any]) -> str:
    (inner,) = body.values()
    if "request" in inner:
        return str(inner["request"]["body"]["label"])
    return str(inner["cache_id"])


def error_reply(status: int, request_id: str) -> httpx.Response:
    return httpx.Response(status, json={"code": _CODES.get(status, "Unknown"), "message": f"scripted {status}",
                                        "request_id": request_id, "details": []})


def rows(*ids: str) -> list[JSONValue]:
    return [{"id": i, "name": f"user {i}"} for i in ids]


def result_lines(values: Sequence[JSONValue]) -> str:
    """What the engine writes for these rows: one sorted-key compact JSON object per line."""
    return "".join(json.dumps(v, sort_keys=True, separators=(",", ":")) + "\n" for v in values)


class Clock:
    """The client's clock: monotonic time plus a jump the fake (or a test) may add, to cross deadlines at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class WallClock:
    """The journal's clock: now, shifted when a test wants a record stamped in the past."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


async def no_wait(seconds: float) -> None:
    """The client's retry sleep: waits are policy, tested in tests/unit/client; here they cost nothing."""
    await asyncio.sleep(0)


@dataclass
class Rig:
    """One run of the engine against a `FakeVeza`: plans, the client, the journal, the run directory."""

    journal: Journal
    rundir: RunDir
    wall: WallClock
    fake: FakeVeza = field(default_factory=FakeVeza)
    clock: Clock = field(default_factory=Clock)
    budget: RetryBudget = field(default_factory=RetryBudget)
    run_id: str = RUN_ID

    def plan(self, name: str, *, label: str | None = None, timeout: float = 60.0) -> QueryPlan:
        """A plan whose spec carries `label` (default: its name): equal labels mean equal specs."""
        spec: JSONObject = {"label": label or name, "query_type": "SOURCE_TO_DESTINATION",
                            "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
        return QueryPlan(name=name, file=f"queries/{name}.yaml", spec=spec, spec_hash=spec_hash(spec),
                         cache=Immediate(), expect=None, timeout=timeout)

    def member(self, name: str, *, label: str | None = None, cache: JSONObject | None = None,
               timeout: float = 60.0) -> Member:
        plan = self.plan(name, label=label, timeout=timeout)
        return Member(plan=plan, body=create_body(plan.spec, cache_policy(cache or {"mode": "immediate"})))

    def pending(self, members: Sequence[Member]) -> None:
        """Journal PENDING for every member not yet recorded, as `vqr run` does before the batch."""
        known = self.journal.query_states(self.run_id)
        for member in members:
            if member.plan.name not in known:
                self.journal.record(self.run_id, member.plan.name, QueryState.PENDING,
                                    spec_hash=member.plan.spec_hash, file=member.plan.file)

    def state(self, name: str) -> QueryRecord:
        return self.journal.query_states(self.run_id)[name]

    def client(self, *, retry: RetryPolicy | None = None) -> VezaClient:
        config = ClientConfig(base_url="https://acme.vezacloud.test", api_key=Secret(API_KEY),
                              use_env_proxies=False, poll_ladder=FAST_LADDER,
                              retry=retry or RetryPolicy(base=0.01, cap=0.05, max_attempts=3))
        return VezaClient(config, transport=httpx.MockTransport(self.fake), budget=self.budget,
                          rng=random.Random(7), sleep=no_wait, clock=self.clock)

    def context(self, client: VezaClient, *, page_size: int = 1000, run_deadline: float | None = None,
                records: Mapping[str, QueryRecord] | None = None) -> RunContext:
        return RunContext(client=client, journal=self.journal, rundir=self.rundir, run_id=self.run_id,
                          key=KEY, page_size=page_size, run_deadline=run_deadline, rng=random.Random(11),
                          records=records or {})

    async def batch(self, groups: Sequence[Sequence[Member]], *, concurrency: int = 4, fail_fast: bool = False,
                    interrupt: asyncio.Event | None = None, page_size: int = 1000,
                    deadline_in: float | None = None, records: Mapping[str, QueryRecord] | None = None
                    ) -> BatchOutcome:
        """`run_batch` over `groups`; `deadline_in` is the run deadline in seconds from now on the client's clock."""
        self.pending([m for group in groups for m in group])
        async with self.client() as client:
            run_deadline = client.now() + deadline_in if deadline_in is not None else None
            ctx = self.context(client, page_size=page_size, run_deadline=run_deadline, records=records)
            return await run_batch(ctx, groups, concurrency=concurrency, fail_fast=fail_fast,
                                   interrupt=interrupt or asyncio.Event())

    async def group(self, members: Sequence[Member], *, page_size: int = 1000,
                    records: Mapping[str, QueryRecord] | None = None) -> list[QueryResult]:
        """`run_group` alone, with a deadline a minute away."""
        self.pending(members)
        async with self.client() as client:
            ctx = self.context(client, page_size=page_size, records=records)
            return await run_group(ctx, members, client.now() + 60.0)
