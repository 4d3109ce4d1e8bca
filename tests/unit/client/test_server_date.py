"""The client keeps the `Date` of the tenant's first successful reply (the run's `as_of`), at the transport seam:
a failed reply's Date is not taken, a missing or garbled one leaves it unset (the run then uses the local clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from runner.client import ClientConfig, VezaClient
from runner.client.retry import RetryPolicy
from runner.secret import Secret
from tests.unit.client.test_transport import FakeTime, Script, reply


def checked(*steps: httpx.Response) -> datetime | None:
    time = FakeTime()
    config = ClientConfig(base_url="https://acme.vezacloud.com", api_key=Secret("k" * 32),
                          retry=RetryPolicy(base=0.01, cap=0.02, max_attempts=4))

    async def go() -> datetime | None:
        async with VezaClient(config, transport=httpx.MockTransport(Script(*steps)), sleep=time.sleep,
                              clock=time.clock) as client:
            await client.check_connection()
            return client.server_date
    return asyncio.run(go())


def test_the_first_successful_replys_date_is_kept() -> None:
    assert checked(reply(503, date="Mon, 01 Jan 2001 00:00:00 GMT"),
                   reply(200, date="Wed, 02 Dec 2026 07:00:00 GMT")) == datetime(2026, 12, 2, 7, tzinfo=UTC)


def test_no_date_or_a_garbled_one_is_none() -> None:
    assert checked(reply(200)) is None
    assert checked(reply(200, date="yesterday")) is None
