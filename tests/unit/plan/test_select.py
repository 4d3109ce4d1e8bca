"""Planning helpers: matrix, selectors, hashes, create bodies (pure functions, no I/O)."""

from __future__ import annotations

import pytest

from runner.compile.matrix import matrix_combinations
from runner.errors import UsageError
from runner.model.values import Document, JSONObject, Position, QueryUnit
from runner.plan.select import create_body, effective_cache, protobuf_duration, select_units, spec_hash


def unit(name: str, path: str = "queries/a.yaml", **body: object) -> QueryUnit:
    doc = Document(path=path, data={}, values={(): Position(line=1, column=1)}, keys={})
    return QueryUnit(doc=doc, name=name, matrix={}, body={"name": name, **body})  # type: ignore[dict-item]


def test_matrix_is_the_product_in_file_order() -> None:
    combos = list(matrix_combinations({"perm": ["DATA_WRITE", "DATA_DELETE"], "type": ["S3Bucket"]}))
    assert combos == [{"perm": "DATA_WRITE", "type": "S3Bucket"}, {"perm": "DATA_DELETE", "type": "S3Bucket"}]
    assert list(matrix_combinations(None)) == [{}]


def test_spec_hash_ignores_key_order_but_not_values() -> None:
    assert spec_hash({"a": 1, "b": [1, 2]}) == spec_hash({"b": [1, 2], "a": 1})
    assert spec_hash({"a": 1}) != spec_hash({"a": 2})


@pytest.mark.parametrize(("text", "wire"), [("12h", "43200s"), ("90s", "90s"), ("2d", "172800s"),
                                            ("43200s", "43200s"), ("15m", "900s")])
def test_durations_become_protobuf_strings(text: str, wire: str) -> None:
    assert protobuf_duration(text) == wire


def test_create_body_has_exactly_one_mode() -> None:
    spec: JSONObject = {"query_type": "SOURCE_TO_DESTINATION"}
    cached = create_body(spec, {"mode": "if_available", "max_staleness": "12h"})
    assert cached == {"cached_result_if_available": {"request": {"body": spec}, "max_staleness": "43200s"}}
    assert create_body(spec, {"mode": "immediate"}) == {"immediate_run": {"request": {"body": spec}}}
    assert create_body(spec, {"mode": "context", "cache_id": "c-1"}) == {"cached_result_context": {"cache_id": "c-1"}}
    resolved = create_body(spec, {"mode": "context", "cache_id": "previous"}, cache_id="c-9")
    assert resolved == {"cached_result_context": {"cache_id": "c-9"}}


def test_effective_cache_layers_default_query_and_override() -> None:
    defaults: JSONObject = {"mode": "if_available", "max_staleness": "24h"}
    assert effective_cache(unit("a"), defaults) == defaults
    assert effective_cache(unit("a", cache={"max_staleness": "1h"}), defaults)["max_staleness"] == "1h"
    assert effective_cache(unit("a", cache={"mode": "immediate"}), defaults) == {"mode": "immediate"}
    assert effective_cache(unit("a"), defaults, override="immediate") == {"mode": "immediate"}


def names(chosen: list[QueryUnit]) -> list[str]:
    return [u.name for u in chosen]


def test_selectors() -> None:
    units = [unit("okta-a", tags=["okta", "nightly"], owner="iam"), unit("aws-b", path="queries/aws/b.yaml",
             tags=["aws"], owner="cloud"), unit("okta-c", owner="cloud")]
    assert names(select_units(units, select=["okta-*"])) == ["okta-a", "okta-c"]
    assert names(select_units(units, select=["tag:nightly"])) == ["okta-a"]
    assert names(select_units(units, select=["owner:cloud"])) == ["aws-b", "okta-c"]
    assert names(select_units(units, select=["path:queries/aws"])) == ["aws-b"]
    assert names(select_units(units, select=["okta-*"], exclude=["owner:iam"])) == ["okta-c"]
    assert names(select_units(units)) == ["okta-a", "aws-b", "okta-c"]
    with pytest.raises(UsageError):
        select_units(units, select=["color:red"])
