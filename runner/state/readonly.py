"""Reading the journal file without opening it for writing: query series for trends (`read_history`, per
environment and target; `latest_key`: whose series `vqr report history` shows) and which
unfinished runs may still be resumed (`read_resumable`, what retention must keep), plus the staleness rule's SQL.

Opens `.vqr/state.sqlite` read-only, so it never writes to (or migrates) a file another vqr process may be using.
No journal, or an unreadable one, gives an empty answer; never raises for the file's content.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from runner.state.history import EMPTY_HISTORY, History, HistoryPoint
from runner.state.records import HistoryKey

# The staleness rule, one definition for `--resume` and retention: an unfinished run is superseded (no longer
# resumable) once a run of the same environment that started after it has completed and ran at least one of its
# queries; resuming it then would bring back older results than the ones already published.
_LATER = """later.status = 'completed' AND later.env = old.env AND later.started_at > old.started_at
AND EXISTS (SELECT 1 FROM queries AS lq JOIN queries AS oq ON oq.name = lq.name
            WHERE lq.run_id = later.run_id AND oq.run_id = old.run_id)"""
# Both statements are built from constants only.
SUPERSEDING = ("SELECT later.* FROM runs AS old JOIN runs AS later ON " + _LATER  # noqa: S608
               + " WHERE old.run_id = ? ORDER BY later.started_at LIMIT 1")  # the first run superseding `?`
_RESUMABLE = ("SELECT old.run_id FROM runs AS old WHERE old.status != 'completed' "  # noqa: S608
              "AND NOT EXISTS (SELECT 1 FROM runs AS later WHERE " + _LATER + ")")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _connect(path: Path) -> sqlite3.Connection | None:
    if not path.is_file():
        return None
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None


def read_resumable(path: Path) -> frozenset[str] | None:
    """The ids of the unfinished runs that are not superseded; None when the journal cannot be read (then nothing
    is known to be resumable or not)."""
    connection = _connect(path)
    if connection is None:
        return None
    try:
        return frozenset(str(row[0]) for row in connection.execute(_RESUMABLE).fetchall())
    except sqlite3.Error:
        return None
    finally:
        connection.close()


# Runs are ordered by start time, not run id: two runs started in the same second sort by their random suffix.
# Only runs of the key's environment and target: a schema-1 run (NULL target) is in no series.
_SERIES = """
SELECT q.run_id, q.state, q.rows, q.spec_hash, q.updated_at FROM queries q JOIN runs r ON r.run_id = q.run_id
WHERE q.name = ? AND r.env = ? AND r.target = ?
AND r.started_at <= COALESCE((SELECT started_at FROM runs WHERE run_id = ?), ?)
ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?
"""
_LATEST_KEY = """
SELECT r.env, r.target FROM queries q JOIN runs r ON r.run_id = q.run_id
WHERE q.name = ? AND r.target IS NOT NULL AND (? IS NULL OR r.env = ?)
ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1
"""
_END_OF_TIME = "9999-12-31T23:59:59.999999Z"


def latest_key(path: Path, name: str, *, env: str | None = None) -> HistoryKey | None:
    """The environment and target of the latest run of query `name` (of environment `env`, if given) that
    recorded its target: whose history `vqr report history` shows. None when there is none or no readable journal.
    """
    connection = _connect(path)
    if connection is None:
        return None
    try:
        row = connection.execute(_LATEST_KEY, (name, env, env)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return HistoryKey(env=str(row[0]), target=str(row[1])) if row else None


def read_history(path: Path, names: Iterable[str], *, key: HistoryKey, until_run: str | None,
                 not_after: datetime | None, limit: int) -> History:
    """The last `limit` runs of `key`'s environment and target of each query in `names`, among the runs that
    started no later than `until_run` did (for a run this journal does not know: than `not_after`; None: up to
    now). No journal, or an unreadable one, gives an empty history."""
    connection = _connect(path)
    if connection is None:
        return EMPTY_HISTORY
    bound = _END_OF_TIME if not_after is None else stamp(not_after)
    series: dict[str, tuple[HistoryPoint, ...]] = {}
    try:
        for name in names:
            rows = connection.execute(_SERIES, (name, key.env, key.target, until_run, bound, limit)).fetchall()
            series[name] = tuple(HistoryPoint(run_id=r[0], state=r[1], rows=r[2], spec_hash=r[3], updated_at=r[4])
                                 for r in reversed(rows))
    except sqlite3.Error:
        return EMPTY_HISTORY
    finally:
        connection.close()
    return History(series=MappingProxyType(series))
