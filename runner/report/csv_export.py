"""`results/<query>.csv` beside each `results/<query>.jsonl`: the rows with nested properties flattened.

`write_csv(jsonl, csv_path) -> int` reads the JSON-lines file once, holding the rows of a typical result, and a
second time only when it is large (its columns first, then its rows streamed: memory stays flat whatever the row
count); it writes the CSV atomically and returns the number of rows (`csv_beside(jsonl)`: at
`results/<query>.csv`). The usual result, whose rows all have the same fields, is written a column at a time
(`csv_columns.column_lines`, in C for the most part); any other rows one by one (`_RowWriter`), with the same bytes.
Columns: the identifying ones first in a fixed order, then every other field in sorted order, so the same rows
always give the same columns. Lists are JSON text; a text cell
or header that a spreadsheet would run as a formula is prefixed with `'`. At most MAX_COLUMNS columns: past that
the most frequent fields keep theirs and a last `_more (JSON)` column holds each row's other fields as JSON, so a
reply whose rows each bring new keys costs rows + keys, not rows x keys, and no value is lost.
`CsvSink(jsonl)` makes the same bytes from the rows as `vqr run` writes them (`model.ResultSink`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from runner.files import atomic_output
from runner.flatten import Scalar, flatten_row
from runner.jsontext import parse_line
from runner.report.csv_columns import cell, column_lines, field_path, raw_shape
from runner.sanitize import csv_cell

if TYPE_CHECKING:  # the CSV worker (report/csv_serve.py) imports this module without the model
    from runner.model import JSONValue

LEADING = ("id", "type", "name", "properties.name", "source.id", "source.type", "source.properties.name",
           "destination.id", "destination.type", "destination.properties.name", "risk_level",
           "destination_node_count")


def _rows(path: Path) -> Iterator[JSONValue]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield parse_line(line)


KEPT_ROWS = 5_000  # rows held from the first read: a typical result is parsed once and written from memory


MAX_COLUMNS = 1_000  # a spreadsheet's practical width; 50,000 distinct keys once made a 2.5 GB file of empty cells
MORE = "_more (JSON)"  # a header no row key gives: flattened keys hold no space-paren pair in practice


def _ordered(seen: dict[str, int]) -> tuple[list[str], bool]:
    """The named columns, and whether the fields that have none go into a last `_more (JSON)` column."""
    leading = [c for c in LEADING if c in seen]
    others = sorted(set(seen) - set(LEADING))
    room = MAX_COLUMNS - len(leading)
    if len(others) > room:  # the most frequent fields keep a column, ties by name: the same rows, the same columns
        return leading + sorted(sorted(others, key=lambda c: (-seen[c], c))[:room - 1]), True
    return leading + others, False


MAX_SHAPES = 1_000  # distinct field sets counted as such; past it fields are counted one by one (memory stays flat)


class FlatRows:
    """How often each field appears in the rows fed (the columns); the rows themselves are not kept."""

    def __init__(self) -> None:
        # Rows of one result nearly all have the same fields: counted by field set (one tuple and one lookup a
        # row), the sets turned into fields once, when they are asked for. A row's field set is looked up by its
        # raw shape (csv_columns.raw_shape, its keys and their types, in C), so a row is flattened only when its
        # shape is new: flattening every row was a third of the worker's time.
        self._shapes: dict[tuple[str, ...], int] = {}
        self._fields: dict[str, int] | None = None  # once rows bring too many field sets
        self._by_shape: dict[tuple[object, ...], tuple[str, ...]] = {}

    @property
    def seen(self) -> dict[str, int]:
        """How many rows have each field."""
        seen = dict(self._fields or {})
        for shape, count in self._shapes.items():
            for key in shape:
                seen[key] = seen.get(key, 0) + count
        return seen

    def _field_set(self, row: JSONValue) -> tuple[str, ...]:
        raw = raw_shape(row)
        fields = self._by_shape.get(raw) if raw is not None else None
        if fields is None:
            fields = tuple(flatten_row(row))
            if raw is not None and len(self._by_shape) < MAX_SHAPES:
                self._by_shape[raw] = fields
        return fields

    def feed(self, rows: Iterable[JSONValue]) -> None:
        for row in rows:
            fields = self._field_set(row)
            if self._fields is None:
                self._shapes[fields] = self._shapes.get(fields, 0) + 1
                if len(self._shapes) > MAX_SHAPES:
                    self._fields, self._shapes = self.seen, {}
            else:
                counts = self._fields
                for key in fields:
                    counts[key] = counts.get(key, 0) + 1


def _same_fields(rows: list[JSONValue]) -> tuple[list[str], list[str]] | None:
    """The usual result, whose rows all have the first row's fields and no other: its columns and CSV lines (a
    text per CHUNK_ROWS rows: the columns of one chunk at a time), with no scan of each row's fields (None: some row
    differs, or there are none, or one column)."""
    if not rows:
        return None
    named, more = _ordered(dict.fromkeys(flatten_row(rows[0]), 1))
    if more or len(named) < 2:
        return None
    paths = [field_path(column) for column in named]
    texts: list[str] = []
    for chunk in _chunks(rows):
        lines = column_lines(chunk, paths, exact=True)
        if lines is None:
            return None
        texts.append(lines)
    return named, texts


def _write_held(text: TextIO, rows: list[JSONValue]) -> int:
    """The CSV of a whole result held in memory (at most KEPT_ROWS rows); its row count."""
    same = _same_fields(rows)
    if same is not None:
        named, texts = same
        _header(csv.writer(text, lineterminator="\r\n"), named, False)
        text.writelines(texts)
        return len(rows)
    flat = FlatRows()
    flat.feed(rows)
    return _write_rows(text, *_ordered(flat.seen), rows)


def _header(writer: Any, named: list[str], more: bool) -> None:
    writer.writerow([csv_cell(column) for column in ([*named, MORE] if more else named)])  # headers are data too


MEMO_CELLS = 10_000  # distinct texts whose cell is remembered per file: types, levels and "[]" repeat on every row


CHUNK_ROWS = 1_000  # rows made into cells a column at a time: the columns of one chunk are what is held


def _write_rows(text: TextIO, named: list[str], more: bool, rows: Iterable[JSONValue]) -> int:
    writer = csv.writer(text, lineterminator="\r\n")
    _header(writer, named, more)
    paths = [field_path(column) for column in named]
    by_row = _RowWriter(writer, named, more)
    return sum(_write_chunk(text, paths, by_row, chunk, more) for chunk in _chunks(rows))


def _chunks(rows: Iterable[JSONValue]) -> Iterator[list[JSONValue]]:
    """`rows` CHUNK_ROWS at a time, the last chunk shorter (none for no rows)."""
    stream = iter(rows)
    while chunk := list(islice(stream, CHUNK_ROWS)):
        yield chunk


def _write_chunk(text: TextIO, paths: list[tuple[str, ...]], by_row: _RowWriter, chunk: list[JSONValue],
                 more: bool) -> int:
    lines = column_lines(chunk, paths) if len(paths) > 1 and not more else None
    if lines is None:  # some row lacks a field, or holds an object where others hold a value
        return by_row.write(map(flatten_row, chunk))
    text.write(lines)
    return len(chunk)


class _RowWriter:
    """The cells of flattened rows one row at a time: what `column_lines` does a column at a time, for the rows it
    cannot vouch for, and for `_more (JSON)`."""

    def __init__(self, writer: Any, named: list[str], more: bool) -> None:
        self._writer, self._named, self._more = writer, named, more
        self._known = set(named)
        self._memo: dict[str, str] = {}

    def write(self, flat_rows: Iterable[dict[str, Scalar]]) -> int:
        named, memo, count = self._named, self._memo, 0
        for flat in flat_rows:
            row: list[str | int | float | None] = []
            append = row.append
            for column in named:
                value = flat.get(column)
                kind = value.__class__
                if kind is str:  # a text's cell is remembered: not a bool's or number's (True == 1 in a dict)
                    raw: str = value  # type: ignore[assignment]
                    shown = memo.get(raw)
                    if shown is None:
                        shown = csv_cell(raw)
                        if len(memo) < MEMO_CELLS:
                            memo[raw] = shown
                    append(shown)
                elif value is None or kind is int or kind is float:
                    append(value)  # the C writer writes None as "" and a number as json does (repr)
                else:
                    append(cell(value))
            if self._more:
                rest = {k: v for k, v in flat.items() if k not in self._known}
                row.append(csv_cell(json.dumps(rest, sort_keys=True)) if rest else "")
            self._writer.writerow(row)
            count += 1
        return count


def write_csv(jsonl: Path, csv_path: Path) -> int:
    """Raises OSError or ValueError when the results file is missing or not JSON lines."""
    stream = _rows(jsonl)
    held = list(islice(stream, KEPT_ROWS + 1))  # a typical result: parsed once, and written from memory
    columns: tuple[list[str], bool] | None = None
    if len(held) > KEPT_ROWS:  # too many to hold: their columns now, the rows streamed again to be written
        flat = FlatRows()
        flat.feed(held)
        flat.feed(stream)
        held, columns = [], _ordered(flat.seen)
    with atomic_output(csv_path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        count = _write_held(handle, held) if columns is None else _write_rows(handle, *columns, _rows(jsonl))
        handle.flush()
        handle.detach()  # leave the binary stream open: atomic_output flushes, syncs and renames it
    return count


def csv_beside(jsonl: Path) -> int:
    """`results/<query>.csv` from `results/<query>.jsonl`: its row count; OSError or ValueError as `write_csv`."""
    return write_csv(jsonl, jsonl.with_suffix(".csv"))


LIVE_ROWS = 1_000  # rows a run holds per query while it pages (x concurrency: the run's memory bound)


class CsvSink:
    """The CSV of one query made from its rows as `vqr run` writes them (`model.ResultSink`): no second parse of
    the results file. A result of more than LIVE_ROWS rows is written from the file instead, in `save`."""

    def __init__(self, jsonl: Path) -> None:
        self.jsonl = jsonl
        self._rows: list[JSONValue] | None = []
        self._text: bytes | None = None

    def feed(self, rows: Sequence[JSONValue]) -> None:
        if self._rows is not None:
            self._rows += rows
            if len(self._rows) > LIVE_ROWS:
                self._rows = None  # too many for memory: `save` streams the file

    def prepare(self) -> None:
        if self._rows is None:
            return
        buffer = io.StringIO(newline="")
        _write_held(buffer, self._rows)
        self._text, self._rows = buffer.getvalue().encode(), None

    def save(self) -> None:
        if self._text is None:
            csv_beside(self.jsonl)
            return
        with atomic_output(self.jsonl.with_suffix(".csv")) as out:
            out.write(self._text)
