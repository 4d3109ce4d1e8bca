"""One query of the repository as the later stages see it: a frozen `Query`, with its `CachePolicy`.

Pure. Compile builds each `Query` once, from a rendered and lint-clean query file, with the project's default
cache policy already applied; plan, `vqr render` and `vqr ls` read its fields (never the raw body). The policy is
a tagged union of the three mutually exclusive create modes of `nodes_async_create` (veza-api.md §3), so that
`plan.select.create_body` is an exhaustive `match`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from runner.model.values import JSONObject, JSONValue

CACHE_MODES: tuple[str, ...] = ("if_available", "immediate", "context")  # `cache.mode` in a query, `--cache`
PREVIOUS_CACHE_ID = "previous"  # `cache_id: previous`: this query's last recorded cache_id, found at run time
DEFAULT_MAX_STALENESS = "24h"  # Veza's documented default for cached_result_if_available (veza-api.md §3)
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")  # `severity:`, lowest first
DEFAULT_SEVERITY = "medium"


@dataclass(frozen=True, kw_only=True, slots=True)
class IfAvailable:
    """`cached_result_if_available`: a cached result no older than `max_staleness` (a duration, e.g. `12h`)."""

    max_staleness: str = DEFAULT_MAX_STALENESS
    mode: Literal["if_available"] = "if_available"


@dataclass(frozen=True, kw_only=True, slots=True)
class Immediate:
    """`immediate_run`: always a new execution."""

    mode: Literal["immediate"] = "immediate"


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    """`cached_result_context`: the result of one cache id; `on_expired: run` falls back to a new execution."""

    cache_id: str = PREVIOUS_CACHE_ID
    on_expired: Literal["fail", "run"] = "fail"
    mode: Literal["context"] = "context"


CachePolicy: TypeAlias = IfAvailable | Immediate | Context


def cache_policy(raw: Mapping[str, JSONValue]) -> CachePolicy:
    """The policy of a lint-clean `cache:` mapping (the schema has checked its keys and values)."""
    mode = raw.get("mode", "if_available")
    if mode == "immediate":
        return Immediate()
    if mode == "context":
        cache_id = raw.get("cache_id")
        return Context(cache_id=str(cache_id) if cache_id else PREVIOUS_CACHE_ID,
                       on_expired="run" if raw.get("on_expired") == "run" else "fail")
    staleness = raw.get("max_staleness")
    return IfAvailable(max_staleness=str(staleness) if staleness else DEFAULT_MAX_STALENESS)


def with_mode(policy: CachePolicy, mode: str, *, max_staleness: str | None = None) -> CachePolicy:
    """`--cache MODE` for a whole run: that mode. For if_available, the `max_staleness` the query's cache mapping
    names (whatever its own mode), else the policy's own when it already is if_available, else the default."""
    if mode == "if_available":
        if max_staleness:
            return IfAvailable(max_staleness=max_staleness)
        return policy if isinstance(policy, IfAvailable) else IfAvailable()
    return Immediate() if mode == "immediate" else Context()


@dataclass(frozen=True, kw_only=True)
class Query:
    """A rendered query (one matrix combination), typed. `spec` is the AssessmentQuerySpec exactly as rendered."""

    name: str
    file: str  # the query file, as findings name it (relative to the project root)
    spec: JSONObject
    cache: CachePolicy  # effective: the project default under the query's own
    max_staleness: str | None = None  # in that cache mapping, whatever its mode: what `--cache if_available` keeps
    matrix: Mapping[str, JSONValue] = field(default_factory=dict)
    enabled: bool = True
    tags: tuple[str, ...] = ()
    owner: str | None = None
    severity: str = DEFAULT_SEVERITY  # one of SEVERITIES: how serious one result row is (the OCSF export)
    description: str | None = None
    timeout: str | None = None  # the query's own deadline (a duration); None: the project default
    expect: JSONValue = None  # `expect:` entries, evaluated by `assess.expectations`
    drift_ignore: tuple[str, ...] = ()  # `drift: {ignore: [...]}`
    publish: bool | None = None  # `publish:` (None: the file does not say; vqr.yaml `publish.default` decides)
