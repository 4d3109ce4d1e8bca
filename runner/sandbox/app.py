"""The sandbox's HTTP API: Veza's query-spec endpoints, saved queries and reports (`saved_routes`) plus
`/_sandbox/*` controls, as one ASGI application.

`build_app(config, graph=None)` returns the app (it generates the graph when none is given) and its `Jobs`; no
network I/O of its own. Layers, outermost first: request ids, faults, bearer auth, the rate limit (`limits`),
starlette routes. Every reply carries a `request_id` (body and `x-request-id` header); every refusal is Veza's
error body. Specs are put in protojson's normal form first, so `null`, `""`, `[]` and zero values mean "unset"
everywhere behind this layer.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runner.protojson import normalise
from runner.sandbox.config import SandboxConfig
from runner.sandbox.faults import ASGIApp, FaultMiddleware, FaultPlan, Receive, Scope, Send, faults_of
from runner.sandbox.generate import generate_graph
from runner.sandbox.graph import Graph
from runner.sandbox.jobs import Jobs
from runner.sandbox.limits import RateLimit, tenant_in
from runner.sandbox.replies import error_reply, json_body, reply
from runner.sandbox.saved import SavedObjects
from runner.sandbox.saved_builtin import builtin_queries
from runner.sandbox.saved_routes import SavedRoutes
from runner.sandbox.saved_store import FileSaved, MemorySaved
from runner.sandbox.schema_check import BodyChecker
from runner.sandbox.store import StateStore
from runner.sandbox.store_check import MAX_ADVANCE_DAYS
from runner.sandbox.wire import (
    ApiError,
    error_body,
    invalid_argument,
    new_request_id,
    normalised_create_body,
    normalize_enums,
    page_size_of,
    parse_create_body,
)

API = "/api/v1/assessments/query_spec"
# `query_spec:nodes` pages through its query string only (veza-api.md §5): body paging is dropped, with this warning.
BODY_PAGING_WARNING = ("{names} in the body of query_spec:nodes {verb} ignored: send page_size and page_token in the "
                       "query string")
# The SDK's connection check lists these; their content is [assumed] (any list satisfies the SDK).
TEMPLATES: list[dict[str, Any]] = [{"id": "application", "name": "application"},
                                   {"id": "identity_provider", "name": "identity_provider"}]


@dataclass(frozen=True, kw_only=True)
class SandboxApp:
    """The ASGI app to serve, and the executions service behind it (for embedding and tests)."""

    asgi: ASGIApp
    jobs: Jobs
    saved: SavedObjects


class _Routes:
    def __init__(self, jobs: Jobs, checker: BodyChecker, fault_plan: FaultPlan, saved: SavedObjects) -> None:
        self.jobs = jobs
        self.saved = saved
        self.checker = checker
        self.fault_plan = fault_plan
        self.on_reset: Callable[[], None] = lambda: None  # the rate limit's buckets, which wrap these routes

    async def create(self, request: Request) -> Response:
        body = normalised_create_body(await json_body(request))
        parse_create_body(body)  # the oneof first: its message is clearer than a schema's
        parsed = parse_create_body(self.checker.create_body(body))
        return reply(request, await self.jobs.create(parsed, fail=faults_of(request.scope).job_fail,
                                                      tenant=tenant_in(request.scope)))

    async def get(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise invalid_argument("body", "expected a JSON object")
        config = self.jobs.config
        size = page_size_of(body.get("page_size", request.query_params.get("page_size")),
                            default=config.default_page_size, maximum=config.max_page_size)
        page = await self.jobs.poll(body.get("query_result_id"), page_size=size,
                                     page_token=body.get("page_token") or request.query_params.get("page_token"),
                                     empty_page=faults_of(request.scope).empty_page)
        return reply(request, page)

    async def _spec(self, request: Request) -> dict[str, Any]:
        spec = normalize_enums(self.checker.spec(normalise(await json_body(request))))
        assert isinstance(spec, dict)
        return spec

    async def nodes(self, request: Request) -> Response:
        spec = await self._spec(request)
        config = self.jobs.config
        query = request.query_params
        in_body = [name for name in ("page_size", "page_token") if spec.pop(name, None) is not None]
        size = page_size_of(query.get("page_size"), default=config.default_page_size, maximum=config.max_page_size)
        page = await self.jobs.nodes(spec, page_size=size, page_token=query.get("page_token"),
                                      empty_page=faults_of(request.scope).empty_page)
        if in_body:
            page["warnings"].insert(0, BODY_PAGING_WARNING.format(names=" and ".join(in_body),
                                                                   verb="are" if len(in_body) > 1 else "is"))
        return reply(request, page)

    async def result(self, request: Request) -> Response:
        return reply(request, await self.jobs.count(await self._spec(request)))

    async def templates(self, request: Request) -> Response:
        return reply(request, {"values": TEMPLATES, "next_page_token": "", "has_more": False})

    async def stats(self, request: Request) -> Response:
        body = self.jobs.stats.snapshot()
        body["graph_version"] = self.jobs.graph.version
        body["queued_jobs"], body["queued_seconds"] = self.jobs.slots.queued, round(self.jobs.slots.waited, 3)
        return reply(request, body)

    async def reset(self, request: Request) -> Response:
        self.jobs.reset()
        self.saved.clear()  # a fresh tenant: no saved queries or reports either
        self.fault_plan.restart()
        self.on_reset()
        return reply(request, {"reset": True})

    async def advance(self, request: Request) -> Response:
        body = await json_body(request, optional=True)
        seed, fraction = (body.get("seed"), body.get("fraction")) if isinstance(body, dict) else (None, None)
        days = body.get("days", 1) if isinstance(body, dict) else 1
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_ADVANCE_DAYS:
            raise invalid_argument("days", f"expected an integer in [0, {MAX_ADVANCE_DAYS}]")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise invalid_argument("seed", "expected an integer")
        if fraction is not None and (not isinstance(fraction, int | float) or not 0 < fraction <= 1):
            raise invalid_argument("fraction", "expected a number in (0, 1]")
        return reply(request, await self.jobs.advance(seed=seed, fraction=fraction, days=days))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_reply(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "Unimplemented"}.get(exc.status_code, "InvalidArgument")
    return error_reply(request, ApiError(code, f"{request.method} {request.url.path}: {exc.detail}",
                                          status=exc.status_code))


async def _internal_error(request: Request, exc: Exception) -> Response:
    # A bug in the sandbox: the client gets Veza's 500 body, never a traceback.
    return error_reply(request, ApiError("Internal", f"internal error ({type(exc).__name__})"))


class _Auth:
    """Bearer auth on every path: any non-empty key, or exactly `api_key` when configured."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self._app = app
        self._key = api_key.encode() if api_key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._allowed(scope):
            error = ApiError("Unauthenticated", "missing or invalid API key (send Authorization: Bearer <key>)")
            request_id = str(scope.get("state", {}).get("request_id", ""))
            body = json.dumps(error_body(error, request_id)).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        header = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), b"")
        scheme, _, key = header.partition(b" ")
        key = key.strip()
        if scheme.lower() != b"bearer" or not key:
            return False
        return self._key is None or hmac.compare_digest(key, self._key)


