"""The sandbox's reading of saved-query bodies, report bodies, list filters, flags and ids (`saved_check`)."""

from __future__ import annotations

from typing import Any

import pytest

from runner.sandbox.saved_check import flag, list_filter, object_id, query_body, report_body
from runner.sandbox.schema_check import BodyChecker
from runner.sandbox.wire import ApiError

SPEC: dict[str, Any] = {"query_type": "SOURCE_TO_DESTINATION",
                        "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}


@pytest.mark.parametrize(("raw", "name"), [
    (None, None), ("", None), ("  ", None), ('name eq "a b"', "a b"), ('  name EQ "x"  ', "x"),
    ('name eq "say \\"hi\\""', 'say "hi"'), ('name eq "back\\\\slash"', "back\\slash"), ('name eq ""', ""),
])
def test_the_name_filter(raw: str | None, name: str | None) -> None:
    assert list_filter(raw) == name


@pytest.mark.parametrize("raw", ["name = 'a'", 'id eq "x"', 'name eq "a" and name eq "b"', 'name eq "unclosed'])
def test_other_filters_are_refused(raw: str) -> None:
    with pytest.raises(ApiError) as caught:
        list_filter(raw)
    assert caught.value.status == 400 and caught.value.details[0]["field_violations"][0]["field"] == "filter"


def test_flags_read_what_the_sdk_sends() -> None:
    assert [flag(raw, "force") for raw in ("True", "true", "1", "False", "0", "", None)] == [
        True, True, True, False, False, False, False]
    with pytest.raises(ApiError):
        flag("yes", "force")


def test_ids_are_uuids_in_canonical_form() -> None:
    assert object_id("0DA1DCA3FE354684A0C449DC10FF4F6A", "report") == "0da1dca3-fe35-4684-a0c4-49dc10ff4f6a"
    with pytest.raises(ApiError) as caught:
        object_id("../etc", "report")
    assert caught.value.status == 400


def test_a_query_body_keeps_its_nulls_and_drops_read_only_fields() -> None:
    body = {"id": "x", "name": "n", "result_type": "NUMBER", "access_filter": None, **SPEC, "query_type": 1}
    assert query_body(body, BodyChecker(lenient=False)) == {"name": "n", "access_filter": None, **SPEC}


def test_lenient_mode_stores_the_pruned_spec() -> None:
    body = {"name": "n", **SPEC, "not_a_field": 1, "access_filter": None}
    assert query_body(body, BodyChecker(lenient=True)) == {"name": "n", **SPEC}
    with pytest.raises(ApiError) as caught:
        query_body(body, BodyChecker(lenient=False))
    assert "not_a_field" in caught.value.message


def test_a_report_body_in_lenient_and_strict_mode() -> None:
    body = {"id": "r", "name": "R", "queries": [{"query": "a", "extra": 1}], "colour": "red"}
    assert report_body(dict(body), lenient=True, is_query=lambda _: True) == {"name": "R", "queries": [{"query": "a"}]}
    with pytest.raises(ApiError) as caught:
        report_body(body, lenient=False, is_query=lambda _: True)
    fields = {v["field"] for v in caught.value.details[0]["field_violations"]}
    assert fields == {"colour", "queries[0].extra"}
