"""`results/<query>.csv` beside each `results/<query>.jsonl`: the rows with nested properties flattened.

`write_csv(jsonl, csv_path) -> int` reads the JSON-lines file once for the columns, keeping the flattened rows of a
typical result, and streams it a second time only when it is large (memory stays flat whatever the row count); it
writes the CSV atomically and returns the number of rows. Columns: the identifying ones first in a fixed order, then
every other field in sorted order, so the same rows always give the same columns. Lists are JSON text; a text cell
or header that a spreadsheet would run as a formula is prefixed with `'`.
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


def _ordered(seen: set[str]) -> list[str]:
    return [c for c in LEADING if c in seen] + sorted(seen - set(LEADING))


def columns_of(path: Path) -> list[str]:
    return _scan(path)[0]


def _scan(path: Path) -> tuple[list[str], list[dict[str, Scalar]] | None]:
    """The columns, and the flattened rows too while they are few (None beyond KEPT_ROWS: memory stays flat)."""
    seen: set[str] = set()
    kept: list[dict[str, Scalar]] | None = []
    for row in _rows(path):
        flat = flatten_row(row)
        seen.update(flat)
        if kept is not None:
            kept.append(flat)
            if len(kept) > KEPT_ROWS:
                kept = None
    return _ordered(seen), kept


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
    columns, kept = _scan(jsonl)
    flat_rows = kept if kept is not None else (flatten_row(row) for row in _rows(jsonl))
    count = 0
    with atomic_output(csv_path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([csv_cell(column) for column in columns])  # headers are server row keys: data too
        for flat in flat_rows:
            writer.writerow([cell(flat.get(c)) for c in columns])
            count += 1
        handle.flush()
        handle.detach()  # leave the binary stream open: atomic_output flushes, syncs and renames it
    return count
