"""Veza's saved queries and reports (veza-api.md §9) through the client's retries, reply caps and error mapping.

`SavedApi(client)` lists every saved query or report (all pages), finds saved queries by name, creates, replaces
(PUT, the full body) and deletes saved queries, creates reports and adds a query to one. Each call is one
`VezaClient._retrying` loop over `_exchange` (this module is part of the client: it uses them as `submit` does);
writes first take a token from vqr.yaml's `api.budget` when there is one, as every create call does.

A create is not idempotent: one whose outcome is unknown (the connection dropped after sending, a timeout, a 500)
is looked for by its marker label before it is sent again, and a create refused for a taken name is looked for the
same way (a lost attempt's own query, or a killed apply's create that landed after this apply listed the tenant).
Only a name held by a query without this marker is `NameTaken`. A delete of an id already
gone counts as done: an apply that is run again must not fail on its own earlier work. Network I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from runner.client import endpoints
from runner.client.api import VezaClient
from runner.client.errors import Delivery, InvalidRequest, NotFoundError, ResponseError, TransientError
from runner.model import JSONObject, JSONValue

PAGE_SIZE = 100  # [assumed] Veza's list maximum is unpublished; the SDK pages without a size
MAX_PAGES = 10_000  # a listing that never ends is a broken server, not a large tenant


class NameTaken(InvalidRequest):
    """The tenant refused a create or replace because another saved query holds the name."""


class SavedApi:
    def __init__(self, client: VezaClient) -> None:
        self._client = client

    # --- saved queries ---------------------------------------------------------------------------------------------

    async def list_queries(self) -> list[JSONObject]:
        """Every saved query as listed, built-ins (`query_type: SYSTEM_CREATED`) included: callers skip them."""
        return await self._list("list saved queries", endpoints.SAVED_QUERIES, {})

    async def find_queries(self, name: str) -> list[JSONObject]:
        """The saved queries named exactly `name`, by the list's `filter=name eq "..."`; a name the filter cannot
        quote (`"`, `'` or `\\`: §9 gives no escape [assumed]) is looked for in the whole listing instead."""
        if any(char in name for char in "\"'\\"):
            return [q for q in await self.list_queries() if q.get("name") == name]
        found = await self._list("find saved queries", endpoints.SAVED_QUERIES, {"filter": f'name eq "{name}"'})
        return [q for q in found if q.get("name") == name]  # [assumed] a filter may match case-insensitively

    async def create_query(self, body: Mapping[str, JSONValue], *, marker: str) -> JSONObject:
        """POST a saved query and return it as created (with its `id`); `marker` is the label that identifies it
        when an attempt's outcome is unknown, or when the name turns out taken (by this very query, landed late)."""
        operation = "create saved query"
        name = str(body.get("name", ""))
        uncertain = False

        async def attempt(timeout: float) -> JSONObject:
            nonlocal uncertain
            if uncertain and (landed := await self._marked(name, marker)) is not None:
                return landed
            await self._budgeted()
            try:
                reply, _ = await self._client._exchange(operation, "POST", endpoints.SAVED_QUERIES, dict(body),
                                                        timeout)
            except TransientError as error:
                uncertain = uncertain or error.delivery is Delivery.UNKNOWN
                raise
            except InvalidRequest as error:
                if not _name_refused(error):
                    raise
                if (landed := await self._marked(name, marker)) is not None:
                    # Ours: an attempt whose reply was lost, or a killed apply's create that landed after this
                    # apply listed the tenant. The marker names one query of one project: nobody else's.
                    return landed
                raise _taken(error) from None
            return _value(reply, operation)

        return await self._client._retrying(operation, attempt, None)

    async def update_query(self, saved_id: str, body: Mapping[str, JSONValue]) -> JSONObject:
        """PUT the whole body over saved query `saved_id` (a replace is idempotent: resent as is)."""
        operation = "update saved query"

        async def attempt(timeout: float) -> JSONObject:
            await self._budgeted()
            try:
                reply, _ = await self._client._exchange(operation, "PUT", _one(endpoints.SAVED_QUERIES, saved_id),
                                                        dict(body), timeout)
            except InvalidRequest as error:
                if _name_refused(error):
                    raise _taken(error) from None
                raise
            return _value(reply, operation)

        return await self._client._retrying(operation, attempt, None)

    async def delete_query(self, saved_id: str, *, force: bool = False) -> None:
        """DELETE saved query `saved_id` (`force`: even if a report uses it); one already gone is not an error."""
        operation = "delete saved query"

        async def attempt(timeout: float) -> None:
            await self._budgeted()
            try:
                await self._client._exchange(operation, "DELETE", _one(endpoints.SAVED_QUERIES, saved_id), None,
                                             timeout, params={"force": "true" if force else "false"})
            except NotFoundError:
                return  # deleted already: by an earlier attempt whose reply was lost, or by someone else

        await self._client._retrying(operation, attempt, None)

    # --- reports ---------------------------------------------------------------------------------------------------

    async def list_reports(self) -> list[JSONObject]:
        return await self._list("list reports", endpoints.REPORTS, {})

    async def create_report(self, name: str, description: str, query_ids: Sequence[str]) -> JSONObject:
        """POST a report holding `query_ids`. Not resent after an unknown outcome without looking first: a report
        named `name` that appeared meanwhile is the lost attempt's."""
        operation = "create report"
        uncertain = False
        body: JSONObject = {"name": name, "description": description,
                            "queries": [{"query": query_id} for query_id in query_ids]}

        async def attempt(timeout: float) -> JSONObject:
            nonlocal uncertain
            if uncertain:
                landed = [r for r in await self.list_reports() if r.get("name") == name]
                if landed:
                    return landed[0]
            await self._budgeted()
            try:
                reply, _ = await self._client._exchange(operation, "POST", endpoints.REPORTS, body, timeout)
            except TransientError as error:
                uncertain = uncertain or error.delivery is Delivery.UNKNOWN
                raise
            return _value(reply, operation)

        return await self._client._retrying(operation, attempt, None)

    async def add_report_query(self, report_id: str, query_id: str) -> None:
        """PUT `reports/{rid}/queries/{qid}` (no body): idempotent, a report holding the query already keeps it."""
        operation = "add a query to a report"

        async def attempt(timeout: float) -> None:
            await self._budgeted()
            await self._client._exchange(operation, "PUT",
                                         f"{_one(endpoints.REPORTS, report_id)}/queries/{_segment(query_id)}",
                                         None, timeout)

        await self._client._retrying(operation, attempt, None)

    # --- shared ----------------------------------------------------------------------------------------------------

    async def _list(self, operation: str, path: str, extra: Mapping[str, str]) -> list[JSONObject]:
        out: list[JSONObject] = []
        token = ""
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = {"page_size": str(PAGE_SIZE), **extra, **({"page_token": token} if token else {})}

            async def attempt(timeout: float, params: Mapping[str, str] = params) -> JSONObject:
                reply, _ = await self._client._exchange(operation, "GET", path, None, timeout, params=params)
                return reply

            reply = await self._client._retrying(operation, attempt, None)
            values = reply.get("values", [])
            if not isinstance(values, list):
                raise ResponseError("the listing's `values` is not a list", operation=operation)
            out += [value for value in values if isinstance(value, dict)]
            token = str(reply.get("next_page_token") or "")
            if not token or reply.get("has_more") is False:
                return out
            if token in seen:
                raise ResponseError("the listing's next_page_token repeats an earlier one", operation=operation)
            seen.add(token)
        raise ResponseError(f"the listing did not end after {MAX_PAGES} pages", operation=operation)

    async def _marked(self, name: str, marker: str) -> JSONObject | None:
        for saved in await self.find_queries(name):
            labels = saved.get("labels")
            if isinstance(labels, list) and marker in labels:
                return saved
        return None

    async def _budgeted(self) -> None:
        budget = self._client._submit_budget
        if budget is not None:  # every write call costs the tenant, as a submit does
            await budget.acquire()


def _taken(error: InvalidRequest) -> NameTaken:
    return NameTaken(error.detail, operation=error.operation, status=error.status, code=error.code,
                     request_id=error.request_id, field_violations=error.field_violations, resolution=error.resolution)


def _name_refused(error: InvalidRequest) -> bool:
    return any(violation.field == "name" for violation in error.field_violations)


def _value(reply: JSONObject, operation: str) -> JSONObject:
    value = reply.get("value")
    if not isinstance(value, dict) or not value.get("id"):
        raise ResponseError("the reply has no `value` object with an `id`", operation=operation)
    return value


def _one(path: str, object_id: str) -> str:
    return f"{path}/{_segment(object_id)}"


def _segment(object_id: str) -> str:
    return quote(object_id, safe="")  # an id from a listing is data: it stays one path segment whatever it holds
