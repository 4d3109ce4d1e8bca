"""Pure planning helpers: selectors, spec hashes and the create-request body.

No I/O. Inputs are `Query` values and their `CachePolicy`; outputs are new values. The batch engine and `vqr render`
share `create_body`, so what `render` prints is exactly what `run` sends.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Sequence

from runner.durations import protobuf_duration
from runner.errors import UsageError
from runner.model import CachePolicy, Context, IfAvailable, Immediate, JSONObject, JSONValue, Query
from runner.protojson import normalise


def canonical_json(value: JSONValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(spec: JSONValue) -> str:
    """Identity of a rendered spec: equal specs share results, history and drift, whatever their key order and
    however they spell "unset" (`null`, `""`, `[]`, `false`, a zero enum or absence: `protojson.normalise`)."""
    return hashlib.sha256(canonical_json(normalise(spec)).encode()).hexdigest()


def create_body(spec: JSONValue, cache: CachePolicy, *, cache_id: str | None = None) -> JSONObject:
    """The body of `query_spec:nodes_async_create` for one query and its cache policy (veza-api.md §3).

    `cache_id` is the resolved id for a `Context` policy; when the policy says `previous` and no id is known yet the
    literal stays in the body, so `vqr render` shows what would be resolved at run time.
    """
    request: JSONObject = {"body": spec}
    match cache:
        case Immediate():
            return {"immediate_run": {"request": request}}
        case Context(cache_id=own):
            return {"cached_result_context": {"cache_id": cache_id or own}}
        case IfAvailable(max_staleness=staleness):
            return {"cached_result_if_available": {"request": request,
                                                   "max_staleness": protobuf_duration(staleness)}}


def _matches(query: Query, selector: str) -> bool:
    kind, sep, value = selector.partition(":")
    if sep and kind == "tag":
        return any(fnmatch.fnmatchcase(tag, value) for tag in query.tags)
    if sep and kind == "owner":
        return fnmatch.fnmatchcase(query.owner or "", value)
    if sep and kind == "path":
        prefix = value.rstrip("/")
        return query.file == prefix or query.file.startswith(prefix + "/") or fnmatch.fnmatchcase(query.file, value)
    if sep and kind in {"name"}:
        return fnmatch.fnmatchcase(query.name, value)
    return fnmatch.fnmatchcase(query.name, selector)


def select_queries(queries: Sequence[Query], *, select: Sequence[str] = (),
                   exclude: Sequence[str] = ()) -> list[Query]:
    """Selectors (design.md §4): a name or glob, `tag:T`, `path:DIR`, `owner:O`; several `--select` are a union."""
    for selector in (*select, *exclude):
        kind, sep, _ = selector.partition(":")
        if sep and kind not in {"tag", "owner", "path", "name"}:
            raise UsageError(f"unknown selector kind '{kind}:' in {selector!r} (use a name glob, tag:, path:, owner:)")
    chosen = [q for q in queries if not select or any(_matches(q, s) for s in select)]
    return [q for q in chosen if not any(_matches(q, s) for s in exclude)]
