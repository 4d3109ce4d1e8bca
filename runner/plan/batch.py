"""From rendered queries to the batch's work: `QueryPlan`s (spec pinned, cache policy, timeout), then groups of
`Member`s whose create bodies are identical (one submit each), with `cache_id: previous` resolved from the journal.

Pure: the journal's `cache_id: previous` lookup is passed in as a function. Order is kept: plans follow the
queries, groups follow their first member.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runner.durations import parse_duration
from runner.errors import UsageError
from runner.model import (
    PREVIOUS_CACHE_ID,
    Context,
    ErrorCategory,
    Immediate,
    Member,
    Query,
    QueryError,
    QueryPlan,
    with_mode,
)
from runner.plan.select import body_hash, canonical_json, compared_body, create_body, query_body, spec_hash
from runner.settings import Project

FALLBACK_TIMEOUT = 900.0


def _timeout(query: Query, project: Project, override: float | None) -> float:
    if override is not None:
        return override
    own = parse_duration(query.timeout) if query.timeout is not None else None
    return own or parse_duration(project.defaults.timeout) or FALLBACK_TIMEOUT


def _no_owners(_file: str) -> tuple[str, ...]:
    return ()


def build_plans(project: Project, queries: Sequence[Query], *, cache_override: str | None,
                snapshot_id: str | None, query_timeout: float | None,
                codeowners: Callable[[str], tuple[str, ...]] = _no_owners) -> list[QueryPlan]:
    """One plan per enabled query. `snapshot_id` pins every spec (it is part of the spec, so of its hash too);
    `cache_override` (`--cache MODE`) replaces every query's mode; `codeowners` names the owners of a query file
    (the project's CODEOWNERS), asked only for a query without its own `owner:`."""
    plans: list[QueryPlan] = []
    seen: set[str] = set()
    for query in queries:
        if not query.enabled:
            continue
        if query.name in seen:
            raise UsageError(f"two queries are named '{query.name}' (run `vqr lint`)")
        seen.add(query.name)
        spec = dict(query.spec)
        if snapshot_id is not None:
            spec["snapshot_id"] = snapshot_id
        cache = (with_mode(query.cache, cache_override, max_staleness=query.max_staleness) if cache_override
                 else query.cache)
        rendered, rendered_hash = query_body(query)
        # Each hash is a normalise and a sorted dump of the spec, a third of planning 10,000 queries: the three
        # bodies below are that one body unless --cache or --snapshot-id changed it, so it is hashed once.
        shard_key = rendered_hash if cache is query.cache else body_hash(compared_body(query.spec, cache))
        sent = shard_key if snapshot_id is None else body_hash(compared_body(spec, cache))
        plans.append(QueryPlan(name=query.name, file=query.file, spec=spec, spec_hash=spec_hash(spec), cache=cache,
                               expect=query.expect, timeout=_timeout(query, project, query_timeout),
                               drift_ignore=query.drift_ignore, description=query.description, owner=query.owner,
                               severity=query.severity,
                               owners=(query.owner,) if query.owner else codeowners(query.file),
                               body=rendered, body_hash=rendered_hash,
                               shard_key=shard_key, sent_hash=sent))
    return plans


# (query name, spec hash) -> cache_id of its last success in this run's environment, against this run's target
PreviousCacheId = Callable[[str, str], str | None]


def resolve_member(plan: QueryPlan, previous_cache_id: PreviousCacheId) -> Member:
    """The create body of a plan. For `mode: context`, `previous` becomes the cache_id of this query's last
    successful run with the same spec in the same environment and target; with `on_expired: run` an unknown or
    expired id falls back to running."""
    cache = plan.cache
    if not isinstance(cache, Context):
        return Member(plan=plan, body=create_body(plan.spec, cache))
    fallback = create_body(plan.spec, Immediate()) if cache.on_expired == "run" else None
    if cache.cache_id != PREVIOUS_CACHE_ID:
        return Member(plan=plan, body=create_body(plan.spec, cache), fallback=fallback)
    found = previous_cache_id(plan.name, plan.spec_hash)
    if found is not None:
        return Member(plan=plan, body=create_body(plan.spec, cache, cache_id=found), fallback=fallback)
    if fallback is not None:
        return Member(plan=plan, body=fallback)
    problem = QueryError(category=ErrorCategory.CACHE_CONTEXT,
                         message="cache_id: previous, but no earlier successful run of this query (with this spec, in "
                                 "this environment and target) "
                                 "recorded a cache_id; run it once with mode if_available or immediate, or add "
                                 "on_expired: run")
    return Member(plan=plan, body=None, problem=problem)


def build_groups(plans: Sequence[QueryPlan], previous_cache_id: PreviousCacheId) -> list[list[Member]]:
    """Members grouped by identical create body (and fallback), in first-appearance order. `previous_cache_id` is
    the journal's lookup, passed in so that planning stays pure."""
    groups: dict[str, list[Member]] = {}
    for plan in plans:
        member = resolve_member(plan, previous_cache_id)
        key = (canonical_json([member.body, member.fallback]) if member.body is not None
               else "\x00unsent:" + plan.name)
        groups.setdefault(key, []).append(member)
    return list(groups.values())
