"""The CSV made a column at a time (report/csv_columns.py) is byte for byte the CSV made row by row through
`csv.writer`, for any rows: the same fields in the same order, the same escaping, quoting and numbers. Rows that it
cannot vouch for (a field missing, an extra field, an object where a value was) are written row by row, and the
usual result (every row with the same fields) never is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.flatten import flatten_row
from runner.model import JSONValue
from runner.report import csv_export
from runner.report.csv_columns import field_path
from runner.report.csv_export import CsvSink, write_csv
from runner.secret import SECRET_FILTER, Secret

KEY = "columns-canary-key-7e21"  # registered in the equivalence test: a cell holding it is redacted on both paths
# Keys that flatten escapes or csv quotes, and texts that csv_cell escapes or csv.writer quotes.
KEYS = st.sampled_from(["id", "type", "name", "a", "b", "a.b", "b\\c", "x.", "", "=f", "k,1", 'q"', "n\nl"])
TEXTS = st.sampled_from(["", "plain", "=1+1", "+1", "-2", "@x", "\tt", "\rr", " ::x", "::y", "a,b", 'say "hi"',
                         "two\nlines", "cr\r\nlf", "\x1b[31m", "\x9b", "true", "1", "[]", "é", "\u202e", KEY,
                         f"echo {KEY}", KEY[:6]]) | st.text()
LEAVES = (TEXTS | st.integers(min_value=-2**63, max_value=2**63 - 1) | st.booleans() | st.none()
          | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e-7, 1e22, 1.5])
          | st.lists(st.integers() | st.text(max_size=3), max_size=3))
OBJECTS = st.recursive(st.dictionaries(KEYS, LEAVES, max_size=5),
                       lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


@st.composite
def results(draw: st.DrawFn) -> list[JSONValue]:
    """Rows that share one shape (the values redrawn): all of them, or with some changed: a key dropped or added,
    an object where a value was, now and then a row that is not an object."""
    template: dict[str, Any] = draw(OBJECTS)
    uniform = draw(st.booleans())  # half the examples are the usual result, the columns' own path

    def refill(value: Any) -> Any:
        return {k: refill(v) for k, v in value.items()} if isinstance(value, dict) else draw(LEAVES)

    rows: list[JSONValue] = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        row = refill(template)
        change = "none" if uniform else draw(st.sampled_from(["none"] * 6 + ["drop", "add", "object", "scalar",
                                                                               "reorder"]))
        if change == "drop" and row:
            row.pop(draw(st.sampled_from(sorted(row))))
        elif change == "add":
            row[draw(KEYS)] = draw(LEAVES)
        elif change == "object":  # mostly where the template holds a value: the same keys, another field
            row[draw(st.sampled_from(sorted(row))) if row and draw(st.booleans()) else draw(KEYS)] = draw(OBJECTS)
        elif change == "reorder":  # the same fields in another order
            row = dict(reversed(row.items()))
        rows.append(cast(JSONValue, draw(LEAVES)) if change == "scalar" else row)
    return rows


def _jsonl(path: Path, rows: list[JSONValue]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")  # keys in their order
    return path


def _row_by_row(monkeypatch: pytest.MonkeyPatch, jsonl: Path, out: Path) -> bytes:
    with monkeypatch.context() as patched:
        patched.setattr(csv_export, "column_lines", lambda *args, **kwargs: None)
        write_csv(jsonl, out)
    return out.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=results())
def test_columns_make_the_bytes_of_the_row_by_row_writer(rows: list[JSONValue], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SECRET_FILTER, "_secrets", [Secret(KEY)])
    jsonl = _jsonl(tmp_path / "q.jsonl", rows)
    expected = _row_by_row(monkeypatch, jsonl, tmp_path / "row.csv")
    assert write_csv(jsonl, tmp_path / "columns.csv") == len(rows)
    assert (tmp_path / "columns.csv").read_bytes() == expected
    with monkeypatch.context() as patched:  # the streamed path (a large result) chunk by chunk, and the sink
        patched.setattr(csv_export, "KEPT_ROWS", 2)
        patched.setattr(csv_export, "CHUNK_ROWS", 3)
        write_csv(jsonl, tmp_path / "streamed.csv")
    assert (tmp_path / "streamed.csv").read_bytes() == expected
    sink = CsvSink(jsonl)
    sink.feed(rows)
    sink.prepare()
    sink.save()
    assert jsonl.with_suffix(".csv").read_bytes() == expected
    assert KEY.encode() not in expected


@pytest.mark.parametrize("name", ["a", "a.b", "a\\.b", "a\\\\.b", "a\\\\\\.b.c", ".", "x.", "", "\\\\"])
def test_a_field_name_splits_into_the_keys_flatten_escaped(name: str) -> None:
    keys = field_path(name)
    row: Any = 1
    for key in reversed(keys):
        row = {key: row}
    assert list(flatten_row(row)) == [name]


def _counting_rows_written_one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    written: list[int] = []
    original = csv_export._RowWriter.write

    def write(self: Any, flat_rows: Any) -> int:
        count = original(self, flat_rows)
        written.append(count)
        return count

    monkeypatch.setattr(csv_export._RowWriter, "write", write)
    return written


def test_the_usual_result_is_never_written_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[JSONValue] = [{"id": f"u{i}", "type": "OktaUser", "risk_level": None if i % 3 else "HIGH",
                              "properties": {"name": f"User, {i}", "active": i % 2 == 0, "logins": i,
                                             "score": i / 4, "tags": [] if i % 2 else ["x"]}}
                             for i in range(2_500)]
    jsonl = _jsonl(tmp_path / "q.jsonl", rows)
    expected = _row_by_row(monkeypatch, jsonl, tmp_path / "row.csv")
    written = _counting_rows_written_one_by_one(monkeypatch)
    assert write_csv(jsonl, tmp_path / "q.csv") == 2_500
    assert (tmp_path / "q.csv").read_bytes() == expected
    assert written == []
    monkeypatch.setattr(csv_export, "KEPT_ROWS", 100)  # streamed in chunks: still a column at a time
    write_csv(jsonl, tmp_path / "streamed.csv")
    assert (tmp_path / "streamed.csv").read_bytes() == expected and written == []


def test_a_row_with_another_field_sends_its_chunk_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[JSONValue] = [{"id": "a", "n": 1}, {"id": "b", "n": 2, "extra": "x"}, {"id": "c", "n": {"deep": 3}}]
    # The first and third rows have the same keys: only the value's type says the third has another field.
    jsonl = _jsonl(tmp_path / "q.jsonl", rows)
    written = _counting_rows_written_one_by_one(monkeypatch)
    write_csv(jsonl, tmp_path / "q.csv")
    assert written == [3]
    assert write_csv(_jsonl(tmp_path / "two.jsonl", [rows[0], rows[2]]), tmp_path / "two.csv") == 2
    assert written == [3, 2] and (tmp_path / "two.csv").read_bytes() == b"id,n,n.deep\r\na,1,\r\nc,,3\r\n"
    header, *lines = (tmp_path / "q.csv").read_bytes().decode().split("\r\n")
    assert header == "id,extra,n,n.deep" and lines[:3] == ["a,,1,", "b,x,2,", "c,,,3"]
