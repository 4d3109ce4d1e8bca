"""The client's `ThrottleListener` hook: told of every throttled attempt (429, 503, a `Retry-After`) with the wait
the server asked for, and of every answer by operation; other failures are neither. And the first poll's wait."""

from __future__ import annotations

import asyncio
import itertools
import random

import httpx
import pytest

from runner.client.errors import InvalidRequest
from runner.client.retry import NEAR_STEP, PollLadder, poll_delays
from tests.unit.client.test_transport import CREATED, IMMEDIATE, FakeTime, Script, make_client, reply


class Heard:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None, float | None]] = []

    def throttled(self, operation: str, *, status: int | None, retry_after_wait: float | None) -> None:
        self.events.append(("throttled", operation, status, retry_after_wait))

    def answered(self, operation: str) -> None:
        self.events.append(("answered", operation, None, None))


def test_throttles_and_answers_reach_the_listener() -> None:
    script = Script(reply(429, {"code": "ResourceExhausted", "message": "slow down"}, **{"Retry-After": "3"}),
                    reply(503, {"code": "Unavailable", "message": "busy"}), httpx.ConnectError("refused"),
                    reply(200, CREATED))
    time, heard = FakeTime(), Heard()

    async def go() -> None:
        async with make_client(script, time) as client:
            client.throttle = heard
            await client.submit(IMMEDIATE)

    asyncio.run(go())
    kinds = [(kind, op, status) for kind, op, status, _ in heard.events]
    assert kinds == [("throttled", "submit", 429), ("throttled", "submit", 503), ("answered", "submit", None)]
    waited = heard.events[0][3]
    assert waited is not None and 3.0 <= waited <= 3.5 and waited == time.sleeps[0]  # Retry-After, plus jitter
    assert heard.events[1][3] is None  # a 503 without Retry-After: backoff, not a server-announced wait


def test_a_refusal_that_is_not_about_load_is_an_answer() -> None:
    script, time, heard = Script(reply(400, {"code": "InvalidArgument", "message": "bad"})), FakeTime(), Heard()

    async def go() -> None:
        async with make_client(script, time) as client:
            client.throttle = heard
            with pytest.raises(InvalidRequest):
                await client.submit(IMMEDIATE)

    asyncio.run(go())
    assert heard.events == [("answered", "submit", None, None)]


def test_the_first_poll_waits_the_given_time_then_the_ladder_follows() -> None:
    ladder = PollLadder(jitter=0.0)
    plain = list(itertools.islice(poll_delays(ladder, random.Random(3)), 4))
    assert plain == [0.0, 0.25, pytest.approx(0.35), pytest.approx(0.49)]
    # After a wait for the expected time: one poll an eighth of that wait later, then the ladder from its start.
    paced = list(itertools.islice(poll_delays(ladder, random.Random(3), first=1.7), 4))
    assert paced == [1.7, pytest.approx(1.7 * NEAR_STEP), 0.25, pytest.approx(0.35)]
    minute = list(itertools.islice(poll_delays(ladder, random.Random(3), first=60.0), 3))
    assert minute == [60.0, 7.5, 0.25]  # an eighth of a minute, beyond the ladder's 5 s cap: one poll, not two
    jittered = list(itertools.islice(poll_delays(PollLadder(), random.Random(3), first=1.7), 3))
    assert jittered[1] == pytest.approx(1.7 * NEAR_STEP) and 0.25 * 0.9 <= jittered[2] <= 0.25  # the near poll exact
    assert list(itertools.islice(poll_delays(ladder, first=0.0), 2)) == [0.0, 0.25]  # polled at once: no near poll
    assert next(poll_delays(PollLadder(), first=-1.0)) == 0.0
