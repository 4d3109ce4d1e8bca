"""run.json's accepted exceptions read into frozen values for reporting: a query's `exceptions` block and the run's
`exceptions_unmatched`. Part of `load.py` (which validated the file against its schema); pure, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from runner.model.values import JSONObject, JSONValue


@dataclass(frozen=True, kw_only=True)
class AppliedException:
    """One exception as the run applied it (matched 0 for an unmatched one of the run)."""

    id: str
    query: str
    reason: str
    owner: str
    ticket: str | None
    expires: str  # YYYY-MM-DD, the last day it applies
    entity: str  # `id X` or `name = "x", ...`: what the file says it accepts
    matched: int
    sample: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ExceptionsFigures:
    active: tuple[AppliedException, ...]
    expired: tuple[AppliedException, ...]
    excepted_rows: int


def _obj(value: JSONValue) -> JSONObject:
    return value if isinstance(value, dict) else {}


def _list(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []


def _count(value: JSONValue) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _entity(value: JSONValue) -> str:
    entity = _obj(value)
    if "id" in entity:
        return f"id {entity['id']}"
    match = _obj(entity.get("match"))
    return ", ".join(f"{path} = {json.dumps(value, ensure_ascii=False)}" for path, value in match.items()) or "?"


def applied(value: JSONValue) -> AppliedException:
    data = _obj(value)
    ticket = data.get("ticket")
    return AppliedException(id=str(data.get("id", "")), query=str(data.get("query", "")),
                            reason=str(data.get("reason", "")), owner=str(data.get("owner", "")),
                            ticket=ticket if isinstance(ticket, str) else None, expires=str(data.get("expires", "")),
                            entity=_entity(data.get("entity")), matched=_count(data.get("matched")),
                            sample=tuple(str(s) for s in _list(data.get("sample"))))


def exceptions_figures(value: JSONValue) -> ExceptionsFigures | None:
    if not isinstance(value, dict):
        return None
    return ExceptionsFigures(active=tuple(applied(a) for a in _list(value.get("active"))),
                             expired=tuple(applied(a) for a in _list(value.get("expired"))),
                             excepted_rows=_count(value.get("excepted_rows")))


def unmatched(value: JSONValue) -> tuple[AppliedException, ...]:
    return tuple(applied(a) for a in _list(value))
