"""The end of compile: each rendered, lint-clean `QueryUnit` becomes a frozen, typed `Query`.

Pure. The project's default cache policy is applied here, once: the query's own `cache:` is layered over it (a
different `mode` replaces the default outright; the same or no mode refines it).
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.model import JSONObject, JSONValue, Query, QueryUnit, cache_policy
from runner.model.query import DEFAULT_SEVERITY, SEVERITIES


def effective_cache(own: JSONValue, defaults: Mapping[str, JSONValue]) -> JSONObject:
    """The `cache:` mapping that applies: the project default, then the query's own."""
    policy: JSONObject = dict(defaults)
    if isinstance(own, dict):
        if own.get("mode") and own.get("mode") != policy.get("mode"):
            policy = {}
        policy.update(own)
    return policy


def _text(value: JSONValue) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: JSONValue) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def to_query(unit: QueryUnit, default_cache: Mapping[str, JSONValue]) -> Query:
    body = unit.body
    spec = body.get("spec")
    drift = body.get("drift")
    timeout = body.get("timeout")
    cache = effective_cache(body.get("cache"), default_cache)
    severity = body.get("severity")
    return Query(
        name=unit.name, file=unit.doc.path, matrix=unit.matrix,
        spec=dict(spec) if isinstance(spec, dict) else {},
        cache=cache_policy(cache), max_staleness=_text(cache.get("max_staleness")),
        enabled=body.get("enabled") is not False, tags=_strings(body.get("tags")),
        owner=_text(body.get("owner")),
        severity=severity if isinstance(severity, str) and severity in SEVERITIES else DEFAULT_SEVERITY,
        description=_text(body.get("description")),
        timeout=str(timeout) if timeout is not None else None, expect=body.get("expect"),
        drift_ignore=_strings(drift.get("ignore")) if isinstance(drift, dict) else (),
        publish=publish if isinstance(publish := body.get("publish"), bool) else None)