class _Edge:
    """Outermost layer: a request id and the sandbox's `Date` (its simulated clock, `Jobs.wall_clock`) on every
    reply, and the connection's transport for injected resets."""

    def __init__(self, app: ASGIApp, clock: Callable[[], datetime]) -> None:
        self._app = app
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # uvicorn's `send` is a bound method of the request cycle, which holds the transport.
        state["transport"] = getattr(getattr(send, "__self__", None), "transport", None)
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                date = (b"date", format_datetime(self._clock(), usegmt=True).encode())
                message = {**message, "headers": [*message.get("headers", []), header, date]}
            await send(message)

        await self._app(scope, receive, send_with_id)


def build_app(config: SandboxConfig, *, graph: Graph | None = None) -> SandboxApp:
    """The sandbox as an ASGI app over `graph` (generated from `config.nodes`/`config.seed` when None)."""
    def regenerate() -> Graph:
        return generate_graph(nodes=config.nodes, seed=config.seed, now=config.epoch_datetime(),
                              oaa=config.oaa_type_names())

    # A graph handed in (tests) is the caller's to restore; a generated one is regenerated by `/_sandbox/reset`.
    store = None
    if config.state:
        store = StateStore(Path(config.state), config.graph_identity(), ttl=config.cache_ttl)
    jobs = Jobs(config=config, graph=graph or regenerate(), regenerate=None if graph is not None else regenerate,
                store=store)
    plan = FaultPlan(config)
    checker = BodyChecker(lenient=config.lenient)
    # Saved queries and reports belong to the tenant: beside the graphs in --state, not inside one graph's directory.
    saved = SavedObjects(FileSaved(Path(config.state)) if config.state else MemorySaved(), checker, jobs.wall_clock,
                         builtins=builtin_queries(config.builtin_queries, config.epoch_datetime()))
    saved.load()  # a damaged saved.json is set aside now, so `serve` can warn at start
    routes = _Routes(jobs, checker, plan, saved)
    starlette = Starlette(
        routes=[
            *SavedRoutes(saved, config).routes(),
            Route(f"{API}:nodes_async_create", routes.create, methods=["POST"]),
            Route(f"{API}:nodes_async_get", routes.get, methods=["POST"]),
            Route(f"{API}:nodes", routes.nodes, methods=["POST"]),
            Route(f"{API}:result", routes.result, methods=["POST"]),
            Route("/api/v1/providers/custom/templates", routes.templates, methods=["GET"]),
            Route("/_sandbox/stats", routes.stats, methods=["GET"]),
            Route("/_sandbox/reset", routes.reset, methods=["POST"]),
            Route("/_sandbox/advance", routes.advance, methods=["POST"]),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _internal_error},
    )
    limited = RateLimit(starlette, config=config, on_throttle=jobs.stats.throttled)
    routes.on_reset = limited.clear
    layered = FaultMiddleware(_Auth(limited, config.api_key), plan=plan, config=config, on_fault=jobs.stats.fault)
    return SandboxApp(asgi=_Edge(layered, jobs.wall_clock), jobs=jobs, saved=saved)
