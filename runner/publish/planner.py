"""The publish plan: what `vqr publish apply` would do to make the tenant's saved queries the repository's.

`make_plan(desired, listed, settings, prune=)` compares the desired bodies (`state.desired_bodies`) with every saved
query listed from the tenant and returns a `PublishPlan` of `Change`s: create, update (the repository changed),
drift (a managed query edited in the UI, changed back), delete (a managed query whose file is gone; only with
`prune`, else `orphan`, left alone), clash (an unmanaged query holding a desired name: reported, never touched) and
noop. `tenant_hash(listed)` fingerprints the listing, so a plan file is refused once the tenant changed. Pure.

Managed means carrying a label `vqr:<project>/<query name>` [assumed: labels may hold `:` and `/`, and a query
name may hold `/`: everything after the project's prefix is the name]. Drift needs no local state: apply writes
`vqr-sha:<hash of the managed fields as applied>`, and a listed query whose fields no longer hash to its label was
edited since.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from runner.model import JSONObject, JSONValue
from runner.model.impact import MISSING, Missing
from runner.model.publish import PublishSettings
from runner.publish.reports import DesiredReport, ReportAction, ReportChange, plan_reports
from runner.publish.state import canonical, managed_fields, recorded_hash, same, state_hash, with_hash

BUILTIN = "SYSTEM_CREATED"  # Veza's own queries: never listed as anybody's (the SDK skips them too)


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DRIFT = "drift"
    DELETE = "delete"
    ORPHAN = "orphan"
    CLASH = "clash"
    NOOP = "noop"


CHANGING = frozenset({Action.CREATE, Action.UPDATE, Action.DRIFT, Action.DELETE})


@dataclass(frozen=True, kw_only=True)
class Change:
    action: Action
    name: str  # the query's name in the repository (for a delete or orphan: the name its marker holds)
    saved_id: str | None = None  # the tenant's id (None for a create)
    body: JSONObject | None = None  # what create or update sends, the vqr-sha label included
    diff: tuple[tuple[str, JSONValue | Missing, JSONValue | Missing], ...] = ()  # (path, tenant's, repository's)

    def to_json(self) -> JSONObject:
        return {"action": self.action.value, "name": self.name, "id": self.saved_id, "body": self.body,
                "diff": [{"path": p, **({} if o is MISSING else {"old": o}), **({} if n is MISSING else {"new": n})}
                         for p, o, n in self.diff]}


@dataclass(frozen=True, kw_only=True)
class PublishPlan:
    project: str
    env: str
    prune: bool
    tenant: str  # `tenant_hash` of the listing the plan was made from
    changes: tuple[Change, ...] = field(default_factory=tuple)
    reports: tuple[ReportChange, ...] = field(default_factory=tuple)  # vqr.yaml publish.reports (`with_reports`)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action in CHANGING)

    @property
    def pending_reports(self) -> tuple[ReportChange, ...]:
        return tuple(r for r in self.reports if r.action in (ReportAction.CREATE, ReportAction.ADD))

    @property
    def calls(self) -> int:
        """The changes apply would make (each query change one call; a report, one or one per added query)."""
        return len(self.pending) + len(self.pending_reports)


def with_reports(plan: PublishPlan, desired: Sequence[DesiredReport], listed: Sequence[Mapping[str, JSONValue]],
                 reports: Sequence[Mapping[str, JSONValue]], settings: PublishSettings) -> PublishPlan:
    """`plan` with its report changes, and a tenant fingerprint that covers the reports as listed too."""
    ids, marker = managed_ids(listed, settings.marker_prefix), settings.marker
    return PublishPlan(project=plan.project, env=plan.env, prune=plan.prune,
                       tenant=tenant_hash([*listed, *reports]), changes=plan.changes,
                       reports=tuple(plan_reports(desired, reports, ids, creating={
                           c.name for c in plan.changes if c.action is Action.CREATE}, marker=marker)))


def managed_ids(listed: Sequence[Mapping[str, JSONValue]], prefix: str) -> dict[str, str]:
    """The tenant's id of each managed saved query, by the query name its marker holds."""
    out: dict[str, str] = {}
    for saved in listed:
        name = marker_name(saved, prefix)
        if name is not None and saved.get("query_type") != BUILTIN:
            out.setdefault(name, _id(saved))
    return out


