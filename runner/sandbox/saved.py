"""The sandbox's saved queries and reports (veza-api.md §9): create, list, read, replace, delete, and a query added
to a report, each one session of the backend (`saved_store`), so a refused request changes nothing.

`SavedObjects(backend, checker, clock)`: bodies are checked by `saved_check`; names are unique per kind; ids are
UUIDs; `created_at`/`updated_at` come from the sandbox's clock (`Jobs.wall_clock`), RFC 3339 in UTC, `updated_at`
strictly later at every change (a built-in "unedited" test compares the two [VZ]). `builtins` (`saved_builtin`) are
in every fresh tenant: editable, never deleted. Values returned are the API's (`Saved.value`). No I/O of its own.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from runner.sandbox.saved_check import TAKEN_NAME_CODE, query_body, refused, report_body
from runner.sandbox.saved_store import Saved, SavedState
from runner.sandbox.schema_check import BodyChecker
from runner.sandbox.wire import ApiError

Kind = Literal["query", "report"]
_WORDS = {"query": "saved query", "report": "report"}
_PLURALS = {"query": "saved queries", "report": "reports"}


class Backend(Protocol):
    warning: str | None

    def session(self) -> Any: ...  # a context manager yielding the SavedState

    def clear(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Page:
    values: list[dict[str, Any]]
    last_seq: int  # the seq of the last value (the next page starts after it)
    has_more: bool


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_builtin(query: Saved) -> bool:
    return query.body.get("query_type") == "SYSTEM_CREATED"


def not_found(kind: Kind, object_id: str) -> ApiError:
    return ApiError("NotFound", f"no {_WORDS[kind]} has the id {object_id}",
                    resolution=f"List the {_PLURALS[kind]} to find its id; it may have been deleted.")


class SavedObjects:
    """The saved-query and report operations over one backend."""

    def __init__(self, backend: Backend, checker: BodyChecker, clock: Callable[[], datetime], *,
                 builtins: Sequence[Saved] = ()) -> None:
        self.backend = backend
        self._checker = checker
        self._clock = clock
        self._builtins = tuple(builtins)

    @contextlib.contextmanager
    def _session(self) -> Iterator[SavedState]:
        """A backend session on a tenant that holds its built-ins: a store never written to (or just reset) gets
        them first."""
        with self.backend.session() as state:
            if state.seq == 0 and self._builtins:
                for builtin in self._builtins:
                    state.queries[builtin.id] = copy.deepcopy(builtin)
                state.seq, state.changed = len(self._builtins), True
            yield state

    def _now(self, after: str | None = None) -> str:
        moment = self._clock()
        if after is not None:
            previous = datetime.fromisoformat(after)
            if moment <= previous:
                moment = previous + timedelta(microseconds=1)
        return _stamp(moment)

    @staticmethod
    def _table(state: SavedState, kind: Kind) -> dict[str, Saved]:
        return state.queries if kind == "query" else state.reports

    def _get(self, state: SavedState, kind: Kind, object_id: str) -> Saved:
        found = self._table(state, kind).get(object_id)
        if found is None:
            raise not_found(kind, object_id)
        return found

    def _check_name_free(self, state: SavedState, kind: Kind, name: str, own_id: str | None) -> None:
        for other in self._table(state, kind).values():
            if other.body.get("name") == name and other.id != own_id:
                raise refused([("name", f"a {_WORDS[kind]} named {name!r} already exists (id {other.id})")],
                              code=TAKEN_NAME_CODE)

    def _body(self, state: SavedState, kind: Kind, body: Any, *, builtin: bool = False) -> dict[str, Any]:
        if kind == "query":
            return query_body(body, self._checker, builtin=builtin)
        return report_body(body, lenient=self._checker.lenient, is_query=lambda qid: qid in state.queries)

    def create(self, kind: Kind, body: Any) -> dict[str, Any]:
        with self._session() as state:
            stored = self._body(state, kind, body)
            self._check_name_free(state, kind, stored["name"], None)
            now = self._now()
            created = Saved(id=str(uuid.uuid4()), seq=state.next_seq(), body=stored, created_at=now, updated_at=now)
            self._table(state, kind)[created.id] = created
            return created.value()

    def replace(self, kind: Kind, object_id: str, body: Any) -> dict[str, Any]:
        """PUT: the full body replaces every writable field; an `id` in the body must be the path's [assumed]."""
        with self._session() as state:
            current = self._get(state, kind, object_id)
            if isinstance(body, dict) and body.get("id") not in (None, "", object_id):
                raise refused([("id", f"the body names {body['id']!r}, the path {object_id}")])
            stored = self._body(state, kind, body, builtin=_is_builtin(current))
            self._check_name_free(state, kind, stored["name"], object_id)
            current.body, current.updated_at = stored, self._now(after=current.updated_at)
            state.changed = True
            return current.value()

    def get(self, kind: Kind, object_id: str) -> dict[str, Any]:
        with self._session() as state:
            return self._get(state, kind, object_id).value()

    def page(self, kind: Kind, *, name: str | None, after: int, size: int) -> Page:
        """Objects in creation order after seq `after`, those named `name` only when given."""
        with self._session() as state:
            matching = sorted((o for o in self._table(state, kind).values()
                               if o.seq > after and (name is None or o.body.get("name") == name)),
                              key=lambda o: o.seq)
            chosen = matching[:size]
            return Page(values=[o.value() for o in chosen], last_seq=chosen[-1].seq if chosen else after,
                        has_more=len(matching) > size)

    def delete_query(self, object_id: str, *, force: bool) -> None:
        """Delete a saved query; one that a report holds only with `force`, which removes it from those reports."""
        with self._session() as state:
            if _is_builtin(self._get(state, "query", object_id)):
                # [assumed] Veza's own queries cannot be deleted, only edited.
                raise ApiError("PermissionDenied", f"saved query {object_id} is one of Veza's built-in queries",
                               resolution="Built-in queries cannot be deleted; leave it, or edit it.")
            holders = [report for report in state.reports.values()
                       if any(entry.get("query") == object_id for entry in report.body.get("queries") or [])]
            if holders and not force:
                names = ", ".join(repr(report.body.get("name")) for report in holders[:5])
                # [assumed] FailedPrecondition (400): the request is valid, the tenant's state refuses it.
                raise ApiError("FailedPrecondition",
                               f"saved query {object_id} is used by {len(holders)} report(s): {names}",
                               resolution="Remove the query from those reports first, or delete it with "
                                          "force=true, which also removes it from them.")
            for report in holders:
                report.body["queries"] = [entry for entry in report.body["queries"]
                                          if entry.get("query") != object_id]
                report.updated_at = self._now(after=report.updated_at)
            del state.queries[object_id]
            state.changed = True

    def delete_report(self, object_id: str) -> None:
        """Delete a report; its queries stay."""
        with self._session() as state:
            self._get(state, "report", object_id)
            del state.reports[object_id]
            state.changed = True

    def add_query(self, report_id: str, query_id: str) -> dict[str, Any]:
        """PUT reports/{rid}/queries/{qid}: append the query unless the report holds it already [assumed: no
        error then, so the SDK's call is idempotent]."""
        with self._session() as state:
            report = self._get(state, "report", report_id)
            self._get(state, "query", query_id)
            entries = list(report.body.get("queries") or [])
            if not any(entry.get("query") == query_id for entry in entries):
                report.body["queries"] = [*entries, {"query": query_id}]
                report.updated_at = self._now(after=report.updated_at)
                state.changed = True
            return report.value()

    def load(self) -> None:
        """Read the backend once (its `warning` is then set if it was damaged); a file that cannot be read at all
        is left to the first request, which answers 500 as any broken storage would."""
        with contextlib.suppress(OSError), self._session():
            pass

    def clear(self) -> None:
        self.backend.clear()
