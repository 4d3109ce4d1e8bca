"""What the client tells an adaptive limit about the tenant's load: each throttled attempt (429, 503, or any reply
with `Retry-After`) and each answered request, by operation. A `Protocol` only; the engine's AIMD limit
(`execute/slots.py`) implements it. No I/O.
"""

from __future__ import annotations

from typing import Protocol

from runner.client.errors import TransientError

THROTTLE_STATUSES = frozenset({429, 503})


class ThrottleListener(Protocol):
    def throttled(self, operation: str, *, status: int | None, retry_after_wait: float | None) -> None:
        """One attempt was refused for load; `retry_after_wait` is the wait the server's `Retry-After` caused."""

    def answered(self, operation: str) -> None:
        """One request got an answer (a success, or a refusal that is not about load)."""


def is_throttle(error: TransientError) -> bool:
    return error.status in THROTTLE_STATUSES or error.retry_after is not None
