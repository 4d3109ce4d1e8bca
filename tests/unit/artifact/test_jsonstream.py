"""run.json streamed a query entry at a time is the very text `json.dumps(indent=2)` gave for the whole document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.artifact import RunDir
from runner.artifact.jsonstream import RunDocument, document_chunks
from runner.artifact.runjson import _redacted
from runner.model import JSONObject
from runner.sanitize import json_text
from runner.secret import SECRET_FILTER, Secret

ENTRIES: list[list[JSONObject]] = [[], [{}], [{"name": "a", "spec": {"x": [1, 2.5, None, True]}, "e": []},
                                               {"name": "b\u0085\u202e\x7f", "nested": {"deep": [{"k": "é"}]}}]]
FIELDS: list[JSONObject] = [{"queries": None}, {"a": 1, "queries": None},
                            {"$schema": "s", "queries": None, "bodies": {"q": "h"}, "tail": [], "empty": {}}]


def _whole(fields: JSONObject, entries: list[JSONObject]) -> str:
    return json_text(json.dumps({k: (entries if k == "queries" else v) for k, v in fields.items()}, indent=2,
                                ensure_ascii=False))


@pytest.mark.parametrize("fields", FIELDS)
@pytest.mark.parametrize("entries", ENTRIES)
def test_streamed_text_is_the_one_string_text(fields: JSONObject, entries: list[JSONObject]) -> None:
    document = RunDocument(fields, "queries", lambda: iter(entries))
    assert "".join(document_chunks(document)) == _whole(fields, entries)
    assert document.to_json() == {k: (entries if k == "queries" else v) for k, v in fields.items()}


def test_a_plain_object_is_written_as_before() -> None:
    assert "".join(document_chunks({})) == "{}"
    value: JSONObject = {"a": {"b": [1, {"c": "\x9b"}]}, "d": "x"}
    assert "".join(document_chunks(value)) == json_text(json.dumps(value, indent=2, ensure_ascii=False))


def test_publish_writes_the_streamed_document(tmp_path: Path) -> None:
    run = RunDir(reports=tmp_path, run_id="r")
    run.create()
    entries: list[JSONObject] = [{"name": f"q{i}", "rows": i} for i in range(3)]
    run.publish(RunDocument({"run_id": "r", "queries": None, "end": True}, "queries", lambda: iter(entries)))
    text = run.run_file.read_text(encoding="utf-8")
    assert text == json.dumps({"run_id": "r", "queries": entries, "end": True}, indent=2) + "\n"


def test_entries_are_redacted_and_copied_only_where_a_key_was(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "vqr-test-key-0123456789abcdef"
    monkeypatch.setattr(SECRET_FILTER, "_secrets", [Secret(key)])
    clean: JSONObject = {"a": [{"b": "nothing"}], "c": {"d": 1}}
    assert _redacted(clean) is clean
    echoed: JSONObject = {"a": [{"b": f"x{key}y"}, "z"], "c": {"d": 1}, "e": [key]}
    out = _redacted(echoed)
    assert out == {"a": [{"b": "x***y"}, "z"], "c": {"d": 1}, "e": ["***"]}
    assert echoed["e"] == [key] and out["c"] is echoed["c"]  # the input is left alone; unchanged parts shared
