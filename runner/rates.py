"""Request rates and the one GCRA (generic cell rate algorithm) both sides of the API budget share: `parse_rate`
("20/s", "300/min"), `Gcra`, a token bucket kept as one number, the theoretical arrival time (TAT), and
`BudgetSettings`, vqr.yaml's `api.budget` as a value.

Pure, no I/O, no clock of its own: callers pass `now` in seconds. The sandbox's gateway (`sandbox/limits.py`) uses
`admit` (refuse with a wait); the client's budget (`client/budget.py`) uses `reserve` (take a slot, sleep until it),
and its Redis script is the same arithmetic in Lua.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.errors import UsageError

_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*")
_PER = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
MAX_RATE = 1_000_000.0  # per second: anything above is a typo, and would make the interval round to zero


def parse_rate(text: str | float, *, what: str = "rate") -> float:
    """Requests per second of "N/s" or "N/min" (a bare number is per second); `UsageError` otherwise."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _RATE.fullmatch(str(text))
        if match is None:
            raise UsageError(f"{what} must be a rate such as 20/s or 600/min, got {str(text)[:40]!r}")
        value = float(match[1]) / _PER[match[2]]
    if not (math.isfinite(value) and 0 < value <= MAX_RATE):
        raise UsageError(f"{what} must be more than 0 and at most {MAX_RATE:g}/s, got {text!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class Gcra:
    """`rate` requests per second with bursts of `burst`: `burst` requests may arrive at once, then one every
    `interval` seconds. State is a single TAT (seconds on the caller's clock); a missing one is "now"."""

    rate: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0) or self.burst < 1:
            raise ValueError("a GCRA needs a positive rate and a burst of at least 1")

    @property
    def interval(self) -> float:
        """Seconds between two requests at the sustained rate (the emission interval T)."""
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        """How far ahead of `now` the TAT may run: (burst - 1) intervals (the delay variation tolerance)."""
        return (self.burst - 1) * self.interval

    def share(self, parts: int) -> Gcra:
        """One of `parts` processes' equal part of this budget, for pacing without a shared store: the rate divided,
        the burst too (at least 1)."""
        if parts <= 1:
            return self
        return Gcra(rate=self.rate / parts, burst=max(1, self.burst // parts))

    def reserve(self, tat: float | None, now: float) -> tuple[float, float]:
        """Take the next slot: (the new TAT, seconds to wait before sending). Never refuses: a caller that must go
        on waits its turn instead of retrying."""
        start = now if tat is None else max(tat, now)
        return start + self.interval, max(0.0, start - self.tolerance - now)

    def admit(self, tat: float | None, now: float) -> tuple[float | None, float]:
        """A gateway's decision: (the new TAT, 0.0) when the request may pass, else (None, seconds until it would);
        a refused request leaves the TAT as it was."""
        new_tat, wait = self.reserve(tat, now)
        return (new_tat, 0.0) if wait <= 0 else (None, wait)


@dataclass(frozen=True, kw_only=True)
class BudgetSettings:
    """vqr.yaml `api.budget`: the submit rate every process of a tenant shares, and where the shared bucket lives.
    The Redis URL may hold a password, so vqr.yaml names it only without credentials (`redis`), else the variable
    (`redis_env`) or file (`redis_file`) that holds it; none of them: this process paces itself alone."""

    rate: float  # submits per second
    burst: int = 1
    redis: str | None = None
    redis_env: str | None = None
    redis_file: Path | None = None

    def gcra(self) -> Gcra:
        return Gcra(rate=self.rate, burst=self.burst)

    @property
    def shared(self) -> bool:
        return any(value is not None for value in (self.redis, self.redis_env, self.redis_file))


def budget_settings(section: Mapping[str, object], root: Path) -> BudgetSettings | None:
    """The `BudgetSettings` of `api.budget` (already schema-checked; None when absent); relative files are under
    `root`. `UsageError` for a rate the schema let through but that is out of range."""
    if not section:
        return None
    burst, redis_file = section.get("burst", 1), section.get("redis_file")
    rate = section.get("rate")
    return BudgetSettings(rate=parse_rate(rate if isinstance(rate, int | float) else str(rate), what="api.budget.rate"),
                          burst=burst if isinstance(burst, int) else 1,
                          redis=str(section["redis"]) if "redis" in section else None,
                          redis_env=str(section["redis_env"]) if "redis_env" in section else None,
                          redis_file=root / str(redis_file) if redis_file else None)
