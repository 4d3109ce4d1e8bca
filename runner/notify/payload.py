"""The generic webhook's JSON payload (schemas/notification.schema.json, version 1) for one message's scope.

`Scope` is what one message covers (everyone, or one owner's queries, and the triggers that hold);
`webhook_payload(run, scope)` → a JSON object. Text from the API and query files passes `sanitize.terminal_line`
(controls visible, secrets redacted); `json.dumps` keeps the document valid. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.model import JSONObject, JSONValue
from runner.model.notify import Trigger
from runner.notify.facts import QueryFact, RunFacts
from runner.sanitize import terminal_line

SCHEMA_ID = "https://vqr.dev/schemas/notification.schema.json"
PAYLOAD_VERSION = 1
MAX_WEBHOOK_QUERIES = 500  # beyond this, `more_queries` counts the rest: a receiver's body limit is unknown


@dataclass(frozen=True, kw_only=True)
class Scope:
    owner: str | None  # the owner this message is for (per_owner), None for the queries without one or everyone
    per_owner: bool
    queries: tuple[QueryFact, ...]
    reasons: tuple[Trigger, ...]  # the conditions that hold (`always` only when nothing else does), `Trigger` order

    @property
    def notable(self) -> list[QueryFact]:
        """The queries worth a line: failures first, then the rest in run order."""
        picked = [q for q in self.queries if q.notable]
        return sorted(picked, key=lambda q: not q.failed)

    def count(self, what: str) -> int:
        if what == "failed":
            return sum(1 for q in self.queries if q.failed)
        if what == "new_rows":
            return sum(q.new_rows for q in self.queries)
        if what == "failed_expectations":
            return sum(len(q.failed_expectations) for q in self.queries)
        if what == "expired_exceptions":
            return sum(1 for q in self.queries for e in q.exceptions if e.expired)
        if what == "expiring_exceptions":
            return sum(1 for q in self.queries for e in q.exceptions if not e.expired)
        raise ValueError(what)

    @property
    def new_entities(self) -> int | None:
        known = [q.new_entities for q in self.queries if q.new_entities is not None]
        return sum(known) if known else None

    def title(self, run: RunFacts) -> str:
        """One line: `vqr run <id> (<env>): 2 failed, 5 new rows`, and the owner's name per owner."""
        parts = [f"run {run.status}"] if run.incomplete and not self.per_owner else []
        if self.count("failed"):
            parts.append(f"{self.count('failed')} failed")
        if self.count("new_rows") or self.new_entities:
            parts.append(f"{max(self.count('new_rows'), self.new_entities or 0)} new rows")
        expiring = self.count("expiring_exceptions") + self.count("expired_exceptions")
        if expiring:
            parts.append(f"{expiring} exception(s) expiring or expired")
        for_whom = f" for {self.owner}" if self.per_owner and self.owner else (
            " (queries without an owner)" if self.per_owner else "")
        return f"vqr run {run.run_id} ({run.env}){for_whom}: {', '.join(parts) or 'all queries passed'}"


def webhook_payload(run: RunFacts, scope: Scope) -> JSONObject:
    notable = scope.notable
    shown = notable[:MAX_WEBHOOK_QUERIES]
    return {
        "$schema": SCHEMA_ID, "version": PAYLOAD_VERSION, "event": "vqr.run.finished",
        "title": terminal_line(scope.title(run)),
        "reasons": [str(r) for r in scope.reasons],
        "audience": {"per_owner": scope.per_owner, "owner": _safe(scope.owner)},
        "run": {"run_id": terminal_line(run.run_id), "status": terminal_line(run.status), "exit_code": run.exit_code,
                "env": terminal_line(run.env), "target": terminal_line(run.target),
                "started_at": terminal_line(run.started_at), "finished_at": terminal_line(run.finished_at),
                "as_of": run.as_of.isoformat(), "vqr_version": terminal_line(run.vqr_version)},
        "summary": {"queries": len(scope.queries), "failed": scope.count("failed"),
                    "failed_expectations": scope.count("failed_expectations"), "new_rows": scope.count("new_rows"),
                    "new_entities": scope.new_entities, "expiring_exceptions": scope.count("expiring_exceptions"),
                    "expired_exceptions": scope.count("expired_exceptions")},
        "queries": [_query(q) for q in shown],
        "more_queries": len(notable) - len(shown),
    }


def _safe(text: str | None) -> str | None:
    return None if text is None else terminal_line(text)


def _query(query: QueryFact) -> JSONObject:
    failed: Sequence[JSONValue] = [{"metric": terminal_line(metric), "severity": terminal_line(severity),
                                    "message": terminal_line(message)}
                                   for metric, severity, message in query.failed_expectations]
    exceptions: Sequence[JSONValue] = [
        {"id": terminal_line(e.id), "owner": terminal_line(e.owner), "reason": terminal_line(e.reason),
         "expires": e.expires.isoformat(), "matched": e.matched, "expired": e.expired} for e in query.exceptions]
    return {"name": terminal_line(query.name), "owner": _safe(query.owner), "status": terminal_line(query.status),
            "failed": query.failed, "rows": query.rows, "error": _safe(query.error),
            "failed_expectations": list(failed), "new_rows": query.new_rows, "new_entities": query.new_entities,
            "exceptions": list(exceptions)}
