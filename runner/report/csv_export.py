"""`results/<query>.csv` beside each `results/<query>.jsonl`: the rows with nested properties flattened.

`write_csv(jsonl, csv_path) -> int` reads the JSON-lines file once for the columns, keeping the flattened rows of a
typical result, and streams it a second time only when it is large (memory stays flat whatever the row count); it
writes the CSV atomically and returns the number of rows. Columns: the identifying ones first in a fixed order, then
every other field in sorted order, so the same rows always give the same columns. Lists are JSON text; a text cell
or header that a spreadsheet would run as a formula is prefixed with `'`. At most MAX_COLUMNS columns: past that
the most frequent fields keep theirs and a last `_more (JSON)` column holds each row's other fields as JSON, so a
reply whose rows each bring new keys costs rows + keys, not rows x keys, and no value is lost.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from runner.assess import Scalar, flatten_row
from runner.files import atomic_output
from runner.model import JSONValue
from runner.sanitize import csv_cell

LEADING = ("id", "type", "name", "properties.name", "source.id", "source.type", "source.properties.name",
           "destination.id", "destination.type", "destination.properties.name", "risk_level",
           "destination_node_count")


def _rows(path: Path) -> Iterator[JSONValue]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


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


def _scan(path: Path) -> tuple[list[str], bool, list[dict[str, Scalar]] | None]:
    """The columns, and the flattened rows too while they are few (None beyond KEPT_ROWS: memory stays flat)."""
    seen: dict[str, int] = {}
    kept: list[dict[str, Scalar]] | None = []
    for row in _rows(path):
        flat = flatten_row(row)
        for key in flat:
            seen[key] = seen.get(key, 0) + 1
        if kept is not None:
            kept.append(flat)
            if len(kept) > KEPT_ROWS:
                kept = None
    return (*_ordered(seen), kept)


def cell(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return csv_cell(value)
    return json.dumps(value)


def write_csv(jsonl: Path, csv_path: Path) -> int:
    """Raises OSError or ValueError when the results file is missing or not JSON lines."""
    named, more, kept = _scan(jsonl)
    flat_rows = kept if kept is not None else (flatten_row(row) for row in _rows(jsonl))
    count = 0
    with atomic_output(csv_path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(handle, lineterminator="\r\n")
        header = [*named, MORE] if more else named
        writer.writerow([csv_cell(column) for column in header])  # headers are server row keys: data too
        known = set(named)
        for flat in flat_rows:
            row = [cell(flat.get(c)) for c in named]
            if more:
                rest = {k: v for k, v in flat.items() if k not in known}
                row.append(csv_cell(json.dumps(rest, sort_keys=True)) if rest else "")
            writer.writerow(row)
            count += 1
        handle.flush()
        handle.detach()  # leave the binary stream open: atomic_output flushes, syncs and renames it
    return count
