"""`client/saved.py` against the real sandbox over HTTP: every page of a listing, the name filter (and the names it
cannot quote), create / replace / delete with Veza's refusals, reports, and the one unsafe call: a create whose reply
is lost after the tenant stored it must not be sent again as a second query. The lost reply is the only staged
part: a transport that forwards the request for real and then drops the answer."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from runner.client.api import ClientConfig, VezaClient
from runner.client.budget import Budget, LocalBudget
from runner.client.errors import NotFoundError
from runner.client.retry import RetryBudget, RetryPolicy
from runner.client.saved import PAGE_SIZE, NameTaken, SavedApi
from runner.model import JSONObject
from runner.rates import Gcra
from runner.sandbox.server import EmbeddedSandbox
from runner.secret import Secret
from tests.acceptance.sandbox_fixtures import running_sandbox, spec

FAST = RetryPolicy(base=0.01, cap=0.05, max_attempts=5, attempt_timeout=5.0, request_deadline=30.0)
MARKER = "vqr:acme/"


class LoseReplies(httpx.AsyncBaseTransport):
    """Real HTTP, except that the first `lose` requests matching `method` are answered by a reset after the server
    has handled them: what a dropped connection after sending looks like to the client."""

    def __init__(self, method: str, lose: int, path: str = "") -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._method = method
        self._path = path  # only requests whose path ends so (all, when empty)
        self.lost = lose
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        response = await self._real.handle_async_request(request)
        if request.method == self._method and request.url.path.endswith(self._path) and self.lost > 0:
            await response.aread()
            self.lost -= 1
            raise httpx.ReadError("connection reset by peer")
        return response

    async def aclose(self) -> None:
        await self._real.aclose()


@pytest.fixture(scope="module")
def tenant() -> Iterator[EmbeddedSandbox]:
    with running_sandbox(nodes=200, builtin_queries=2) as sandbox:
        yield sandbox


def body(name: str, **extra: Any) -> JSONObject:
    return {"name": name, "description": "", "labels": [f"{MARKER}{name}"], **spec("OktaUser"), **extra}


def with_api(tenant: EmbeddedSandbox, work: Callable[[SavedApi], Awaitable[Any]],
             transport: httpx.AsyncBaseTransport | None = None, budget: Budget | None = None) -> Any:
    async def main() -> Any:
        config = ClientConfig(base_url=tenant.url, api_key=Secret("k"), retry=FAST)
        async with VezaClient(config, transport=transport, budget=RetryBudget(capacity=100),
                              rng=random.Random(1), submit_budget=budget) as client:
            return await work(SavedApi(client))

    return asyncio.run(main())


def names(saved: list[JSONObject]) -> list[str]:
    return sorted(str(q["name"]) for q in saved if q.get("query_type") != "SYSTEM_CREATED")


def test_a_listing_reads_every_page_and_a_name_is_found_exactly(tenant: EmbeddedSandbox) -> None:
    wanted = [f"paged-{i:03d}" for i in range(PAGE_SIZE + 5)]

    async def work(api: SavedApi) -> tuple[list[JSONObject], list[JSONObject], list[JSONObject]]:
        for name in wanted:
            await api.create_query(body(name), marker=f"{MARKER}{name}")
        return await api.list_queries(), await api.find_queries("paged-007"), await api.find_queries("paged-")

    listed, found, none = with_api(tenant, work)
    assert [n for n in names(listed) if n.startswith("paged-")] == wanted  # past the first page of 100
    assert sum(q.get("query_type") == "SYSTEM_CREATED" for q in listed) == 2  # built-ins are listed too
    assert [q["name"] for q in found] == ["paged-007"] and none == []


def test_a_name_the_filter_cannot_quote_is_looked_for_in_the_listing(tenant: EmbeddedSandbox) -> None:
    name = 'say "hi" it\'s \\ odd'

    async def work(api: SavedApi) -> list[JSONObject]:
        await api.create_query(body(name), marker=f"{MARKER}{name}")
        return await api.find_queries(name)

    assert [q["name"] for q in with_api(tenant, work)] == [name]


def test_create_replace_and_delete_with_the_tenants_refusals(tenant: EmbeddedSandbox) -> None:
    async def work(api: SavedApi) -> None:
        created = await api.create_query(body("crud"), marker=f"{MARKER}crud")
        # The name is taken by this very query (a killed apply's create that landed late): found, not made twice.
        again = await api.create_query(body("crud"), marker=f"{MARKER}crud")
        assert again["id"] == created["id"] and len(await api.find_queries("crud")) == 1
        await api.create_query(body("theirs", labels=["vqr:other/theirs"]), marker="vqr:other/theirs")
        with pytest.raises(NameTaken, match="already exists"):  # taken by a query without this marker
            await api.create_query(body("theirs"), marker=f"{MARKER}theirs")
        replaced = await api.update_query(str(created["id"]), {**body("crud"), "description": "new"})
        assert replaced["id"] == created["id"] and replaced["description"] == "new"
        other = await api.create_query(body("crud-2"), marker=f"{MARKER}crud-2")
        with pytest.raises(NameTaken):
            await api.update_query(str(other["id"]), body("crud"))
        await api.delete_query(str(created["id"]))
        await api.delete_query(str(created["id"]))  # gone already: done, not an error
        with pytest.raises(NotFoundError):
            await api.update_query(str(created["id"]), body("crud"))
        assert await api.find_queries("crud") == []

    with_api(tenant, work)


def test_a_report_is_created_with_its_queries_and_a_query_added_once(tenant: EmbeddedSandbox) -> None:
    async def work(api: SavedApi) -> list[JSONObject]:
        first = await api.create_query(body("in-report-1"), marker=f"{MARKER}in-report-1")
        second = await api.create_query(body("in-report-2"), marker=f"{MARKER}in-report-2")
        report = await api.create_report("Nightly", "the nightly's queries", [str(first["id"])])
        await api.add_report_query(str(report["id"]), str(second["id"]))
        await api.add_report_query(str(report["id"]), str(second["id"]))
        return await api.list_reports()

    [report] = [r for r in with_api(tenant, work) if r["name"] == "Nightly"]
    assert len(report["queries"]) == 2 and report["description"] == "the nightly's queries"


def test_a_create_whose_reply_is_lost_is_found_by_its_marker_not_sent_twice(tenant: EmbeddedSandbox) -> None:
    transport = LoseReplies("POST", lose=1)

    async def work(api: SavedApi) -> tuple[JSONObject, list[JSONObject]]:
        created = await api.create_query(body("lost-reply"), marker=f"{MARKER}lost-reply")
        return created, await api.find_queries("lost-reply")

    created, found = with_api(tenant, work, transport)
    assert [q["id"] for q in found] == [created["id"]]  # one query, and the one returned
    assert transport.sent.count("POST /api/v1/assessments/queries") == 1  # looked up, not sent again


def test_after_a_lost_reply_a_taken_name_without_the_marker_is_still_a_clash(tenant: EmbeddedSandbox) -> None:
    # The same loss, but an unmanaged query holds the name: the lookups find no marker, so it is not ours.
    async def seed(api: SavedApi) -> None:
        await api.create_query({**body("held"), "labels": ["theirs"]}, marker="unused")

    with_api(tenant, seed)
    transport = LoseReplies("POST", lose=1)

    async def work(api: SavedApi) -> None:
        await api.create_query(body("held"), marker=f"{MARKER}held")

    with pytest.raises(NameTaken):
        with_api(tenant, work, transport)


def test_a_report_create_whose_reply_is_lost_is_found_by_its_name_not_sent_twice(tenant: EmbeddedSandbox) -> None:
    transport = LoseReplies("POST", lose=1, path="/reports")

    async def work(api: SavedApi) -> tuple[JSONObject, list[JSONObject]]:
        query = await api.create_query(body("in-lost-report"), marker=f"{MARKER}in-lost-report")
        created = await api.create_report("Lost reply", "d", [str(query["id"])])
        return created, [r for r in await api.list_reports() if r["name"] == "Lost reply"]

    created, found = with_api(tenant, work, transport)
    assert [r["id"] for r in found] == [created["id"]] and transport.lost == 0
    assert transport.sent.count("POST /api/preview/assessments/reports") == 1


def test_every_write_waits_for_a_token_of_the_api_budget(tenant: EmbeddedSandbox) -> None:
    """`api.budget` paces writes as it paces submits: with a clock that stands still and a burst of one, each write
    after the first waits one interval more (the real GCRA; only its clock and sleep are staged)."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    budget = LocalBudget(Gcra(rate=10.0), clock=lambda: 100.0, sleep=sleep)

    async def work(api: SavedApi) -> None:
        created = await api.create_query(body("paced"), marker=f"{MARKER}paced")
        await api.update_query(str(created["id"]), {**body("paced"), "description": "again"})
        report = await api.create_report("Paced", "", [str(created["id"])])
        await api.add_report_query(str(report["id"]), str(created["id"]))
        await api.delete_query(str(created["id"]), force=True)
        await api.list_queries()  # reads take none

    with_api(tenant, work, budget=budget)
    assert slept == pytest.approx([0.1, 0.2, 0.3, 0.4])
