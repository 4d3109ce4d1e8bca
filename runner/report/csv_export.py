"""`results/<query>.csv` beside each `results/<query>.jsonl`: the rows with nested properties flattened.

`write_csv(jsonl, csv_path) -> int` streams the JSON-lines file twice (once for the columns, once for the rows), so
memory stays flat whatever the row count; it writes the CSV atomically and returns the number of rows. Columns: the
identifying ones first in a fixed order, then every other field in sorted order, so the same rows always give the
same columns. Lists are JSON text; a text cell that a spreadsheet would run as a formula is prefixed with `'`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

from runner.drift import Scalar, flatten_row
from runner.model import JSONValue

LEADING = ("id", "type", "name", "properties.name", "source.id", "source.type", "source.properties.name",
           "destination.id", "destination.type", "destination.properties.name", "risk_level",
           "destination_node_count")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _rows(path: Path) -> Iterator[JSONValue]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def columns_of(path: Path) -> list[str]:
    seen: set[str] = set()
    for row in _rows(path):
        seen.update(flatten_row(row))
    return [c for c in LEADING if c in seen] + sorted(seen - set(LEADING))


def cell(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA) else value
    return json.dumps(value)


def write_csv(jsonl: Path, csv_path: Path) -> int:
    """Raises OSError or ValueError when the results file is missing or not JSON lines."""
    columns = columns_of(jsonl)
    temp = csv_path.with_name(f".{csv_path.name}.{os.getpid()}.tmp")
    count = 0
    try:
        with temp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(columns)
            for row in _rows(jsonl):
                flat = flatten_row(row)
                writer.writerow([cell(flat.get(c)) for c in columns])
                count += 1
        temp.replace(csv_path)
    finally:
        if temp.exists():
            temp.unlink()
    return count
