"""The desired saved queries of a compiled environment, and the hash that tells a UI edit from a repository change.

`desired_bodies(queries, settings)` maps each published query's (expanded) name to the saved-query body vqr would
send: `name`, `description`, `labels` (the query's tags sorted, then the marker `vqr:<project>/<name>`) and the
rendered spec fields. `managed_fields(saved)` keeps, of a body listed from the tenant, the same fields (server
fields and the `vqr-sha:` label dropped); `state_hash` is the first 16 hex digits of the sha256 of their canonical
JSON, and `with_hash(body)` adds it as the `vqr-sha:<hash>` label apply writes. Pure, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from runner.model import JSONObject, JSONValue, Query
from runner.model.publish import HASH_PREFIX, PublishSettings
from runner.protojson import normalise

# What the server writes or computes on a saved query; never part of what vqr manages (veza-api.md §1 and §9).
SERVER_FIELDS = frozenset({"id", "created_at", "updated_at", "result_type", "source_type", "query_type_name"})
# [assumed] Saved-query fields vqr never sets and leaves to the UI; a UI edit of them is drift all the same,
# because they are hashed as listed (an unset field is absent from both sides).
HASH_CHARS = 16


def desired_bodies(queries: Sequence[Query], settings: PublishSettings) -> dict[str, JSONObject]:
    """Each published, enabled query's saved-query body, by name (matrix queries under their expanded names)."""
    out: dict[str, JSONObject] = {}
    for query in queries:
        if not query.enabled or not settings.publishes(query.publish):
            continue
        out[query.name] = saved_body(query, marker=settings.marker(query.name))
    return out


def saved_body(query: Query, *, marker: str | None) -> JSONObject:
    """A query's saved-query body: name, description, its tags sorted as labels (then `marker`, if any), and the
    rendered spec. Without a marker it is what a report file holds (`vqr export --report`)."""
    labels: list[JSONValue] = [*sorted(set(query.tags)), *([marker] if marker else [])]
    spec = {key: value for key, value in query.spec.items() if key not in ("name", "description", "labels")}
    return {"name": query.name, "description": query.description or "", "labels": labels, **spec}


def managed_fields(saved: Mapping[str, JSONValue]) -> JSONObject:
    """A listed saved query's fields as vqr compares them: server fields and the hash label dropped."""
    fields: JSONObject = {key: value for key, value in saved.items() if key not in SERVER_FIELDS}
    labels = fields.get("labels")
    if isinstance(labels, list):
        fields["labels"] = [label for label in labels if not _is_hash_label(label)]
    return fields


def recorded_hash(saved: Mapping[str, JSONValue]) -> str | None:
    """The `vqr-sha:` label apply wrote on a saved query (the first, if a UI edit added more), else None."""
    labels = saved.get("labels")
    for label in labels if isinstance(labels, list) else []:
        if _is_hash_label(label):
            return str(label)[len(HASH_PREFIX):]
    return None


def canonical(fields: Mapping[str, JSONValue]) -> JSONObject:
    """The form both sides are compared in: protojson's normal form (Veza lists every field, unset ones as null,
    "", [], false or a zero enum, and enums as names where a file may number them: none of that is a change) and
    labels sorted (a tenant may return them in another order [assumed])."""
    out = normalise(dict(fields))
    assert isinstance(out, dict)
    labels = out.get("labels")
    if isinstance(labels, list):
        out["labels"] = [*sorted(str(label) for label in labels)]
    return out


def state_hash(fields: Mapping[str, JSONValue]) -> str:
    text = json.dumps(canonical(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def same(left: Mapping[str, JSONValue], right: Mapping[str, JSONValue]) -> bool:
    return state_hash(left) == state_hash(right)


def with_hash(body: JSONObject) -> JSONObject:
    """The body apply sends: `body` with the `vqr-sha:` label of its own managed fields appended."""
    labels = body.get("labels")
    kept = [label for label in labels if not _is_hash_label(label)] if isinstance(labels, list) else []
    return {**body, "labels": [*kept, f"{HASH_PREFIX}{state_hash({**body, 'labels': kept})}"]}


def _is_hash_label(label: JSONValue) -> bool:
    return isinstance(label, str) and label.startswith(HASH_PREFIX)
