"""Accepted exceptions (issue 14): a known result row accepted for a reason, by an owner, until a date.

`ExceptionRule` is one entry of `exceptions/*.yaml`: which queries it covers (a name or glob), which entity (an id,
or a match on properties), and why. `rule.covers(query)` and `rule.matches(row)` are the one definition of what an
exception applies to: the run (expectations, drift), the reports and the OCSF export all call them. `active(on)`
says whether it still applies on a date. Its run.json form (`to_json`/`from_json`) lets a report re-apply it to the
rows without the repository. `ExceptionSettings` is vqr.yaml's `exceptions:`; `Excepted` (with a `RuleMatch` per
rule) is what the rules did to one query's result in a run. Pure, no I/O.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from runner.model.values import JSONObject, JSONValue

_ID_FIELDS = ("id",)  # an entity row's id; a path row's source and destination ids are under source/destination


@dataclass(frozen=True, kw_only=True)
class ExceptionRule:
    """One accepted exception. Exactly one of `entity_id` and `match` is set: `match` maps dotted property paths
    (`properties.email`, `name`) to the exact JSON value the row must hold there (all must hold)."""

    id: str  # stable: "<file>#<index>" (`exceptions/okta.yaml#2`), what reports and lint name it by
    query: str  # a query name or glob
    reason: str
    owner: str
    expires: date  # the last day it applies (inclusive)
    entity_id: str | None = None
    match: dict[str, JSONValue] = field(default_factory=dict)
    ticket: str | None = None
    file: str = ""  # relative to the project root
    line: int = 0

    def covers(self, query: str) -> bool:
        return fnmatch.fnmatchcase(query, self.query)

    def active(self, on: date) -> bool:
        """Applies through `expires` itself; from the next day on it is expired."""
        return on <= self.expires

    def matches(self, row: JSONValue) -> bool:
        """Whether a result row is this exception's entity: its `id` (or, for a path row, the source's or the
        destination's id) equals `entity_id`, or every `match` path holds its value."""
        if not isinstance(row, dict):
            return False
        if self.entity_id is not None:
            return self.entity_id in row_ids(row)
        return bool(self.match) and all(_same(_at(row, path), value) for path, value in self.match.items())

    def to_json(self) -> JSONObject:
        out: JSONObject = {"id": self.id, "query": self.query, "reason": self.reason, "owner": self.owner,
                           "expires": self.expires.isoformat(), "ticket": self.ticket, "file": self.file,
                           "line": self.line}
        if self.entity_id is not None:
            out["entity"] = {"id": self.entity_id}
        else:
            out["entity"] = {"match": dict(self.match)}
        return out

    @classmethod
    def from_json(cls, data: JSONObject) -> ExceptionRule:
        """The inverse of `to_json` (run.json); raises ValueError, KeyError or TypeError on a malformed entry."""
        entity = data["entity"]
        if not isinstance(entity, dict):
            raise TypeError("entity must be an object")
        ticket = data.get("ticket")
        match = entity.get("match")
        return cls(id=str(data["id"]), query=str(data["query"]), reason=str(data["reason"]),
                   owner=str(data["owner"]), expires=date.fromisoformat(str(data["expires"])),
                   entity_id=str(entity["id"]) if "id" in entity else None,
                   match=dict(match) if isinstance(match, dict) else {},
                   ticket=str(ticket) if ticket is not None else None, file=str(data.get("file", "")),
                   line=int(data.get("line", 0) or 0))  # type: ignore[arg-type]


def row_ids(row: JSONObject) -> set[str]:
    """The ids an `entity: {id}` exception may name in a row: its `id`, and a path row's two ends'."""
    ids = {str(row[key]) for key in _ID_FIELDS if key in row and row[key] is not None}
    for half in ("source", "destination"):
        inner = row.get(half)
        if isinstance(inner, dict) and inner.get("id") is not None:
            ids.add(str(inner["id"]))
    return ids


def _same(found: JSONValue, wanted: JSONValue) -> bool:
    """JSON equality: Python's `0 == False` must not accept a row whose flag is false for `match: {flag: 0}`."""
    if isinstance(found, bool) or isinstance(wanted, bool):
        return type(found) is type(wanted) and found == wanted
    return found == wanted


def _at(row: JSONObject, path: str) -> JSONValue:
    value: JSONValue = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


_MISSING: JSONValue = {"\0missing": True}  # never equal to a value a YAML file can hold


def applying(rules: Sequence[ExceptionRule], query: str, on: date) -> tuple[
        list[ExceptionRule], list[ExceptionRule]]:
    """(active, expired) rules that cover `query` on the run's date."""
    covering = [rule for rule in rules if rule.covers(query)]
    return [r for r in covering if r.active(on)], [r for r in covering if not r.active(on)]


DEFAULT_DIR = "exceptions"
DEFAULT_WARN_DAYS = 14


@dataclass(frozen=True, kw_only=True)
class ExceptionSettings:
    """vqr.yaml `exceptions:` (already checked against schemas/project.schema.json): where the files live, and how
    many days before `expires` lint starts to warn."""

    dir: str = DEFAULT_DIR
    warn_days: int = DEFAULT_WARN_DAYS

    @classmethod
    def from_section(cls, section: JSONObject) -> ExceptionSettings:
        folder, days = section.get("dir"), section.get("warn_days")
        return cls(dir=folder.rstrip("/") or DEFAULT_DIR if isinstance(folder, str) else DEFAULT_DIR,
                   warn_days=days if isinstance(days, int) and not isinstance(days, bool) else DEFAULT_WARN_DAYS)


@dataclass(frozen=True, kw_only=True)
class RuleMatch:
    """One exception as a query's run saw it: how many of the result's rows it matched, and a few of their names."""

    rule: ExceptionRule
    matched: int
    sample: tuple[str, ...] = ()  # entity names (else keys) of the first rows it matched

    def to_json(self) -> JSONObject:
        out = self.rule.to_json()
        out["matched"] = self.matched
        out["sample"] = list(self.sample)
        return out


@dataclass(frozen=True, kw_only=True)
class Excepted:
    """What the accepted exceptions did to one query's result (run.json per-query `exceptions`): the active rules
    covering it and the expired ones, with their matches; the rows the active ones accepted, and of the drift's
    added and removed entities those accepted (neither counts toward an expectation)."""

    active: tuple[RuleMatch, ...]
    expired: tuple[RuleMatch, ...]
    excepted_rows: int = 0
    excepted_added: int = 0
    excepted_removed: int = 0

    def to_json(self) -> JSONObject:
        return {"active": [m.to_json() for m in self.active], "expired": [m.to_json() for m in self.expired],
                "excepted_rows": self.excepted_rows, "excepted_added": self.excepted_added,
                "excepted_removed": self.excepted_removed}
