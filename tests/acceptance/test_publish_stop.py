"""A tenant that stops answering in the middle of `vqr publish apply` (its key revoked, say) stops the apply with
the error: the calls after it are not sent, and the journal keeps the apply as interrupted with what was sent and
answered, which the next apply reports. Against the real sandbox over HTTP; the revocation is the only staged part,
at the transport seam (a real tenant cannot be told to revoke a key mid-test)."""

from __future__ import annotations

import asyncio
import io
import random
from pathlib import Path

import httpx
import pytest

from runner.app.apply_changes import execute
from runner.client.api import ClientConfig, VezaClient
from runner.client.errors import AuthError
from runner.client.retry import RetryBudget, RetryPolicy
from runner.client.saved import SavedApi
from runner.model import JSONObject
from runner.model.publish import PublishSettings
from runner.publish import make_plan
from runner.secret import Secret
from runner.state import open_journal
from tests.acceptance.sandbox_fixtures import running_sandbox, spec

KEY = "the-key"
SETTINGS = PublishSettings(project="acme")
FAST = RetryPolicy(base=0.01, cap=0.05, max_attempts=3, attempt_timeout=5.0, request_deadline=30.0)


class RevokedAfter(httpx.AsyncBaseTransport):
    """Real HTTP; after `writes` POSTs the key it sends is no longer the tenant's."""

    def __init__(self, writes: int) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._left = writes
        self.posts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            if self._left == 0:
                request.headers["authorization"] = "Bearer revoked"
            self._left = max(0, self._left - 1)
        return await self._real.handle_async_request(request)

    async def aclose(self) -> None:
        await self._real.aclose()


def test_a_tenant_that_stops_answering_stops_the_apply_and_the_journal_keeps_it(tmp_path: Path) -> None:
    bodies: dict[str, JSONObject] = {
        name: {"name": name, "description": "", "labels": [SETTINGS.marker(name)], **spec("OktaUser")}
        for name in ("q1", "q2", "q3", "q4")}
    plan = make_plan(bodies, [], SETTINGS, env="remote", prune=False)
    transport = RevokedAfter(writes=2)
    out, err = io.StringIO(), io.StringIO()
    with running_sandbox(nodes=200, api_key=KEY) as tenant, open_journal(tmp_path / "state.sqlite") as journal:
        async def main() -> None:
            config = ClientConfig(base_url=tenant.url, api_key=Secret(KEY), retry=FAST)
            async with VezaClient(config, transport=transport, budget=RetryBudget(capacity=100),
                                  rng=random.Random(1)) as client:
                await execute(SavedApi(client), journal.publish, plan, settings=SETTINGS, target="t", ids={},
                              digest="d", out=out, err=err)

        with pytest.raises(AuthError):
            asyncio.run(main())
        listed = httpx.get(f"{tenant.url}/api/v1/assessments/queries",
                           headers={"authorization": f"Bearer {KEY}"}).json()["values"]
        stopped = journal.publish.interrupted(env="remote", target="t", project="acme")
    assert sorted(q["name"] for q in listed) == ["q1", "q2"]
    assert transport.posts == 3  # q3 was refused, and q4 was never sent
    assert stopped is not None and stopped.plan_digest == "d"
    assert [(c.name, c.state) for c in stopped.calls] == [("q1", "done"), ("q2", "done"), ("q3", "sending")]
    assert "Applied" not in out.getvalue() and KEY not in out.getvalue() + err.getvalue()
