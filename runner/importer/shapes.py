"""Veza's JSON → `Candidate`s: which of the four shapes a document is, detected by its keys, and what each gives.

Input: one decoded JSON value and the name of its source. Output: the queries it holds (spec, cache mode, name,
description, labels, what was dropped) or an `ImportRefused` whose message says why in one line. Pure. The shapes
are veza-api.md §3 (create request), §4 (spec, saved-query keys) and §9 (saved query, report file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from runner.durations import parse_duration
from runner.importer.emit import slug
from runner.model import JSONObject, JSONValue
from runner.protojson import is_unset, normalise
from runner.validate import SAVED_QUERY_KEYS

# Every top-level field of an AssessmentQuerySpec (veza-api.md §4), deprecated ones included; a test holds it equal
# to the bundled schema's (tests/unit/importer/test_shapes.py), so a field added to the OpenAPI subset is not missed.
SPEC_KEYS: Final[frozenset[str]] = frozenset({
    "query_type", "source_node_types", "relates_to_exp", "node_relationship_type", "result_value_type",
    "access_filter", "snapshot_id", "include_nodes", "include_all_source_tags_in_results",
    "include_all_destination_tags_in_results", "include_sub_permissions", "include_permissions_summary",
    "additional_columns_to_get", "path_summary_node_types", "path_summary_count_conditions", "all_entity_condition",
    "variables", "customized_variables", "page_size", "page_token", "no_relation", "destination_node_types",
    "required_intermediate_node_types", "avoided_intermediate_node_types", "raw_permissions", "effective_permissions",
})
# Saved-query keys (validate's one table, veza-api.md §4): name → name, description → description, labels → tags;
# the others (read-only, exported, or settings vqr never sends) are dropped, and said so.
KEPT_KEYS: Final[frozenset[str]] = frozenset(key for key, home in SAVED_QUERY_KEYS.items() if home is not None)
DROPPED_KEYS: Final[frozenset[str]] = frozenset(key for key, home in SAVED_QUERY_KEYS.items() if home is None)
SAVED_KEYS: Final[frozenset[str]] = KEPT_KEYS | DROPPED_KEYS
MODE_KEYS: Final[tuple[str, ...]] = ("cached_result_if_available", "immediate_run", "cached_result_context", "request")
# Veza's documented default staleness (§3). Written out, so a project default never changes an imported query.
VEZA_DEFAULT_STALENESS: Final[str] = "24h"


class ImportRefused(ValueError):
    """Input that cannot be imported; the message is one line naming the source and the reason."""


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One query found in an input: what the query file will say, before names are made unique."""

    source: str  # the input's name, for messages ("report.json", "report.json entry 2", "stdin")
    shape: str  # "spec" | "create request" | "saved query" | "report entry"
    spec: JSONObject
    cache: JSONObject | None = None  # the query file's `cache:`, None for the project's default
    name_hint: str  # a saved name, else the input's file name; slugged later
    saved_name: str | None = None  # the saved query's own name as Veza wrote it (the slug may lose it: `日本語`)
    description: str | None = None
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what import did that the user should know (dropped keys, ...)


def _object(value: JSONValue, what: str) -> JSONObject:
    if not isinstance(value, dict):
        raise ImportRefused(f"{what} is not a JSON object")
    return value


