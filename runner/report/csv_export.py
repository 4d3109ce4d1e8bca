"""`results/<query>.csv` beside each `results/<query>.jsonl`: the rows with nested properties flattened.

`write_csv(jsonl, csv_path) -> int` reads the JSON-lines file once for the columns, keeping the flattened rows of a
typical result, and streams it a second time only when it is large (memory stays flat whatever the row count); it
writes the CSV atomically and returns the number of rows (`csv_beside(jsonl)`: at `results/<query>.csv`).
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
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from runner.files import atomic_output
from runner.flatten import Scalar, flatten_row
from runner.jsontext import fast_loads
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
                value = fast_loads(line)  # orjson, where its value is the json module's (runner/jsontext.py)
                yield json.loads(line) if value is None else value


KEPT_ROWS = 5_000  # flattened rows kept from the column pass: a typical result is parsed and flattened once


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


def columns_of(path: Path) -> list[str]:
    named, more, _ = _scan(path)
    return [*named, MORE] if more else named


MAX_SHAPES = 1_000  # distinct field sets counted as such; past it fields are counted one by one (memory stays flat)


class FlatRows:
    """Rows flattened as they come, with how often each field appears (the columns); the first `limit` flattened
    rows are kept, and past it none (`kept` is None), so memory stays flat and the rows are streamed again."""

    def __init__(self, limit: int = KEPT_ROWS) -> None:
        # Rows of one result nearly all have the same fields: counted by shape (the fields in order, one tuple and
        # one lookup a row), and the shapes turned into fields once, when they are asked for.
        self._shapes: dict[tuple[str, ...], int] = {}
        self._fields: dict[str, int] | None = None  # once rows bring too many shapes
        self.kept: list[dict[str, Scalar]] | None = []
        self._limit = limit

    @property
    def seen(self) -> dict[str, int]:
        """How many rows have each field."""
        seen = dict(self._fields or {})
        for shape, count in self._shapes.items():
            for key in shape:
                seen[key] = seen.get(key, 0) + count
        return seen

    def feed(self, rows: Iterable[JSONValue]) -> None:
        for row in rows:
            flat = flatten_row(row)
            if self._fields is None:
                shape = tuple(flat)
                self._shapes[shape] = self._shapes.get(shape, 0) + 1
                if len(self._shapes) > MAX_SHAPES:
                    self._fields, self._shapes = self.seen, {}
            else:
                fields = self._fields
                for key in flat:
                    fields[key] = fields.get(key, 0) + 1
            if self.kept is not None:
                self.kept.append(flat)
                if len(self.kept) > self._limit:
                    self.kept = None


def _scan(path: Path) -> tuple[list[str], bool, list[dict[str, Scalar]] | None]:
    """The columns, and the flattened rows too while they are few (None beyond KEPT_ROWS: memory stays flat)."""
    flat = FlatRows()
    flat.feed(_rows(path))
    return (*_ordered(flat.seen), flat.kept)


def cell(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return csv_cell(value)
    return json.dumps(value)


MEMO_CELLS = 10_000  # distinct texts whose cell is remembered per file: types, levels and "[]" repeat on every row


def _write_rows(text: TextIO, named: list[str], more: bool, flat_rows: Iterable[dict[str, Scalar]]) -> int:
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([csv_cell(column) for column in ([*named, MORE] if more else named)])  # headers are data too
    known = set(named)
    memo: dict[str, str] = {}
    count = 0
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
        if more:
            rest = {k: v for k, v in flat.items() if k not in known}
            row.append(csv_cell(json.dumps(rest, sort_keys=True)) if rest else "")
        writer.writerow(row)
        count += 1
    return count


def write_csv(jsonl: Path, csv_path: Path) -> int:
    """Raises OSError or ValueError when the results file is missing or not JSON lines."""
    named, more, kept = _scan(jsonl)
    flat_rows = kept if kept is not None else (flatten_row(row) for row in _rows(jsonl))
    with atomic_output(csv_path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        count = _write_rows(handle, named, more, flat_rows)
        handle.flush()
        handle.detach()  # leave the binary stream open: atomic_output flushes, syncs and renames it
    return count


def csv_beside(jsonl: Path) -> int:
    """`results/<query>.csv` from `results/<query>.jsonl`: its row count; OSError or ValueError as `write_csv`."""
    return write_csv(jsonl, jsonl.with_suffix(".csv"))


LIVE_ROWS = 1_000  # rows a run keeps flattened per query while it pages (x concurrency: the run's memory bound)


class CsvSink:
    """The CSV of one query made from its rows as `vqr run` writes them (`model.ResultSink`): no second parse of
    the results file. A result of more than LIVE_ROWS rows is written from the file instead, in `save`."""

    def __init__(self, jsonl: Path) -> None:
        self.jsonl = jsonl
        self._flat: FlatRows | None = FlatRows(LIVE_ROWS)
        self._text: bytes | None = None

    def feed(self, rows: Sequence[JSONValue]) -> None:
        if self._flat is not None:
            self._flat.feed(rows)
            if self._flat.kept is None:
                self._flat = None  # too many for memory: `save` streams the file

    def prepare(self) -> None:
        if self._flat is None or self._flat.kept is None:
            return
        named, more = _ordered(self._flat.seen)
        buffer = io.StringIO(newline="")
        _write_rows(buffer, named, more, self._flat.kept)
        self._text, self._flat = buffer.getvalue().encode(), None

    def save(self) -> None:
        if self._text is None:
            csv_beside(self.jsonl)
            return
        with atomic_output(self.jsonl.with_suffix(".csv")) as out:
            out.write(self._text)
