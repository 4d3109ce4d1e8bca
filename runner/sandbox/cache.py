"""The sandbox's server-side result cache: every execution is a result with a `cache_id`, keyed by its canonical spec.

In-memory, no I/O. A result's lifecycle is computed from the clock (PENDING, RUNNING, then DONE or FAILED at
`finished_at` once the engine has settled it), so nothing but that one settling has to wake up to advance it.
Results expire `ttl` seconds after they were created.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

# Fields of a spec that page through a result rather than define it: left out of the cache key.
_PAGING_FIELDS = frozenset({"page_size", "page_token", "order_by"})
# Share of an execution's duration spent PENDING before it turns RUNNING.
_PENDING_SHARE = 0.2


class Outcome(Protocol):
    """What a result serves: the engine's `QueryOutcome`, or a `store.StoredOutcome` read back after a restart."""

    @property
    def result_value_type(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def cost(self) -> int: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...
    def page(self, offset: int, limit: int) -> tuple[list[Any], list[Any]]: ...


class JobStatus(enum.Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


def canonical_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in spec.items() if key not in _PAGING_FIELDS}


def spec_key(spec: dict[str, Any]) -> str:
    """The cache key: a digest of the sorted-keys JSON of the normalized spec (paging fields excluded)."""
    text = json.dumps(canonical_spec(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Unsettled:
    """The outcome of an execution the engine has not evaluated yet: the spec's parse warnings and no rows."""

    warnings: tuple[str, ...]
    result_value_type: str = ""
    total: int = 0
    cost: int = 0

    def page(self, offset: int, limit: int) -> tuple[list[Any], list[Any]]:
        return [], []


@dataclass(kw_only=True, eq=False)
class Execution:
    """One execution of a spec and its result (`outcome`); `failed` was drawn at start.

    An execution is accepted before the engine has evaluated it (`settled` False, an `Unsettled` outcome and the
    expected `finished_at`), so that the create's reply does not wait for the engine. `settle` then sets its
    outcome and true end once; until then it is PENDING or RUNNING whatever the clock says. It is the one mutable
    object here, changed only on the event loop, and every handle to it sees the settled result."""

    cache_id: str
    key: str
    graph_version: int
    created_at: float
    finished_at: float
    failed: bool
    outcome: Outcome
    error: str | None = None
    settled: bool = True
    running_at: float | None = None  # when it turns RUNNING; None: after its PENDING share of its length

    def settle(self, outcome: Outcome, *, finished_at: float, graph_version: int, error: str | None = None) -> None:
        # A job that was RUNNING by the expected length stays RUNNING when the true end comes later (cost, a slot).
        self.running_at = min(self._running_at(), self._pending_until(finished_at))
        self.outcome, self.finished_at, self.graph_version = outcome, finished_at, graph_version
        if error is not None:
            self.failed, self.error = True, error
        self.settled = True

    def _pending_until(self, finished_at: float) -> float:
        return self.created_at + _PENDING_SHARE * (finished_at - self.created_at)

    def _running_at(self) -> float:
        return self.running_at if self.running_at is not None else self._pending_until(self.finished_at)

    def status(self, now: float) -> JobStatus:
        if self.settled and now >= self.finished_at:
            return JobStatus.FAILED if self.failed else JobStatus.DONE
        return JobStatus.PENDING if now < self._running_at() else JobStatus.RUNNING

    def age(self, now: float) -> float:
        """How old the data is, from when the execution was accepted (the engine evaluates it a moment later, on the
        graph as it is then: `graph_version`)."""
        return now - self.created_at


def new_cache_id() -> str:
    return "cache-" + secrets.token_hex(12)


class ResultCache:
    """Results by `cache_id` and by spec key, oldest first; expired results are dropped as the clock moves on."""

    def __init__(self, *, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._by_id: dict[str, Execution] = {}
        self._by_key: dict[str, list[Execution]] = {}
        self._order: collections.deque[Execution] = collections.deque()

    def __len__(self) -> int:
        return len(self._by_id)

    def clear(self) -> None:
        self._by_id.clear()
        self._by_key.clear()
        self._order.clear()

    def expire(self) -> None:
        limit = self._clock() - self._ttl
        while self._order and self._order[0].created_at <= limit:
            gone = self._order.popleft()
            self._by_id.pop(gone.cache_id, None)
            same = self._by_key.get(gone.key)
            if same is not None:
                same.remove(gone)
                if not same:
                    del self._by_key[gone.key]

    def add(self, execution: Execution) -> None:
        self.expire()
        self._by_id[execution.cache_id] = execution
        self._by_key.setdefault(execution.key, []).append(execution)
        self._order.append(execution)

    def get(self, cache_id: str) -> Execution | None:
        """The result with this id, or None when it never existed or has expired."""
        self.expire()
        return self._by_id.get(cache_id)

    def fresh(self, key: str, max_staleness: float, *, include_running: bool) -> Execution | None:
        """The newest DONE result for `key` no older than `max_staleness`; with `include_running`, a result still
        being computed (its data is current) when no DONE one qualifies."""
        self.expire()
        now = self._clock()
        running: Execution | None = None
        for execution in reversed(self._by_key.get(key, ())):
            status = execution.status(now)
            if status is JobStatus.DONE and execution.age(now) <= max_staleness:
                return execution
            if status in (JobStatus.PENDING, JobStatus.RUNNING) and running is None:
                running = execution
        return running if include_running else None

    def last_completed(self, key: str, *, at: float) -> Execution | None:
        """The most recently finished result for `key` that was already DONE at `at` (when the create arrived), so a
        fresh execution, started at or after `at`, is never reported as its own earlier completed result."""
        self.expire()
        done = [e for e in self._by_key.get(key, ()) if e.created_at < at and e.status(at) is JobStatus.DONE]
        return max(done, key=lambda e: e.finished_at) if done else None
