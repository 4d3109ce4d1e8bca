"""The history a report shows: each query's last runs up to the reported one, and `vqr report history`'s table.

`load_history(journal, names, key=..., until_run=...)` reads one environment and target's runs from the journal,
read-only, into a `History`; `history_table(name, points, key)` formats one query's points as fixed-width text
(pure). Reads the journal file only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from runner.artifact import latest_start
from runner.state import History, HistoryKey, HistoryPoint, read_history

TREND_RUNS = 30


def load_history(journal: Path, names: Iterable[str], *, key: HistoryKey, until_run: str | None,
                 limit: int = TREND_RUNS) -> History:
    """The last `limit` runs of `key`'s environment and target of each query in `names`, up to and including
    `until_run` (None: up to now), so re-rendering an old run's report gives the same trend as when it ran. A run
    the journal does not know is placed by the start second its id holds."""
    return read_history(journal, names, key=key, until_run=until_run, not_after=latest_start(until_run),
                        limit=limit)


def history_table(name: str, points: tuple[HistoryPoint, ...], key: HistoryKey) -> str:
    """A fixed-width table, newest run first: run id, state, rows, change in rows since the last counted run, spec
    (marked where it changed: counts before and after are not comparable)."""
    header = ("run", "state", "rows", "change", "spec")
    lines: list[tuple[str, ...]] = []
    last_rows: int | None = None  # the change is against the last run that had a count (a failure has none)
    for index, point in enumerate(points):
        before = points[index - 1] if index else None
        change = ""
        if last_rows is not None and point.rows is not None:
            change = f"{point.rows - last_rows:+d}"
        if point.rows is not None:
            last_rows = point.rows
        spec = point.spec_hash[:12] + (" (changed)" if before is not None and before.spec_hash != point.spec_hash
                                       else "")
        lines.append((point.run_id, point.state, "" if point.rows is None else str(point.rows), change, spec))
    lines.reverse()
    widths = [max(len(row[i]) for row in (header, *lines)) for i in range(len(header))]
    right = {2, 3}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths,
                                                                                                  strict=True))]
        return "  ".join(cells).rstrip()

    runs = f"{len(points)} run" + ("" if len(points) == 1 else "s")
    title = f"history of {name} in environment {key.env} ({key.target}), {runs}"
    return "\n".join([title, fmt(header), *map(fmt, lines)]) + "\n"
