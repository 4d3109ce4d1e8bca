"""Property: a random spec in any of Veza's shapes, full of protojson's unset forms and hostile text, imports into
files that lint clean and compile back to the imported spec and cache mode, and render to a create body equal in
meaning to the imported one. `make fuzz` runs it with fresh examples; `make test` replays fixed ones."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.compile.queries import effective_cache
from runner.model import cache_policy
from runner.plan.select import create_body
from runner.protojson import normalise
from tests.unit.importer.project import import_into, make_project

_UNSET: st.SearchStrategy[Any] = st.sampled_from([None, "", [], False])
_PIECES = st.sampled_from(["{{", "{%", "}}", "{{ 7 }}", "{% if 1 %}a{% endif %}", ": ", " #", "'", '"', "\\", "\n",
                           "\r", "yes", "null", "1e3", "-", "$COOKIE_TIMEVAR_90_DAY_AGO", "é", "\u202e", " "])
_TEXT = st.lists(st.one_of(_PIECES, _PIECES, st.characters(exclude_categories=["Cs"])), max_size=6).map("".join)
_HOSTILE = st.lists(_PIECES, min_size=1, max_size=4).map("".join)  # always something a YAML or template reader trips on
_VALUE = st.one_of(_HOSTILE, _TEXT, st.booleans(), st.integers(-(2**53), 2**53), st.none(), st.lists(_TEXT, max_size=2))
_NODE_TYPES = st.sampled_from(["OktaUser", "OktaGroup", "AwsIamUser", "AwsIamRole", "S3Bucket", "SnowflakeUser"])
_PROPERTIES = st.sampled_from(["name", "status", "email", "is_active", "customprop_team"])


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is set, or written as protojson writes "unset", or absent (`...`)."""
    return st.one_of(strategy, _UNSET, st.just(...))


def _object(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: _maybe(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not ...})


_CONDITION = st.fixed_dictionaries({"property": _PROPERTIES, "value": _VALUE}).flatmap(
    lambda base: _object(fn=st.sampled_from(["EQ", "NEQ", "LT", "GT"]), **{"not": st.booleans()},
                         value_property_name=st.just("")).map(lambda more: {**base, **more}))
_EXPRESSION = st.lists(_CONDITION, min_size=1, max_size=2).flatmap(lambda specs: _object(
    operator=st.sampled_from(["AND", "OR"]), tag_specs=st.just([])).map(lambda more: {"specs": specs, **more}))
_NODE = _NODE_TYPES.flatmap(lambda node_type: _object(
    condition_expression=_EXPRESSION, properties_to_get=st.lists(_PROPERTIES, max_size=2, unique=True),
    node_id=st.just(""), direct_relationship_only=st.just(False), node_type_grouping_constraint=st.none(),
    tags_to_get=st.just([])).map(lambda more: {"node_type": node_type, **more}))
_NODES = st.lists(_NODE, min_size=1, max_size=2).flatmap(
    lambda nodes: _object(nodes_operator=st.sampled_from(["AND", "OR"])).map(lambda more: {"nodes": nodes, **more}))
_RELATION = _NODES.flatmap(lambda nodes: _object(
    effective_permissions=st.fixed_dictionaries({"values": st.lists(st.sampled_from(
        ["DATA_READ", "DATA_WRITE", "DATA_DELETE"]), min_size=1, max_size=2, unique=True),
        "operator": st.sampled_from(["AND", "OR"])}),
    no_relation=st.booleans(), raw_permissions=st.none(), direction=st.just("ANY_DIRECTION"),
).map(lambda more: {"node_types": nodes, **more}))
_SPEC = st.tuples(_NODES, _object(
    relates_to_exp=st.lists(_RELATION, min_size=1, max_size=2).map(lambda specs: {"specs": specs}),
    result_value_type=st.sampled_from(["SOURCE_NODES", "SOURCE_NODES_WITH_COUNTS"]),
    node_relationship_type=st.sampled_from(["EFFECTIVE_ACCESS", "CONFIGURED"]),
    include_nodes=st.booleans(), snapshot_id=st.just("0"), page_token=st.just(""), variables=st.just([]),
    access_filter=st.none(), all_entity_condition=st.none(),
)).map(lambda parts: {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": parts[0], **parts[1]})
_SAVED_KEYS = _object(id=st.uuids().map(str), created_at=st.just("2024-05-02T16:05:51.903Z"),
                      result_type=st.just("NUMBER"), category=_TEXT, level=st.just("HIGH"), source_type=_NODE_TYPES)


def _saved(spec: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(_TEXT, _HOSTILE, _object(labels=st.lists(_TEXT, max_size=2)), _SAVED_KEYS).map(
        lambda parts: {"name": parts[0], "description": parts[1], **parts[2], **parts[3], **spec})


def _shaped(spec: dict[str, Any]) -> st.SearchStrategy[tuple[Any, list[dict[str, Any]], dict[str, Any] | None]]:
    """(document, the specs it holds, the cache it asks for)."""
    request = {"body": spec}
    return st.one_of(
        st.just((spec, [spec], None)),
        st.one_of(st.none(), st.integers(1, 10**7).map(lambda n: f"{n}s")).map(lambda staleness: (
            {"cached_result_if_available": {"request": request, **({"max_staleness": staleness} if staleness else {})},
             "immediate_run": None},
            [spec], {"mode": "if_available", "max_staleness": staleness or "24h"})),
        st.just(({"immediate_run": {"request": request}}, [spec], {"mode": "immediate"})),
        st.just(({"request": request}, [spec], {"mode": "if_available", "max_staleness": "24h"})),
        _saved(spec).map(lambda body: (body, [spec], None)),
        _saved(spec).map(lambda body: ({"value": body}, [spec], None)),
        st.tuples(_TEXT, st.lists(_SPEC.flatmap(_saved), max_size=2)).map(lambda parts: (
            {"name": parts[0] or "r", "version": 1, "queries": [{"name": "first", **spec}, *parts[1]]},
            [spec, *[{k: v for k, v in e.items() if k not in _SAVED_NAMES} for e in parts[1]]],
            None)),
    )


_SAVED_NAMES = {"name", "description", "labels", "id", "created_at", "result_type", "category", "level",
                "source_type"}


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=_SPEC.flatmap(_shaped))
def test_any_shape_imports_and_renders_back_equal_in_meaning(
        case: tuple[Any, list[dict[str, Any]], dict[str, Any] | None]) -> None:
    document, specs, cache = case
    with tempfile.TemporaryDirectory() as directory:
        project = make_project(Path(directory))
        done = import_into(project, [("input.json", document)])
        assert len(done.planned) == len(specs)
        for item, spec in zip(done.planned, specs, strict=True):
            query = done.queries[item.path.stem]
            assert normalise(query.spec) == normalise(spec)
            expected_cache = cache_policy(effective_cache(cache, project.defaults.cache))
            assert query.cache == expected_cache
            if cache is not None and cache["mode"] == "if_available":
                body = create_body(query.spec, query.cache)
                assert normalise(body) == normalise({"cached_result_if_available": {
                    "request": {"body": spec}, "max_staleness": f"{int(_seconds(cache['max_staleness']))}s"}})


def _seconds(text: str) -> float:
    return 86400.0 if text == "24h" else float(text.rstrip("s"))
