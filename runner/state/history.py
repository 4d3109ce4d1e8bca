"""Per-query history across runs (for trend charts and `vqr report history QUERY`) and retention of run directories.

`load_history(journal, names, until_run=...)` reads the journal (read-only) into a frozen `History`;
`history_table(...)` formats one query's history as text; `prune_runs(reports_dir, keep)` deletes the oldest run
directories beyond `keep`. Reads the SQLite journal and deletes directories; nothing else.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

TREND_RUNS = 30
DEFAULT_RETENTION = 30
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")
RUN_FILE = "run.json"


@dataclass(frozen=True, kw_only=True)
class HistoryPoint:
    """One query in one run, as the journal last recorded it."""

    run_id: str
    state: str  # the journal's query state: done, failed, or where an unfinished run left it
    rows: int | None
    spec_hash: str
    updated_at: str  # RFC 3339, UTC

    @property
    def succeeded(self) -> bool:
        return self.state == "done"


@dataclass(frozen=True, kw_only=True)
class History:
    """Each query's last runs, oldest first."""

    series: Mapping[str, tuple[HistoryPoint, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def of(self, name: str) -> tuple[HistoryPoint, ...]:
        return self.series.get(name, ())


EMPTY_HISTORY = History()

# The journal's own API (`runner/state.py`) answers "latest success" but not "the last N runs of a query"; this
# read-only query fills that gap without writing to (or migrating) a file another vqr process may be using. Runs
# are ordered by start time, not run id: two runs started in the same second sort by their random suffix.
_SERIES = """
SELECT q.run_id, q.state, q.rows, q.spec_hash, q.updated_at FROM queries q JOIN runs r ON r.run_id = q.run_id
WHERE q.name = ? AND r.started_at <= COALESCE((SELECT started_at FROM runs WHERE run_id = ?), ?)
ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?
"""
_END_OF_TIME = "9999-12-31T23:59:59.999999Z"


def _bound(run_id: str | None) -> str:
    """A journal timestamp no earlier than the start of `run_id`, for a run the journal does not know (its id
    begins with its start second)."""
    if run_id is None or not RUN_ID.match(run_id):
        return _END_OF_TIME
    stamp = run_id[:15]
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}.999999Z"


def load_history(journal: Path, names: Iterable[str], *, until_run: str | None,
                 limit: int = TREND_RUNS) -> History:
    """The last `limit` runs of each query in `names`, up to and including `until_run` (None: up to now), so
    re-rendering an old run's report gives the same trend as when it ran. No journal, or an unreadable one, gives
    an empty history."""
    if not journal.is_file():
        return EMPTY_HISTORY
    try:
        connection = sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return EMPTY_HISTORY
    series: dict[str, tuple[HistoryPoint, ...]] = {}
    try:
        for name in names:
            rows = connection.execute(_SERIES, (name, until_run, _bound(until_run), limit)).fetchall()
            series[name] = tuple(HistoryPoint(run_id=r[0], state=r[1], rows=r[2], spec_hash=r[3], updated_at=r[4])
                                 for r in reversed(rows))
    except sqlite3.Error:
        return EMPTY_HISTORY
    finally:
        connection.close()
    return History(series=MappingProxyType(series))


def history_table(name: str, points: tuple[HistoryPoint, ...]) -> str:
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
    return "\n".join([f"history of {name} ({runs})", fmt(header), *map(fmt, lines)]) + "\n"


def run_directories(reports_dir: Path) -> list[Path]:
    """Run directories under `reports_dir`, oldest first (run ids sort by time). Symlinks (`latest`) and
    anything not named like a run id are never included, so pruning cannot reach outside what vqr wrote."""
    if not reports_dir.is_dir():
        return []
    found = [p for p in reports_dir.iterdir() if RUN_ID.match(p.name) and p.is_dir() and not p.is_symlink()]
    return sorted(found, key=_age_key)


def _age_key(path: Path) -> tuple[str, int, str]:
    """Run ids sort by their start second; within one second (tests, quick re-runs) the random suffix says nothing,
    so the time run.json (or the directory) was last written breaks the tie."""
    marker = path / RUN_FILE
    try:
        written = (marker if marker.is_file() else path).stat().st_mtime_ns
    except OSError:
        written = 0
    return path.name[:16], written, path.name


def _latest_target(reports_dir: Path) -> str | None:
    link = reports_dir / "latest"
    with contextlib.suppress(OSError):
        if link.is_symlink():
            return Path(link.readlink()).name
        if link.is_file():
            return link.read_text(encoding="utf-8").strip()
    return None


def prune_runs(reports_dir: Path, keep: int) -> list[Path]:
    """Delete run directories older than the newest `keep` complete ones (those with run.json); returns what was
    deleted, oldest first. A directory newer than the oldest kept run (such as a run in progress or one waiting
    for `--resume`) and the one `reports/latest` names always stay. `keep` below 1 is treated as 1."""
    runs = run_directories(reports_dir)
    complete = [p for p in runs if (p / RUN_FILE).is_file()]
    kept = complete[-max(1, keep):]
    if not kept:
        return []
    oldest_kept = runs.index(kept[0])
    protected = _latest_target(reports_dir)
    deleted: list[Path] = []
    for path in runs[:oldest_kept]:
        if path.name == protected:
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            deleted.append(path)
    return deleted
