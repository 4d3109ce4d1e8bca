"""The batch's gate: at most `AimdLimit.limit` groups (each one submit and one job in flight) at a time, the limit
moving as the client reports throttles and answers (it is the client's `ThrottleListener`).

Only submits feed the additive increase: a submit is what the limit budgets, and polls, many per job, would make
it climb too fast. A throttle on any operation (the tenant's gateway counts every request) backs it off. A group
waiting for a slot is woken, oldest first, when one frees or the limit rises; a lower limit takes effect as groups
finish (nothing in flight is stopped). A group gives its slot back as soon as it is done with the tenant (its
pages read: `hold().release()`), not once its rows are assessed: the next group's submit then goes out while this
one's CSV, drift and lifecycle are worked out, instead of after. Event loop thread only.
"""

from __future__ import annotations

import asyncio
import collections
from types import TracebackType

from runner.execute.aimd import AimdLimit


class AdaptiveSlots:
    def __init__(self, limit: AimdLimit) -> None:
        self.aimd = limit
        self.in_flight = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    # --- runner.client.ThrottleListener ---------------------------------------------------------------------------

    def throttled(self, operation: str, *, status: int | None, retry_after_wait: float | None) -> None:
        self.aimd.throttled(retry_after_wait=retry_after_wait)

    def answered(self, operation: str) -> None:
        if operation == "submit":
            self.aimd.healthy()
            self._wake()

    # --- the gate -----------------------------------------------------------------------------------------------

    async def __aenter__(self) -> None:
        if self.in_flight < self.aimd.limit and not self._waiters:
            self.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the slot was counted for us by `_wake`
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # woken and cancelled at once: hand the slot on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._release()

    def hold(self) -> Held:
        return Held(self)

    def _release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.aimd.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


class Held:
    """One group's slot, given back by `release()` (once its tenant work is over) or when the block ends, once."""

    def __init__(self, slots: AdaptiveSlots) -> None:
        self._slots = slots
        self._held = False

    async def __aenter__(self) -> Held:
        await self._slots.__aenter__()
        self._held = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._release()