def _shown(value: object, limit: int = 60) -> str:
    """Untrusted text for a message: repr'd when not a plain string, and cut (a key may be a megabyte long)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _describe_keys(data: JSONObject) -> str:
    keys = sorted(data)
    shown = ", ".join(_shown(key) for key in keys[:8]) + (", ..." if len(keys) > 8 else "")
    return f"top-level keys: {shown}" if keys else "an empty object"


def detect(value: JSONValue, *, source: str, stem: str) -> list[Candidate]:
    """The queries of one input document; `stem` names a query that carries no name of its own."""
    data = _object(value, source)
    if set(data) == {"value"} and isinstance(data["value"], dict):
        data = data["value"]  # Veza's GET reply for one saved query: {value: {...}}
    if isinstance(data.get("queries"), list) and "name" in data and not SPEC_KEYS & set(data):
        return _report(data, source=source)
    present = [key for key in MODE_KEYS if key in data]
    if present:
        return [_create_request(data, present, source=source, stem=stem)]
    if SAVED_KEYS & set(data):
        return [_saved_query(data, source=source, stem=stem, shape="saved query")]
    if SPEC_KEYS & set(data):
        return [Candidate(source=source, shape="spec", spec=dict(data), name_hint=stem)]
    raise ImportRefused(f"{source}: not a Veza query spec, create request, saved query or report file "
                        f"({_describe_keys(data)})")


def _create_request(data: JSONObject, present: list[str], *, source: str, stem: str) -> Candidate:
    """A `nodes_async_create` body: exactly one mode is set (null counts as unset, as protojson writes it)."""
    modes = [key for key in present if data[key] is not None]
    others = sorted(set(data) - set(MODE_KEYS))
    if len(modes) != 1 or others:
        what = ", ".join(modes) or "none"
        extra = f"; unexpected keys: {', '.join(_shown(key) for key in others[:5])}" if others else ""
        raise ImportRefused(f"{source}: a create request sets exactly one of {', '.join(MODE_KEYS[:3])} "
                            f"(set: {what}){extra}")
    mode = modes[0]
    body = _object(data[mode], f"{source}: {mode}")
    if mode == "cached_result_context":
        cache_id = body.get("cache_id")
        raise ImportRefused(f"{source}: a cached_result_context request holds only a cache id "
                            f"({_shown(repr(cache_id))}), no spec; import the query's spec and add "
                            "`cache: {mode: context, cache_id: ...}` to it")
    request = body if mode == "request" else _object(body.get("request"), f"{source}: {mode}.request")
    spec = _object(request.get("body"), f"{source}: {mode}.request.body (the spec)")
    notes: tuple[str, ...] = ()
    if mode == "immediate_run":
        cache: JSONObject = {"mode": "immediate"}
    else:
        staleness = body.get("max_staleness") if mode != "request" else None
        if staleness is not None and (not isinstance(staleness, str) or parse_duration(staleness) is None):
            raise ImportRefused(f"{source}: max_staleness {_shown(repr(staleness))} is not a duration such as "
                                '"86400s"')
        cache = {"mode": "if_available", "max_staleness": staleness or VEZA_DEFAULT_STALENESS}
        if mode == "request":
            # [assumed] the deprecated field behaves as cached_result_if_available (its x-replacement, and what the
            # sandbox does) with Veza's default staleness.
            notes = ("the deprecated top-level `request` became `cache: {mode: if_available}` [assumed]",)
    return Candidate(source=source, shape="create request", spec=dict(spec), cache=cache, name_hint=stem, notes=notes)


def _saved_query(data: JSONObject, *, source: str, stem: str, shape: str,
                 report_tag: str | None = None) -> Candidate:
    """A saved-query body: its saved-query keys go to the query file's own fields or are dropped; the rest is spec."""
    name, description, labels = data.get("name"), data.get("description"), data.get("labels")
    labels = None if is_unset("labels", labels) else labels  # protojson's unset forms: null, [], ...
    if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise ImportRefused(f"{source}: `labels` is not a list of strings")
    dropped = sorted(key for key in DROPPED_KEYS & set(data) if normalise(data[key]) not in (None, {}, [], ""))
    notes = (f"dropped saved-query keys vqr has no place for: {', '.join(dropped)}",) if dropped else ()
    tags = [str(label) for label in labels or []] + ([report_tag] if report_tag else [])
    return Candidate(
        source=source, shape=shape, spec={k: v for k, v in data.items() if k not in SAVED_KEYS},
        name_hint=name if isinstance(name, str) and name.strip() else stem,
        saved_name=name if isinstance(name, str) and name.strip() else None,
        description=description if isinstance(description, str) and description.strip() else None,
        tags=tuple(dict.fromkeys(tags)), notes=notes)


def _report(data: JSONObject, *, source: str) -> list[Candidate]:
    """A report file `{name, version, queries: [saved-query body, ...]}` (§9): one query per entry, each tagged with
    the report's name, slugged. `version` and a top-level `description` are not read, as Veza's tool reads neither."""
    name, queries = data.get("name"), data["queries"]
    assert isinstance(queries, list)  # detect() chose this shape for it
    if not isinstance(name, str) or not name.strip():
        raise ImportRefused(f"{source}: a report file needs a `name`")
    if not queries:
        raise ImportRefused(f"{source}: report {_shown(repr(name))} has no queries")
    tag = slug(name)
    out: list[Candidate] = []
    for index, entry in enumerate(queries, start=1):
        where = f"{source} entry {index}"
        body = _object(entry, where)
        if set(body) == {"value"} and isinstance(body["value"], dict):
            body = body["value"]
        out.append(_saved_query(body, source=where, stem=f"{tag}-{index}", shape="report entry", report_tag=tag))
    return out
