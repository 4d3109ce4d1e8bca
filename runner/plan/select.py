"""Pure planning helpers: selectors (with their union/intersection algebra), spec and body hashes, and the
create-request body.

No I/O. Inputs are `Query` values and their `CachePolicy`; outputs are new values. The batch engine and `vqr render`
share `create_body`, so what `render` prints is exactly what `run` sends.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Mapping, Sequence

from runner.durations import protobuf_duration
from runner.errors import UsageError
from runner.model import CachePolicy, Context, IfAvailable, Immediate, JSONObject, JSONValue, Query
from runner.model.impact import STATE_SELECTORS, Change
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


def compared_body(spec: JSONObject, cache: CachePolicy) -> JSONObject:
    """What "the rendered create body" means when comparing a query with another version of itself: the create
    body, and for a context-mode query the spec beside it under `spec`. A context body names only a cache id, yet
    the query it reuses (and runs, when the id has expired) is the spec's: a changed spec must count as a change."""
    body = create_body(spec, cache)
    return {**body, "spec": spec} if isinstance(cache, Context) else body


def normal_body(body: JSONObject) -> JSONObject:
    """A create body with its spec in protojson normal form (`normalise`): what "the same body" means for
    `body_hash` and for `vqr diff`, so a change that only respells "unset" or reorders keys is no change."""
    out: JSONObject = {}
    for mode, settings in body.items():
        if mode == "spec":  # beside a context-mode body (`compared_body`)
            out[mode] = normalise(settings)
            continue
        request = settings.get("request") if isinstance(settings, dict) else None
        if isinstance(settings, dict) and isinstance(request, dict):
            request = dict(request)
            if "body" in request:
                request["body"] = normalise(request["body"])
            settings = {**settings, "request": request}
        out[mode] = settings
    return out


def _numbers(value: JSONValue) -> JSONValue:
    """`5.0` as `5`: Veza reads JSON numbers as protobuf doubles (or int64s), where they are one value."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    return value


def body_hash(body: JSONObject) -> str:
    """Identity of a create body (its cache mode and settings, and the spec in normal form, `5.0` as `5`): what
    `state:modified` compares, and what run.json records per query as `body_hash`. (`spec_hash`, the history's
    key, keeps its own older rule: changing it would cut every query's history.)"""
    return hashlib.sha256(canonical_json(_numbers(normal_body(body))).encode()).hexdigest()


def query_body(query: Query) -> tuple[JSONObject, str]:
    """A query's `compared_body` and its `body_hash`: the one place both are taken (plans, run.json, vqr diff)."""
    body = compared_body(query.spec, query.cache)
    return body, body_hash(body)


SELECTOR_KINDS = ("tag", "owner", "path", "name", "state")
_HINT = "use a name glob, tag:, path:, owner:, state:"


def _matches(query: Query, selector: str, state: Mapping[str, Change] | None) -> bool:
    kind, sep, value = selector.partition(":")
    if sep and kind == "state":
        return state is not None and state.get(query.name, Change.UNCHANGED).value == value
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


def _group_matches(query: Query, group: Sequence[str], state: Mapping[str, Change] | None, *,
                   including: bool = True) -> bool:
    """One `--select` value: its comma-separated terms must all match (an intersection). A removed query (only
    the base has it) is selected only by a group that names `state:removed` (`--select tag:nightly` means the
    head's nightly queries), while any `--exclude` group that matches it drops it."""
    removed = state is not None and state.get(query.name) is Change.REMOVED
    if including and removed and not any(term == "state:removed" for term in group):
        return False
    return all(_matches(query, term, state) for term in group)


def parse_selectors(selectors: Sequence[str]) -> list[tuple[str, ...]]:
    """Each selector as its intersection of terms; refuses unknown kinds and empty terms (exit 2)."""
    groups: list[tuple[str, ...]] = []
    for selector in selectors:
        terms = tuple(term.strip() for term in selector.split(","))
        for term in terms:
            kind, sep, value = term.partition(":")
            if not term or (sep and not value):
                raise UsageError(f"empty selector term in {selector!r} (terms are joined by ',', e.g. "
                                 "state:modified,tag:nightly)")
            if sep and kind not in SELECTOR_KINDS:
                raise UsageError(f"unknown selector kind '{kind}:' in {selector!r} ({_HINT})")
            if sep and kind == "state" and value not in STATE_SELECTORS:
                states = "|".join(sorted(STATE_SELECTORS))
                raise UsageError(f"unknown state {value!r} in {selector!r} (use state:{states})")
        groups.append(terms)
    return groups


def uses_state(selectors: Sequence[str]) -> bool:
    """Whether any selector has a `state:` term (which needs a base: `--base REF` or `--state DIR`)."""
    return any(term.strip().startswith("state:") for selector in selectors for term in selector.split(","))


def select_queries(queries: Sequence[Query], *, select: Sequence[str] = (), exclude: Sequence[str] = (),
                   state: Mapping[str, Change] | None = None) -> list[Query]:
    """Selectors (design.md §4, README "Selecting queries"): a name or glob, `tag:T`, `path:DIR`, `owner:O`,
    `state:S`. Several `--select` are a union, the comma-joined terms of one are an intersection, and a query
    matching any `--exclude` is dropped. `state` maps names to their `Change` against a base; a `state:` term
    without it is a usage error, and a name it lacks is unchanged."""
    include, drop = parse_selectors(select), parse_selectors(exclude)
    if state is None and uses_state([*select, *exclude]):
        raise UsageError("a state: selector needs a base to compare with: --base REF (a git ref) or --state DIR "
                         "(a run directory)")
    chosen = [q for q in queries if any(_group_matches(q, g, state) for g in include)
              or (not include and not (state is not None and state.get(q.name) is Change.REMOVED))]
    return [q for q in chosen if not any(_group_matches(q, g, state, including=False) for g in drop)]
