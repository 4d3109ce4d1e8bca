"""The end of compile: matrix combinations, and rendered units becoming typed `Query` values with the project's
default cache policy applied."""

from __future__ import annotations

from runner.compile.matrix import matrix_combinations
from runner.compile.queries import effective_cache, to_query
from runner.model.query import Context, IfAvailable, Immediate
from runner.model.values import Document, JSONObject, JSONValue, Position, QueryUnit

DEFAULTS: JSONObject = {"mode": "if_available", "max_staleness": "24h"}


def unit(name: str, **body: JSONValue) -> QueryUnit:
    doc = Document(path="queries/a.yaml", data={}, values={(): Position(line=1, column=1)}, keys={})
    return QueryUnit(doc=doc, name=name, matrix={"k": 1}, body={"name": name, **body})


def test_matrix_is_the_product_in_file_order() -> None:
    combos = list(matrix_combinations({"perm": ["DATA_WRITE", "DATA_DELETE"], "type": ["S3Bucket"]}))
    assert combos == [{"perm": "DATA_WRITE", "type": "S3Bucket"}, {"perm": "DATA_DELETE", "type": "S3Bucket"}]
    assert list(matrix_combinations(None)) == [{}]


def test_effective_cache_layers_the_default_under_the_query() -> None:
    assert effective_cache(None, DEFAULTS) == DEFAULTS
    assert effective_cache({"max_staleness": "1h"}, DEFAULTS) == {"mode": "if_available", "max_staleness": "1h"}
    assert effective_cache({"mode": "immediate"}, DEFAULTS) == {"mode": "immediate"}  # another mode: no default
    assert effective_cache({"mode": "if_available"}, DEFAULTS)["max_staleness"] == "24h"


def test_a_unit_becomes_a_typed_query() -> None:
    query = to_query(unit("q", spec={"query_type": "SOURCE_TO_DESTINATION"}, tags=["okta", "nightly"],
                          owner="iam", description="d", timeout="5m", enabled=False,
                          expect=[{"rows": {"max": 0}}], drift={"ignore": ["last_login"]},
                          cache={"mode": "context", "on_expired": "run"}), DEFAULTS)
    assert query.name == "q" and query.file == "queries/a.yaml" and query.matrix == {"k": 1}
    assert query.spec == {"query_type": "SOURCE_TO_DESTINATION"}
    assert query.cache == Context(cache_id="previous", on_expired="run")
    assert (query.tags, query.owner, query.description, query.timeout) == (("okta", "nightly"), "iam", "d", "5m")
    assert query.enabled is False and query.expect == [{"rows": {"max": 0}}]
    assert query.drift_ignore == ("last_login",)


def test_defaults_and_each_mode() -> None:
    plain = to_query(unit("p"), DEFAULTS)
    assert plain.cache == IfAvailable(max_staleness="24h") and plain.enabled and plain.owner is None
    assert plain.spec == {} and plain.tags == () and plain.timeout is None
    assert to_query(unit("i", cache={"mode": "immediate"}), DEFAULTS).cache == Immediate()
    assert to_query(unit("c", cache={"mode": "context", "cache_id": "c-1"}), DEFAULTS).cache == Context(cache_id="c-1")


def test_the_staleness_named_under_another_default_mode_is_kept_for_a_cache_override() -> None:
    query = to_query(unit("s", cache={"max_staleness": "12h"}), {"mode": "immediate"})
    assert query.cache == Immediate() and query.max_staleness == "12h"


def test_the_severity_is_the_querys_own_else_medium() -> None:
    assert to_query(unit("h", severity="critical"), DEFAULTS).severity == "critical"
    assert to_query(unit("m"), DEFAULTS).severity == "medium"
