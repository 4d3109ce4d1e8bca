"""When to wait and for how long (full-jitter backoff, `Retry-After`, the run's retry budget, the poll ladder), and
what to resend after a submit of unknown outcome. Pure policy, no I/O, no sleeping: callers pass a seeded
`random.Random` and wait themselves, so tests are instant. `RetryBudget` is the one mutable object, shared by every
query of a run (event loop thread only).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from runner.durations import parse_duration, parse_protobuf_duration, to_protobuf_duration
from runner.model import JSONObject, JSONValue
from runner.model.query import DEFAULT_MAX_STALENESS as DEFAULT_POLICY_STALENESS

# Veza's documented default for cached_result_if_available (veza-api.md §3), in seconds: one definition, the model's.
_DEFAULT = parse_duration(DEFAULT_POLICY_STALENESS)
assert _DEFAULT is not None  # a constant duration: it always parses
DEFAULT_MAX_STALENESS: float = _DEFAULT


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How one logical request (a submit, a poll, a page read) is retried.

    `attempt_timeout` caps one HTTP exchange end to end (httpx's timeouts are per socket operation, so a server
    trickling bytes could otherwise hold a request forever); `request_deadline` caps the whole operation, retries
    and waits included. Nothing retries forever: `max_attempts` and the deadline both end it.
    """

    base: float = 0.5
    cap: float = 30.0
    retry_after_cap: float = 60.0
    max_attempts: int = 10
    attempt_timeout: float = 120.0
    request_deadline: float = 300.0

    def __post_init__(self) -> None:
        if not (0 < self.base <= self.cap and self.retry_after_cap >= 0 and self.max_attempts >= 1
                and self.attempt_timeout > 0 and self.request_deadline > 0):
            raise ValueError(f"inconsistent retry policy: {self}")

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(failures-1))] (AWS architecture blog's "Full Jitter")."""
        ceiling = min(self.cap, self.base * 2.0 ** min(failures - 1, 62))
        return rng.uniform(0.0, ceiling)

    def wait(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        """The wait before the next attempt. A server's `Retry-After` wins (capped), plus a little jitter so that
        every client told "1 second" does not come back in the same millisecond."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap) + rng.uniform(0.0, self.base)
        return self.backoff(failures, rng)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); None if absent or
    unparseable; never negative."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class RetryBudget:
    """A run-wide token bucket for retries, shared by all queries.

    Every retry spends one token; every successful request gives `refund` back (up to `capacity`). While the API
    mostly works the bucket stays full; when it is down, nothing refills it, and after `capacity` retries across the
    whole run every further transient failure is final, so a run against a dead API ends instead of each query
    exhausting its own attempts. `exhausted` tells the engine to stop starting new queries.
    """

    def __init__(self, *, capacity: float = 100.0, refund: float = 1.0) -> None:
        if capacity < 0 or refund < 0:
            raise ValueError("retry budget capacity and refund must be >= 0")
        self._capacity = capacity
        self._refund = refund
        self._tokens = capacity
        self.retries = 0
        self.denied = 0

    @property
    def tokens(self) -> float:
        return self._tokens

    @property
    def exhausted(self) -> bool:
        return self._tokens < 1.0

    def try_spend(self) -> bool:
        """Take a token for one retry; False (and counted in `denied`) when none is left."""
        if self._tokens < 1.0:
            self.denied += 1
            return False
        self._tokens -= 1.0
        self.retries += 1
        return True

    def record_success(self) -> None:
        self._tokens = min(self._capacity, self._tokens + self._refund)


@dataclass(frozen=True, kw_only=True)
class PollLadder:
    """The delays between polls of one async job: 0 first (a cached result is often ready at once), then a
    geometric ladder `initial * factor^k` capped at `cap`, each delay shortened by up to `jitter` (a fraction).

    Defaults: polls at about 0, 0.25, 0.6, 1.09, 1.78, 2.74, 4.08, 5.96 s, so a 5 s job needs at most 8 polls
    even with the largest jitter, and a 1 s job is seen done about 0.1 s after it finished.
    """

    initial: float = 0.25
    factor: float = 1.4
    cap: float = 5.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.cap and self.factor >= 1.0 and 0.0 <= self.jitter < 1.0):
            raise ValueError(f"inconsistent poll ladder: {self}")


# After a first wait that found the job running: one poll this share of that wait later (not jittered). At least
# DECAY / (1 - DECAY) of execute/firstpoll.py (0.111), so it reaches the time a confirmed wait was shortened from.
NEAR_STEP = 0.125


def poll_delays(ladder: PollLadder = PollLadder(), rng: random.Random | None = None, *,
                first: float | None = 0.0) -> Iterator[float]:
    """An endless iterator of waits before each poll: `first` (0.0, or the job's expected duration), then the
    jittered, capped ladder. `first=None` starts on the ladder itself: no poll at 0 s, for a job that is known to be
    a new execution (it cannot be done the instant it was created).

    After a positive `first`, one poll comes `NEAR_STEP * first` later before the ladder: a job still running when
    its expected time has come is probably about to end (the journal keeps an expectation a tenth short on purpose,
    execute/firstpoll.kept_duration), so a poll an eighth of that time later finds it, at any scale. The ladder's
    first step would be too long for a short job (0.25 s after a 1 s job expected at 0.9 s), and its 5 s cap too
    short for a long one (a tenth of a 50 s job: a longer job's expectation could then fall by only about 5 s a
    night). A job that really is slower tonight costs that one poll more."""
    draw = rng or random.Random()  # noqa: S311  # jitter, not cryptography
    if first is not None:
        yield max(0.0, first)
        if first > 0:
            yield NEAR_STEP * first  # not capped: see above
    delay = ladder.initial
    while True:
        yield delay * (1.0 - ladder.jitter * draw.random())
        delay = min(ladder.cap, delay * ladder.factor)


def cached_resend_body(body: Mapping[str, JSONValue], elapsed: float) -> JSONObject | None:
    """How to resend a submit whose earlier attempt may have started a job (design.md §7): the same spec as
    `cached_result_if_available` with `max_staleness` = whole seconds since the first attempt (rounded up, at least
    1, and never stricter than the original's), so a job that attempt started is reused. None means "resend as is"
    (`cached_result_context` attaches to an existing result, so a duplicate costs nothing)."""
    for mode in ("immediate_run", "cached_result_if_available"):
        inner = body.get(mode)
        if isinstance(inner, dict) and "request" in inner:
            staleness = max(1, math.ceil(elapsed))
            if mode == "cached_result_if_available":
                original = parse_protobuf_duration(inner.get("max_staleness"))
                staleness = max(staleness, math.ceil(DEFAULT_MAX_STALENESS if original is None else original))
            return {"cached_result_if_available": {"request": inner["request"],
                                                   "max_staleness": to_protobuf_duration(staleness)}}
    return None


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP `Date` header as an aware UTC datetime, or None when absent or not a date (a server's clock is a
    hint, never a reason to fail)."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
