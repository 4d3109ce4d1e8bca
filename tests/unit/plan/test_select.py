"""Planning helpers: selectors, hashes, create bodies, and `--cache` (pure functions, no I/O)."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from runner.model.query import Context, IfAvailable, Immediate, Query, with_mode
from runner.model.values import JSONObject
from runner.plan.select import create_body, select_queries, spec_hash


def query(name: str, file: str = "queries/a.yaml", *, tags: tuple[str, ...] = (), owner: str | None = None) -> Query:
    return Query(name=name, file=file, spec={}, cache=IfAvailable(), tags=tags, owner=owner)


def test_spec_hash_ignores_key_order_but_not_values() -> None:
    assert spec_hash({"a": 1, "b": [1, 2]}) == spec_hash({"b": [1, 2], "a": 1})
    assert spec_hash({"a": 1}) != spec_hash({"a": 2})


def test_create_body_has_exactly_one_mode() -> None:
    spec: JSONObject = {"query_type": "SOURCE_TO_DESTINATION"}
    cached = create_body(spec, IfAvailable(max_staleness="12h"))
    assert cached == {"cached_result_if_available": {"request": {"body": spec}, "max_staleness": "43200s"}}
    assert create_body(spec, IfAvailable()) == {"cached_result_if_available": {"request": {"body": spec},
                                                                               "max_staleness": "86400s"}}
    assert create_body(spec, Immediate()) == {"immediate_run": {"request": {"body": spec}}}
    assert create_body(spec, Context(cache_id="c-1")) == {"cached_result_context": {"cache_id": "c-1"}}
    assert create_body(spec, Context()) == {"cached_result_context": {"cache_id": "previous"}}  # what render shows
    assert create_body(spec, Context(), cache_id="c-9") == {"cached_result_context": {"cache_id": "c-9"}}


def test_cache_override_keeps_the_staleness_only_within_if_available() -> None:
    assert with_mode(IfAvailable(max_staleness="1h"), "if_available") == IfAvailable(max_staleness="1h")
    assert with_mode(Immediate(), "if_available") == IfAvailable()
    assert with_mode(IfAvailable(max_staleness="1h"), "immediate") == Immediate()
    assert with_mode(Context(cache_id="c-1", on_expired="run"), "context") == Context()
    # a query under an immediate default that names only max_staleness keeps it under `--cache if_available`
    assert with_mode(Immediate(), "if_available", max_staleness="12h") == IfAvailable(max_staleness="12h")


def names(chosen: list[Query]) -> list[str]:
    return [q.name for q in chosen]


def test_selectors() -> None:
    queries = [query("okta-a", tags=("okta", "nightly"), owner="iam"),
               query("aws-b", file="queries/aws/b.yaml", tags=("aws",), owner="cloud"), query("okta-c", owner="cloud")]
    assert names(select_queries(queries, select=["okta-*"])) == ["okta-a", "okta-c"]
    assert names(select_queries(queries, select=["tag:nightly"])) == ["okta-a"]
    assert names(select_queries(queries, select=["owner:cloud"])) == ["aws-b", "okta-c"]
    assert names(select_queries(queries, select=["path:queries/aws"])) == ["aws-b"]
    assert names(select_queries(queries, select=["okta-*"], exclude=["owner:iam"])) == ["okta-c"]
    assert names(select_queries(queries, select=["okta-*", "tag:aws"])) == ["okta-a", "aws-b", "okta-c"]  # union
    assert names(select_queries(queries)) == ["okta-a", "aws-b", "okta-c"]
    with pytest.raises(UsageError):
        select_queries(queries, select=["color:red"])
