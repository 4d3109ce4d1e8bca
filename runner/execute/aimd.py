"""The adaptive concurrency limit of one target: additive increase, multiplicative decrease (AIMD, as TCP does).

`AimdLimit(ceiling=..., start=..., clock=...)`: `throttled(...)` on a 429/503/`Retry-After` multiplies the limit
by `decrease` (at most once per `cooldown`, or per `Retry-After` if longer: the requests already in flight when the
first refusal came are refused too, and must not halve it again); `healthy()` on an answered submit adds
`increase / limit`, so the limit grows by about `increase` per round of `limit` submits. It never leaves
[1, ceiling]. It records a compact series of (seconds since start, limit) at each change, the throttling counts, and
the converged value: the time-weighted mean of the limit since the first decrease (None when nothing throttled).
Pure: the clock is injected, nothing sleeps; the engine's gate (`execute/slots.py`) applies `limit`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from runner.model import ConcurrencyReport


@dataclass(frozen=True, kw_only=True)
class AimdSettings:
    decrease: float = 0.5  # the factor applied on a throttle
    increase: float = 1.0  # slots added per round of `limit` healthy submits
    cooldown: float = 1.0  # seconds after a decrease in which further throttles do not decrease again
    max_points: int = 120  # the series is thinned (every other point dropped) beyond this length

    def __post_init__(self) -> None:
        if not (0 < self.decrease < 1 and self.increase > 0 and self.cooldown >= 0 and self.max_points >= 4):
            raise ValueError(f"inconsistent AIMD settings: {self}")


class AimdLimit:
    def __init__(self, *, ceiling: int, start: float | None = None, clock: Callable[[], float],
                 settings: AimdSettings = AimdSettings()) -> None:
        if ceiling < 1:
            raise ValueError("the concurrency ceiling must be >= 1")
        self._settings = settings
        self._clock = clock
        self._t0 = clock()
        self.ceiling = ceiling
        self._value = float(min(ceiling, max(1.0, start if start is not None else ceiling)))
        self.start = self.limit
        self._quiet_until = -math.inf
        self.throttles = 0
        self.retry_after_seconds = 0.0
        self._series: list[tuple[float, int]] = [(0.0, self.limit)]
        self._since: float | None = None  # the first decrease: where the converged mean starts
        self._area = 0.0  # integral of the limit since `_since`
        self._last = self._t0

    @property
    def limit(self) -> int:
        return max(1, math.floor(self._value))

    def throttled(self, *, retry_after_wait: float | None = None) -> None:
        self.throttles += 1
        if retry_after_wait is not None:
            self.retry_after_seconds += retry_after_wait
        now = self._clock()
        if now < self._quiet_until:
            return
        self._advance(now)
        if self._since is None:
            self._since = now
        self._set(max(1.0, self._value * self._settings.decrease), now)
        self._quiet_until = now + max(self._settings.cooldown, retry_after_wait or 0.0)

    def healthy(self) -> None:
        now = self._clock()
        if now < self._quiet_until or self._value >= self.ceiling:
            return
        self._advance(now)
        self._set(min(float(self.ceiling), self._value + self._settings.increase / self._value), now)

    def converged(self) -> float | None:
        """The time-weighted mean limit since the first decrease (the middle of the sawtooth), or None."""
        if self._since is None:
            return None
        now = self._clock()
        self._advance(now)
        span = now - self._since
        return max(1.0, self._area / span) if span > 0 else max(1.0, self._value)

    def series(self) -> list[tuple[float, int]]:
        return list(self._series)

    def report(self, *, configured: int) -> ConcurrencyReport:
        converged = self.converged()
        return ConcurrencyReport(configured=configured, start=self.start, final=self.limit,
                                 converged=round(converged, 2) if converged is not None else None,
                                 series=tuple(self._series), throttled=self.throttles,
                                 retry_after_seconds=round(self.retry_after_seconds, 3))

    def _advance(self, now: float) -> None:
        if self._since is not None:
            self._area += self._value * (now - max(self._last, self._since))
        self._last = now

    def _set(self, value: float, now: float) -> None:
        before = self.limit
        self._value = value
        if self.limit != before:
            self._series.append((round(now - self._t0, 3), self.limit))
            if len(self._series) > self._settings.max_points:  # keep the first and last, thin the middle
                self._series = [*self._series[:-1:2], self._series[-1]]
