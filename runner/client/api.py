"""The Veza query API over httpx: submit, poll, page, check the connection, with retries chosen per operation.

Inputs: a frozen `ClientConfig` (URL, `Secret`, timeouts, limits, retry policy, the poll's `ApiProtocol`) and
optionally an injected httpx transport, random generator, clock and sleep. Outputs: frozen `Submitted`/`Page`
values, or the `ApiError` tree of `client/errors.py`. Does network I/O, one exchange at a time through
`client/exchange.py`, where httpx exceptions are translated (design.md §7, veza-api.md §2-§6).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import httpx

from runner import __version__
from runner.client import endpoints
from runner.client.budget import Budget
from runner.client.config import LOOPBACK, ClientConfig, checked_url, tls_context
from runner.client.errors import (
    ApiError,
    DeadlineExceeded,
    Delivery,
    ResponseError,
    TransientError,
)
from runner.client.exchange import Sender, exchange
from runner.client.pages import Page, Submitted, parse_page, parse_submitted
from runner.client.retry import RetryBudget, cached_resend_body, parse_http_date, poll_delays
from runner.client.throttle import ThrottleListener, is_throttle
from runner.model import JSONObject, JSONValue
from runner.model.protocol import JobState, Paging

if TYPE_CHECKING:  # aiohttp loads only with the client's own transport
    from runner.client.aio import DirectRoute

__all__ = ["ClientConfig", "JobState", "Page", "Submitted", "VezaClient"]

log = logging.getLogger("vqr.client")
T = TypeVar("T")

MAX_EMPTY_PAGES = 50  # consecutive empty pages tolerated before a result is taken to be looping


class VezaClient:
    """One connection pool to one tenant; use as `async with VezaClient(config) as client:`.

    `deadline` arguments are absolute times on `client.now()`'s clock (the query's or run's deadline); each
    operation is also capped by `config.retry.request_deadline`. Every retry spends from the shared `budget`.
    """

    def __init__(self, config: ClientConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 budget: RetryBudget | None = None, rng: random.Random | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 clock: Callable[[], float] | None = None, notify: Callable[[str], None] | None = None,
                 submit_budget: Budget | None = None, throttle: ThrottleListener | None = None) -> None:
        self.config = config
        self._submit_budget = submit_budget  # awaited before every create call (vqr.yaml api.budget); closed here
        self.throttle = throttle  # told of every throttled attempt and every answer (the engine's AIMD limit)
        self._notify = notify  # one line per retry of the connection check: what is being tried (stderr)
        self.budget = budget or RetryBudget()
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self._sleep = sleep or asyncio.sleep
        self.now = clock or time.monotonic
        base_url = checked_url(config.base_url)
        trust_env = config.use_env_proxies and httpx.URL(config.base_url).host not in LOOPBACK
        # One TLS context for every transport: building one loads the CA bundles, which costs milliseconds.
        verify = tls_context(config.ca_bundle) if config.ca_bundle else httpx.create_ssl_context(trust_env=trust_env)
        mounts: dict[str, httpx.AsyncBaseTransport] | None = None
        direct: Callable[[httpx.AsyncClient], DirectRoute] | None = None  # ours alone: aiohttp without httpx
        if transport is None:
            from runner.client.aio import mounted  # aiohttp loads only when a client really sends

            transport, mounts, direct = mounted(max_connections=config.max_connections, ssl_context=verify,
                                                trust_env=trust_env)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"authorization": f"Bearer {config.api_key.reveal()}", "user-agent": f"vqr/{__version__}",
                     "accept": "application/json"},
            timeout=httpx.Timeout(connect=config.connect_timeout, read=config.read_timeout,
                                  write=config.write_timeout, pool=config.pool_timeout),
            limits=httpx.Limits(max_connections=config.max_connections,
                                max_keepalive_connections=config.max_connections),
            verify=verify, follow_redirects=False, trust_env=trust_env, transport=transport, mounts=mounts)
        self.server_date: datetime | None = None  # the `Date` of the first successful reply: the tenant's clock
        self._sender = Sender(self._http, direct=direct(self._http) if direct else None, seen=self._note_date)

    def _note_date(self, headers: Mapping[str, str]) -> None:
        if self.server_date is None:
            self.server_date = parse_http_date(headers.get("date"))

    async def __aenter__(self) -> VezaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        try:
            await self._http.aclose()
        finally:
            if self._submit_budget is not None:
                await self._submit_budget.aclose()

    def job_state(self, status: str) -> JobState:
        return self.config.protocol.job_state(status)

    # --- operations ------------------------------------------------------------------------------------------------

    async def check_connection(self, *, deadline: float | None = None) -> None:
        """GET the SDK's connection-check path: raises `AuthError` for a refused key, `TransientError` if down.

        A refused connection on the first attempt fails at once: nothing listens at that address, which is a wrong
        URL far more often than a server restarting. Other failures are retried, each retry announced to `notify`.
        """
        attempts = 0

        async def attempt(timeout: float) -> None:
            nonlocal attempts
            attempts += 1
            try:
                await self._exchange("connection check", "GET", endpoints.CONNECTION_CHECK, None, timeout)
            except TransientError as error:
                if attempts == 1 and error.refused:
                    raise ApiError(f"cannot connect to {self.config.base_url}: connection refused (nothing listens "
                                   "there: check the environment's url or VEZA_URL)",
                                   operation="connection check") from None
                raise

        await self._retrying("connection check", attempt, deadline, announce=True)

    async def submit(self, body: Mapping[str, JSONValue], *, deadline: float | None = None) -> Submitted:
        """Create an async query from a create body (one of the three modes, veza-api.md §3).

        A failure that provably never reached the server is resent as is. One whose outcome is unknown is resent as
        `cached_result_if_available` over the same spec with `max_staleness` = whole seconds since the first attempt
        (at least the original's), so a job the lost attempt started is reused rather than run twice. A
        `cached_result_context` body is always resent as is (attaching twice costs nothing).
        """
        first_attempt = self.now()
        uncertain = False
        attempts = 0

        async def attempt(timeout: float) -> Submitted:
            nonlocal uncertain, attempts
            attempts += 1
            sent = cached_resend_body(body, self.now() - first_attempt) if uncertain else None
            if self._submit_budget is not None:  # every create call, resends too: each one costs the tenant
                await self._submit_budget.acquire()
            try:
                reply, request_id = await self._exchange("submit", "POST", endpoints.NODES_ASYNC_CREATE,
                                                         sent or dict(body), timeout)
            except TransientError as error:
                uncertain = uncertain or error.delivery is Delivery.UNKNOWN
                raise
            return parse_submitted(reply, request_id=request_id, attempts=attempts,
                                   mode=next(iter(sent or body), ""), resent_as_cached=sent is not None)

        return await self._retrying("submit", attempt, deadline)

    async def poll(self, query_result_id: str, *, page_size: int, page_token: str = "",
                   deadline: float | None = None) -> Page:
        """One read of an async query: its status and, once DONE, the page at `page_token`. Retries every
        transient failure (reads are free to repeat). Path and paging location are the protocol's (vqr.yaml `api:`)."""
        protocol = self.config.protocol
        paging = {"page_size": str(page_size), "page_token": page_token}
        in_query = protocol.poll_paging is Paging.QUERY
        body: JSONObject = {"query_result_id": query_result_id, **({} if in_query else paging)}

        async def attempt(timeout: float) -> Page:
            reply, request_id = await self._exchange("poll", "POST", protocol.poll_path, body, timeout,
                                                     params=paging if in_query else None)
            return parse_page(reply, request_id=request_id, state_of=self.job_state, synchronous=False)

        return await self._retrying("poll", attempt, deadline)

    async def wait_until_finished(self, query_result_id: str, *, page_size: int, deadline: float,
                                  rng: random.Random | None = None, first_wait: float | None = 0.0,
                                  asking: Callable[[float], None] | None = None) -> tuple[Page, int]:
        """Poll on the ladder until the job is DONE or failed: the first poll after `first_wait` (at once when 0, on
        the ladder's first step when None), jitter drawn from `rng`, else the client's. Returns that reply (when DONE,
        the first page) and how many polls it took. `asking` is told the clock as each poll is sent. Unknown statuses
        keep polling; `DeadlineExceeded` when `deadline` comes first, but never before one poll was sent."""
        # The ladder is kept on the clock from the first poll, not from each reply: slow replies must not stretch it
        # (under load, 4 polls' round trips used to add ~0.1 s to every 1 s job). A quarter of each step is always
        # waited, so a server whose replies are slower than the ladder is never polled back to back.
        started, at = self.now(), 0.0
        ladder = poll_delays(self.config.poll_ladder, rng if rng is not None else self._rng, first=first_wait)
        for polls, delay in enumerate(ladder, start=1):
            at += delay
            wait = max(started + at - self.now(), delay / 4)
            if wait > 0 and self.now() + wait > deadline:
                if polls > 1:
                    raise DeadlineExceeded(f"the job was still not finished after {polls - 1} polls", operation="poll")
                wait = max(0.0, (deadline - self.now()) / 2)  # too little time for the first step: ask once, halfway
            if wait > 0:
                log.debug("polling %s again in %.2fs", query_result_id, wait)
                await self._sleep(wait)
            if asking is not None:
                asking(self.now())
            page = await self.poll(query_result_id, page_size=page_size, deadline=deadline)
            if page.state is not JobState.RUNNING:
                return page, polls
        raise AssertionError("poll_delays never ends")  # pragma: no cover

    async def iter_pages(self, query_result_id: str, *, page_size: int, first: Page | None = None,
                         deadline: float | None = None) -> AsyncIterator[Page]:
        """Every page of a finished job, from `first` (the DONE poll reply) or from the start, until `has_more` is
        false. Empty pages are passed through, never taken as the end.

        Loop guard: a server may answer "nothing yet" with an empty page that hands back the same token, so only a
        token that comes back after rows were read from it (the rows would repeat), or more than
        `MAX_EMPTY_PAGES` empty pages in a row, is a `ResponseError`.
        """
        token = ""
        read_from: set[str] = set()
        empty_streak = 0
        page = first or await self.poll(query_result_id, page_size=page_size, deadline=deadline)
        while True:
            if page.state is not JobState.DONE:
                raise ResponseError(f"a page read of {query_result_id} came back with status {page.status!r}",
                                    operation="page read", request_id=page.request_id)
            yield page
            if not page.has_more:
                return
            if page.values or page.path_values:
                read_from.add(token)
                empty_streak = 0
            else:
                empty_streak += 1
            token = page.next_page_token
            if token in read_from:
                raise ResponseError(f"the server sent page token {token[:40]!r} of {query_result_id} again after "
                                    "its rows were read: stopping rather than repeating rows",
                                    operation="page read", request_id=page.request_id)
            if empty_streak > MAX_EMPTY_PAGES:
                raise ResponseError(f"{empty_streak} empty pages in a row for {query_result_id}",
                                    operation="page read", request_id=page.request_id)
            page = await self.poll(query_result_id, page_size=page_size, page_token=token, deadline=deadline)

    # --- retry loop and one exchange ---------------------------------------------------------------------------------

    async def _retrying(self, operation: str, attempt: Callable[[float], Awaitable[T]], deadline: float | None, *,
                        announce: bool = False) -> T:
        policy = self.config.retry
        limit = self.now() + policy.request_deadline
        if deadline is not None:
            limit = min(limit, deadline)
        failures = 0
        while True:
            remaining = limit - self.now()
            if remaining <= 0:
                raise DeadlineExceeded(f"no time left after {failures} failed attempts", operation=operation)
            try:
                result = await attempt(min(policy.attempt_timeout, remaining))
            except TransientError as error:
                failures += 1
                if failures >= policy.max_attempts:
                    raise _final(error, f"gave up after {failures} attempts") from error
                wait = policy.wait(failures, self._rng, error.retry_after)
                if self.throttle is not None and is_throttle(error):
                    self.throttle.throttled(operation, status=error.status,
                                            retry_after_wait=wait if error.retry_after is not None else None)
                if self.now() + wait >= limit:
                    raise DeadlineExceeded(f"{error.detail} (the deadline came while retrying, after {failures} "
                                           "failed attempts)", operation=operation, status=error.status,
                                           code=error.code, request_id=error.request_id,
                                           resolution=error.resolution) from error
                if not self.budget.try_spend():
                    raise _final(error, "the run's retry budget is exhausted") from error
                log.debug("%s failed (%s); retry %d in %.2fs", operation, error, failures, wait)
                if announce and self._notify is not None:
                    self._notify(f"cannot connect to {self.config.base_url} ({error.detail}), retrying (attempt "
                                 f"{failures + 1} of {policy.max_attempts}, next in {wait:.1f}s)")
                await self._sleep(wait)
                continue
            except ApiError:
                self._answered(operation)  # the API answered: it is up, the request was just refused
                raise
            self._answered(operation)
            return result

    def _answered(self, operation: str) -> None:
        self.budget.record_success()
        if self.throttle is not None:
            self.throttle.answered(operation)

    async def _exchange(self, operation: str, method: str, path: str, body: JSONObject | None, timeout: float, *,
                        params: Mapping[str, str] | None = None) -> tuple[JSONObject, str | None]:
        return await exchange(self._sender, operation, method, path, body, timeout, params=params,
                              max_reply_bytes=self.config.max_reply_bytes, secret=self.config.api_key)


def _final(error: TransientError, why: str) -> TransientError:
    """The last attempt's error, saying why there is no next one; every field of it kept, its `Retry-After` too: a
    `_retrying` that meets it from an inner one (saved-query creation's `_marked` lookup lists through its own)
    waits that long and tells the throttle listener, as for any throttled attempt."""
    return TransientError(f"{error.detail} ({why})", operation=error.operation, delivery=error.delivery,
                          retry_after=error.retry_after, status=error.status, code=error.code,
                          request_id=error.request_id, refused=error.refused, resolution=error.resolution)
