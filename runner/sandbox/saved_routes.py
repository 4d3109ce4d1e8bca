"""The HTTP face of saved queries and reports (veza-api.md §9), as starlette routes for `app.build_app`.

Queries under `/api/v1/assessments/queries`, reports under `/api/preview/assessments/reports`: list (GET, paged by
`page_size`/`page_token` in the query string, `filter=name eq "..."`), create (POST), read, replace and delete by id
(GET, PUT with the full body, DELETE with `?force=` for a query a report uses), and PUT
`reports/{rid}/queries/{qid}` (no body). Single objects come back as `{value: {...}}`, lists as
`{values, next_page_token, has_more}`, deletions as `{}`, each with the `request_id`. Reads request bodies; the
objects' I/O is `saved_store`'s.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runner.sandbox.config import SandboxConfig
from runner.sandbox.replies import json_body, reply
from runner.sandbox.saved import Kind, SavedObjects
from runner.sandbox.saved_check import flag, list_filter, object_id
from runner.sandbox.wire import PageTokens, page_size_of

QUERIES = "/api/v1/assessments/queries"
REPORTS = "/api/preview/assessments/reports"
# Query parameters that narrow Veza's lists to "active" objects (providers configured): every sandbox object is
# active [assumed], so they are read (a malformed value is a 400) and change nothing.
_INACTIVE_FLAGS = ("include_inactive_queries", "include_inactive_reports")


class SavedRoutes:
    """Handlers over one `SavedObjects`; `routes()` lists them for starlette."""

    def __init__(self, saved: SavedObjects, config: SandboxConfig) -> None:
        self.saved = saved
        self._config = config
        self._tokens = PageTokens()

    def _id(self, request: Request, kind: Kind, key: str = "id") -> str:
        return object_id(request.path_params[key], "saved query" if kind == "query" else "report")

    async def _list(self, request: Request, kind: Kind) -> Response:
        params = request.query_params
        for flag_name in _INACTIVE_FLAGS:
            flag(params.get(flag_name), flag_name)
        name = list_filter(params.get("filter"))
        size = page_size_of(params.get("page_size"), default=self._config.default_page_size,
                            maximum=self._config.max_page_size)
        # A token is bound to its list and filter: reused on another, it is refused, not misread.
        binding = f"{kind}s\n{name}"
        after = self._tokens.decode(params.get("page_token"), binding)
        page = self.saved.page(kind, name=name, after=after, size=size)
        token = self._tokens.encode(binding, page.last_seq) if page.has_more else ""
        return reply(request, {"values": page.values, "next_page_token": token, "has_more": page.has_more})

    async def _slow_write(self) -> None:
        # `--saved-latency`: a write is read whole, then stored and answered that long later, whether or not its
        # client is still there (as a server that got a request carries it out): a killed apply's last call lands.
        if self._config.saved_latency:
            await asyncio.sleep(self._config.saved_latency)

    async def _create(self, request: Request, kind: Kind) -> Response:
        body = await json_body(request)
        await self._slow_write()
        return reply(request, {"value": self.saved.create(kind, body)})

    async def _read(self, request: Request, kind: Kind) -> Response:
        if kind == "report":
            flag(request.query_params.get("include_inactive_queries"), "include_inactive_queries")
        return reply(request, {"value": self.saved.get(kind, self._id(request, kind))})

    async def _replace(self, request: Request, kind: Kind) -> Response:
        object_key, body = self._id(request, kind), await json_body(request)
        await self._slow_write()
        return reply(request, {"value": self.saved.replace(kind, object_key, body)})

    async def list_queries(self, request: Request) -> Response:
        return await self._list(request, "query")

    async def create_query(self, request: Request) -> Response:
        return await self._create(request, "query")

    async def get_query(self, request: Request) -> Response:
        return await self._read(request, "query")

    async def put_query(self, request: Request) -> Response:
        return await self._replace(request, "query")

    async def delete_query(self, request: Request) -> Response:
        query_id = self._id(request, "query")
        await self._slow_write()
        self.saved.delete_query(query_id, force=flag(request.query_params.get("force"), "force"))
        return reply(request, {})

    async def list_reports(self, request: Request) -> Response:
        return await self._list(request, "report")

    async def create_report(self, request: Request) -> Response:
        return await self._create(request, "report")

    async def get_report(self, request: Request) -> Response:
        return await self._read(request, "report")

    async def put_report(self, request: Request) -> Response:
        return await self._replace(request, "report")

    async def delete_report(self, request: Request) -> Response:
        await self._slow_write()
        self.saved.delete_report(self._id(request, "report"))
        return reply(request, {})

    async def add_query(self, request: Request) -> Response:
        report_id, query_id = self._id(request, "report", "rid"), self._id(request, "query", "qid")
        await json_body(request, optional=True)  # the SDK sends none; a body, if any, must still be JSON
        await self._slow_write()
        return reply(request, {"value": self.saved.add_query(report_id, query_id)})

    def routes(self) -> list[Route]:
        return [
            Route(QUERIES, self.list_queries, methods=["GET"]),
            Route(QUERIES, self.create_query, methods=["POST"]),
            Route(f"{QUERIES}/{{id}}", self.get_query, methods=["GET"]),
            Route(f"{QUERIES}/{{id}}", self.put_query, methods=["PUT"]),
            Route(f"{QUERIES}/{{id}}", self.delete_query, methods=["DELETE"]),
            Route(REPORTS, self.list_reports, methods=["GET"]),
            Route(REPORTS, self.create_report, methods=["POST"]),
            Route(f"{REPORTS}/{{id}}", self.get_report, methods=["GET"]),
            Route(f"{REPORTS}/{{id}}", self.put_report, methods=["PUT"]),
            Route(f"{REPORTS}/{{id}}", self.delete_report, methods=["DELETE"]),
            Route(f"{REPORTS}/{{rid}}/queries/{{qid}}", self.add_query, methods=["PUT"]),
        ]