def tenant_hash(listed: Sequence[Mapping[str, JSONValue]]) -> str:
    """A fingerprint of every non-built-in saved query as listed (server fields included: an edit moves
    `updated_at`), independent of the listing's order."""
    kept = sorted((dict(q) for q in listed if q.get("query_type") != BUILTIN), key=lambda q: str(q.get("id")))
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def marker_name(saved: Mapping[str, JSONValue], prefix: str) -> str | None:
    labels = saved.get("labels")
    for label in labels if isinstance(labels, list) else []:
        if isinstance(label, str) and label.startswith(prefix) and len(label) > len(prefix):
            return label[len(prefix):]
    return None


def make_plan(desired: Mapping[str, JSONObject], listed: Sequence[Mapping[str, JSONValue]],
              settings: PublishSettings, *, env: str, prune: bool) -> PublishPlan:
    assert settings.project is not None
    prefix = settings.marker_prefix
    managed: dict[str, list[Mapping[str, JSONValue]]] = {}
    unmanaged: dict[str, Mapping[str, JSONValue]] = {}
    for saved in listed:
        if saved.get("query_type") == BUILTIN:
            continue
        name = marker_name(saved, prefix)
        if name is not None:
            managed.setdefault(name, []).append(saved)
        else:
            unmanaged.setdefault(str(saved.get("name")), saved)
    changes: list[Change] = []
    for name in sorted(desired):
        body = desired[name]
        found = managed.pop(name, [])
        if found:
            changes.append(_compare(name, body, found[0]))
            found = found[1:]  # [assumed] duplicates (none should exist: creates are found again by their marker)
            managed[name] = found
        elif name in unmanaged:
            changes.append(Change(action=Action.CLASH, name=name, saved_id=_id(unmanaged[name])))
        else:
            changes.append(Change(action=Action.CREATE, name=name, body=with_hash(body)))
    for name in sorted(managed):
        for saved in managed[name]:
            changes.append(Change(action=Action.DELETE if prune else Action.ORPHAN, name=name, saved_id=_id(saved)))
    return PublishPlan(project=settings.project, env=env, prune=prune, tenant=tenant_hash(listed),
                       changes=tuple(changes))


def _compare(name: str, body: JSONObject, saved: Mapping[str, JSONValue]) -> Change:
    actual = managed_fields(saved)
    if same(actual, body):
        return Change(action=Action.NOOP, name=name, saved_id=_id(saved))
    edited = recorded_hash(saved) != state_hash(actual)
    return Change(action=Action.DRIFT if edited else Action.UPDATE, name=name, saved_id=_id(saved),
                  body=with_hash(body), diff=_shown_diff(actual, body))


def _shown_diff(actual: Mapping[str, JSONValue], body: Mapping[str, JSONValue],
                ) -> tuple[tuple[str, JSONValue | Missing, JSONValue | Missing], ...]:
    """What differs, found between the canonical forms (so a null or a zero enum is no difference), shown with
    each side's own value where it has one: a repository's `SOURCE_NODES` reads better than "absent"."""
    raw_actual, raw_body = canonical_labels(actual), canonical_labels(body)
    return tuple((path, _at(raw_actual, path, old), _at(raw_body, path, new))
                 for path, old, new in diff_json(canonical(actual), canonical(body)))


def canonical_labels(fields: Mapping[str, JSONValue]) -> JSONObject:
    out = dict(fields)
    labels = out.get("labels")
    if isinstance(labels, list):
        out["labels"] = [*sorted(str(label) for label in labels)]
    return out


def _at(document: JSONValue, path: str, fallback: JSONValue | Missing) -> JSONValue | Missing:
    """The value at a `diff_json` path ("$.a.b[0].c") in `document`, else `fallback`."""
    if fallback is not MISSING:
        return fallback
    node: JSONValue = document
    for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path[1:]):
        if key and isinstance(node, dict) and key in node:
            node = node[key]
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return MISSING
    return MISSING if node is None else node


def _id(saved: Mapping[str, JSONValue]) -> str:
    return str(saved.get("id", ""))


def diff_json(old: JSONValue | Missing, new: JSONValue | Missing,
              path: str = "$") -> list[tuple[str, JSONValue | Missing, JSONValue | Missing]]:
    """The structural difference: objects key by key (sorted), lists of equal length item by item, anything
    else whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, JSONValue | Missing, JSONValue | Missing]] = []
        for key in sorted(set(old) | set(new)):
            out += diff_json(old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and \
            not all(not isinstance(item, dict | list) for item in [*old, *new]):
        return [change for i, (a, b) in enumerate(zip(old, new, strict=True))
                for change in diff_json(a, b, f"{path}[{i}]")]
    if old is not MISSING and new is not MISSING and _canonical(old) == _canonical(new):
        return []
    return [(path, old, new)]


def _canonical(value: JSONValue | Missing) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
