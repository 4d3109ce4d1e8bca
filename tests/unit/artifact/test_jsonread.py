"""The streamed reader of run.json agrees with json.loads, whatever the block boundaries cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.artifact import jsonread
from runner.artifact.jsonread import read_streamed
from runner.model import JSONValue

DOCUMENT: dict[str, JSONValue] = {
    "run_id": "r", "seconds": 12345.678, "flag": True, "none": None,
    "queries": [{"name": f"q{i}", "n": i * 1000003, "s": "é\u202e" * i, "l": [1, [2, {"x": None}]]} for i in range(40)],
    "bodies": {f"q{i}": "h" * 50 for i in range(40)}, "last": 1234567890123,
}


def _names(value: JSONValue) -> str:
    assert isinstance(value, dict)
    return str(value["name"])


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("block", [1, 7, 64, 1 << 16])
def test_same_values_as_json_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indent: int | None,
                                   block: int) -> None:
    monkeypatch.setattr(jsonread, "_BLOCK", block)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(DOCUMENT, indent=indent, ensure_ascii=False), encoding="utf-8")
    fields, items = read_streamed(path, "queries", lambda q: q)
    expected = dict(DOCUMENT)
    assert items == expected.pop("queries")
    assert fields == expected
    assert list(fields) == list(expected)  # field order kept


def test_entries_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    _, items = read_streamed(path, "queries", _names)
    assert items == [f"q{i}" for i in range(40)]


def test_no_list_under_the_key(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"queries": 3, "a": []}', encoding="utf-8")
    assert read_streamed(path, "queries", _names) == ({"queries": 3, "a": []}, None)
    path.write_text('{}', encoding="utf-8")
    assert read_streamed(path, "queries", _names) == ({}, None)


@pytest.mark.parametrize("text", ['{"a": 1', '{"a": 1} x', '{"queries": [{"name": "a"},]}', '{1: 2}',
                                  '{"a": tru}', '', '{"a": 1,}'])
def test_what_json_loads_refuses_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        read_streamed(path, "queries", lambda q: q)


def test_a_top_level_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("[1]", encoding="utf-8")
    with pytest.raises(ValueError, match="expected"):
        read_streamed(path, "queries", lambda q: q)
