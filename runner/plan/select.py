"""Pure planning helpers: selectors, spec hashes and the create-request body.

No I/O. Inputs are rendered `QueryUnit`s and plain values; outputs are new values. The batch engine and `vqr render`
share `create_body`, so what `render` prints is exactly what `run` sends.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Mapping, Sequence

from runner.durations import parse_duration
from runner.errors import UsageError
from runner.model.values import JSONObject, JSONValue, QueryUnit

PREVIOUS_CACHE_ID = "previous"


def canonical_json(value: JSONValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(spec: JSONValue) -> str:
    """Identity of a rendered spec: equal specs (whatever their key order) share results, history and drift."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()


def protobuf_duration(text: str) -> str:
    """`12h` -> `"43200s"`: Veza's JSON mapping of google.protobuf.Duration (veza-api.md §1)."""
    seconds = parse_duration(text)
    if seconds is None:
        raise ValueError(f"not a duration: {text!r}")
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:.9f}".rstrip("0") + "s"


def create_body(spec: JSONValue, cache: Mapping[str, JSONValue], *, cache_id: str | None = None) -> JSONObject:
    """The body of `query_spec:nodes_async_create` for one query and its cache policy (veza-api.md §3).

    `cache_id` is the resolved id for `mode: context`; when the policy says `previous` and no id is known yet the
    literal stays in the body, so `vqr render` shows what would be resolved at run time.
    """
    mode = str(cache.get("mode", "if_available"))
    request: JSONObject = {"body": spec}
    if mode == "immediate":
        return {"immediate_run": {"request": request}}
    if mode == "context":
        chosen = cache_id or str(cache.get("cache_id", PREVIOUS_CACHE_ID))
        return {"cached_result_context": {"cache_id": chosen}}
    staleness = protobuf_duration(str(cache.get("max_staleness", "24h")))
    return {"cached_result_if_available": {"request": request, "max_staleness": staleness}}


def effective_cache(unit: QueryUnit, defaults: Mapping[str, JSONValue], override: str | None = None) -> JSONObject:
    """The cache policy of a unit: project default, then the query's own, then `--cache MODE` for the whole run."""
    policy: JSONObject = dict(defaults)
    own = unit.body.get("cache")
    if isinstance(own, dict):
        if own.get("mode") and own.get("mode") != policy.get("mode"):
            policy = {}
        policy.update(own)
    if override:
        policy = {"mode": override, **({"max_staleness": policy["max_staleness"]}
                                       if override == "if_available" and "max_staleness" in policy else {})}
    return policy


def _matches(unit: QueryUnit, selector: str) -> bool:
    kind, sep, value = selector.partition(":")
    if sep and kind == "tag":
        tags = unit.body.get("tags")
        return isinstance(tags, list) and any(fnmatch.fnmatchcase(str(t), value) for t in tags)
    if sep and kind == "owner":
        return fnmatch.fnmatchcase(str(unit.body.get("owner", "")), value)
    if sep and kind == "path":
        prefix = value.rstrip("/")
        return (unit.doc.path == prefix or unit.doc.path.startswith(prefix + "/")
                or fnmatch.fnmatchcase(unit.doc.path, value))
    if sep and kind in {"name"}:
        return fnmatch.fnmatchcase(unit.name, value)
    return fnmatch.fnmatchcase(unit.name, selector)


def select_units(units: Sequence[QueryUnit], *, select: Sequence[str] = (),
                 exclude: Sequence[str] = ()) -> list[QueryUnit]:
    """Selectors (design.md §4): a name or glob, `tag:T`, `path:DIR`, `owner:O`; several `--select` are a union."""
    for selector in (*select, *exclude):
        kind, sep, _ = selector.partition(":")
        if sep and kind not in {"tag", "owner", "path", "name"}:
            raise UsageError(f"unknown selector kind '{kind}:' in {selector!r} (use a name glob, tag:, path:, owner:)")
    chosen = [u for u in units if not select or any(_matches(u, s) for s in select)]
    return [u for u in chosen if not any(_matches(u, s) for s in exclude)]
