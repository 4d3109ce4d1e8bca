"""`CsvSink`: the CSV `vqr run` makes from the rows as it writes them is byte for byte the CSV `write_csv` makes from
the results file afterwards (which `vqr report` and the after-run step use), whatever the result's size."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from runner.model import JSONValue
from runner.report import csv_export
from runner.report.csv_export import CsvSink, write_csv

# Texts and non-texts that print alike share columns: a cell remembered for the text "true" must not serve True,
# nor "1" serve 1 (True == 1 in a dict). Formula-like and control-character texts are escaped either way.
ROWS: list[JSONValue] = [
    {"id": "a", "type": "OktaUser", "flag": True, "n": 1, "s": "true", "t": "1",
     "properties": {"name": "=HYPERLINK(\"x\")", "note": "line\nbreak"}, "tags": []},
    {"id": "b", "type": "OktaUser", "flag": "true", "n": "1", "s": True, "t": 1,
     "properties": {"name": "\x1b[31mred", "note": None}, "tags": [{"key": "k", "value": "v"}]},
    {"id": "c", "type": "OktaUser", "flag": False, "n": 1.5, "s": None, "t": "+1",
     "properties": {"name": "plain", "extra": {"deep": "x"}}, "tags": []},
]


def _jsonl(path: Path, rows: list[JSONValue]) -> Path:
    path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    return path


def _sunk(jsonl: Path, pages: list[list[JSONValue]]) -> bytes:
    sink = CsvSink(jsonl)
    for page in pages:
        sink.feed(page)
    sink.prepare()
    sink.save()
    return jsonl.with_suffix(".csv").read_bytes()


def test_the_rows_fed_page_by_page_give_the_bytes_of_the_results_file(tmp_path: Path) -> None:
    jsonl = _jsonl(tmp_path / "q.jsonl", ROWS * 4)
    assert write_csv(jsonl, tmp_path / "from-file.csv") == 12
    expected = (tmp_path / "from-file.csv").read_bytes()
    assert _sunk(jsonl, [ROWS[:2], ROWS[2:] + ROWS, [], ROWS * 2]) == expected
    lines = expected.decode().split("\r\n")
    assert lines[1].split(",")[:2] == ["a", "OktaUser"] and "'=HYPERLINK" in expected.decode()
    assert "\x1b" not in expected.decode()


def test_remembered_cells_never_stand_for_a_number_or_boolean(tmp_path: Path) -> None:
    jsonl = _jsonl(tmp_path / "q.jsonl", ROWS)
    header, *table = csv.reader(io.StringIO(_sunk(jsonl, [ROWS]).decode(), newline=""))
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in table}
    assert (by_id["a"]["flag"], by_id["b"]["flag"], by_id["c"]["flag"]) == ("true", "true", "false")
    assert (by_id["a"]["t"], by_id["b"]["t"], by_id["c"]["t"]) == ("1", "1", "'+1")
    assert (by_id["a"]["n"], by_id["c"]["n"]) == ("1", "1.5")


def test_a_large_result_is_written_from_its_file_with_the_same_bytes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[JSONValue] = [{"id": f"n{i}", "type": "T", "properties": {"i": i, "k": f"v{i % 3}"}}
                             for i in range(40)]
    jsonl = _jsonl(tmp_path / "q.jsonl", rows)
    write_csv(jsonl, tmp_path / "from-file.csv")
    monkeypatch.setattr(csv_export, "LIVE_ROWS", 5)
    monkeypatch.setattr(csv_export, "MEMO_CELLS", 1)  # past the memo's bound cells are made one by one
    sink = CsvSink(jsonl)
    for start in range(0, 40, 10):
        sink.feed(rows[start:start + 10])
    sink.prepare()
    jsonl.with_suffix(".csv").write_text("stale")
    sink.save()
    assert jsonl.with_suffix(".csv").read_bytes() == (tmp_path / "from-file.csv").read_bytes()


def test_a_results_file_that_is_gone_is_an_os_error_for_the_caller(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_export, "LIVE_ROWS", 1)
    sink = CsvSink(tmp_path / "missing.jsonl")
    sink.feed(ROWS)
    sink.prepare()
    with pytest.raises(OSError):
        sink.save()
