"""Which shape a document is, by its keys, and what each shape gives: spec, cache, name, description, tags, notes;
every refusal is one line naming the source."""

from __future__ import annotations

import json

import pytest

from runner.importer import ImportRefused, detect
from runner.importer.shapes import SPEC_KEYS
from runner.model import JSONValue
from runner.resources import bundled_schemas_dir

SPEC: dict[str, JSONValue] = {"query_type": "SOURCE_TO_DESTINATION",
                              "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}


def one(value: JSONValue) -> dict[str, object]:
    [candidate] = detect(value, source="in.json", stem="in")
    return {"shape": candidate.shape, "spec": candidate.spec, "cache": candidate.cache,
            "name": candidate.name_hint, "description": candidate.description, "tags": candidate.tags}


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(SPEC, {"shape": "spec", "spec": SPEC, "cache": None, "name": "in", "description": None,
                        "tags": ()}, id="bare spec: named after the file"),
    pytest.param({"cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "3600s"}},
                 {"shape": "create request", "spec": SPEC, "cache": {"mode": "if_available",
                                                                     "max_staleness": "3600s"},
                  "name": "in", "description": None, "tags": ()}, id="if_available keeps its staleness"),
    pytest.param({"cached_result_if_available": {"request": {"body": SPEC}}, "immediate_run": None},
                 {"shape": "create request", "spec": SPEC, "cache": {"mode": "if_available", "max_staleness": "24h"},
                  "name": "in", "description": None, "tags": ()}, id="no staleness: Veza's 24h, a null mode unset"),
    pytest.param({"immediate_run": {"request": {"body": SPEC}}},
                 {"shape": "create request", "spec": SPEC, "cache": {"mode": "immediate"}, "name": "in",
                  "description": None, "tags": ()}, id="immediate_run"),
    pytest.param({"request": {"body": SPEC}},
                 {"shape": "create request", "spec": SPEC, "cache": {"mode": "if_available", "max_staleness": "24h"},
                  "name": "in", "description": None, "tags": ()}, id="deprecated request"),
    pytest.param({"name": "Admins", "description": "who", "labels": ["a", "b"], "id": "x", "created_at": "t",
                  "result_type": "NUMBER", **SPEC},
                 {"shape": "saved query", "spec": SPEC, "cache": None, "name": "Admins", "description": "who",
                  "tags": ("a", "b")}, id="saved query: read-only keys dropped"),
    pytest.param({"value": {"name": "Admins", "description": "", "labels": [], **SPEC}},
                 {"shape": "saved query", "spec": SPEC, "cache": None, "name": "Admins", "description": None,
                  "tags": ()}, id="saved query in Veza's {value: ...} reply"),
    pytest.param({"name": "   ", **SPEC, "labels": None},
                 {"shape": "saved query", "spec": SPEC, "cache": None, "name": "in", "description": None,
                  "tags": ()}, id="a blank name: the file's"),
])
def test_each_shape_gives_its_query(value: JSONValue, expected: dict[str, object]) -> None:
    assert one(value) == expected


def test_a_report_gives_one_query_per_entry_tagged_with_its_slugged_name() -> None:
    report: JSONValue = {"name": "GitHub Hygiene (2023)", "version": 1, "queries": [
        {"name": "One", "labels": ["github"], **SPEC}, {"value": {**SPEC, "category": "x", "level": "HIGH"}}]}
    first, second = detect(report, source="r.json", stem="r")
    assert (first.shape, first.name_hint, first.tags, first.source) == (
        "report entry", "One", ("github", "github-hygiene-2023"), "r.json entry 1")
    assert (second.name_hint, second.tags, second.spec) == ("github-hygiene-2023-2", ("github-hygiene-2023",), SPEC)
    assert second.notes == ("dropped saved-query keys vqr has no place for: category, level",)


def test_the_deprecated_request_says_what_it_became() -> None:
    [candidate] = detect({"request": {"body": SPEC}}, source="in.json", stem="in")
    assert "deprecated" in candidate.notes[0] and "[assumed]" in candidate.notes[0]


@pytest.mark.parametrize(("value", "message"), [
    ([SPEC], "in.json is not a JSON object"),
    ({"foo": 1, "bar": 2}, "in.json: not a Veza query spec, create request, saved query or report file "
                           "(top-level keys: bar, foo)"),
    ({}, "(an empty object)"),
    ({"immediate_run": {"request": {"body": SPEC}}, "cached_result_if_available": {"request": {"body": SPEC}}},
     "sets exactly one of cached_result_if_available, immediate_run, cached_result_context "
     "(set: cached_result_if_available, immediate_run)"),
    ({"immediate_run": {"request": {"body": SPEC}}, "name": "x"}, "unexpected keys: name"),
    ({"immediate_run": {"request": {}}}, "in.json: immediate_run.request.body (the spec) is not a JSON object"),
    ({"cached_result_context": {"cache_id": "abc"}}, "holds only a cache id ('abc'), no spec"),
    ({"cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "soon"}},
     "max_staleness 'soon' is not a duration"),
    ({"name": "r", "queries": []}, "in.json: report 'r' has no queries"),
    ({"name": "", "queries": [SPEC]}, "in.json: a report file needs a `name`"),
    ({"name": "r", "queries": [SPEC, 3]}, "in.json entry 2 is not a JSON object"),
    ({"name": "q", "labels": "prod", **SPEC}, "in.json: `labels` is not a list of strings"),
])
def test_what_cannot_be_imported_is_said_in_one_line(value: JSONValue, message: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        detect(value, source="in.json", stem="in")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_untrusted_keys_are_cut_in_messages() -> None:
    with pytest.raises(ImportRefused) as refused:
        detect({"x" * 1_000_000: 1, "\x1b]0;owned\x07\nfake": 2}, source="in.json", stem="in")
    assert len(str(refused.value)) < 300
    assert "x" * 60 + "..." in str(refused.value)


def test_spec_keys_are_the_bundled_schemas_spec_properties() -> None:
    # SPEC_KEYS tells a bare spec apart from other JSON: a field added to the OpenAPI subset must be added there too.
    schema = json.loads((bundled_schemas_dir() / "query-spec.schema.json").read_text(encoding="utf-8"))
    assert set(schema["$defs"]["AssessmentQuerySpec"]["properties"]) == SPEC_KEYS
