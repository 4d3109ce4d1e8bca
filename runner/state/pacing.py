"""What the journal keeps to pace the next run against a target: each query's job duration (in its history row) and
the adaptive concurrency a run converged to (schema 4).

`journal.pacing.typical_job_seconds(key, spec_hashes)` → each query's median job duration over its last `RECENT`
successful runs of this environment and target with the same spec, or the latest when shorter;
`record_concurrency` / `last_concurrency` store and read the concurrency cap a run learnt (its converged value).
SQL on the journal's connection (each write one autocommitted statement).
"""

from __future__ import annotations

import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime

from runner.state.readonly import stamp
from runner.state.records import HistoryKey

RECENT = 5  # runs whose durations make the median: recent enough to follow a tenant that slows down

SCHEMA4 = (
    # The job duration as the run saw it: submit reply → the poll that found it ended (a tenth shorter when the first
    # poll, sent after the query's typical time, found it: execute/firstpoll.kept_duration). NULL for results reused
    # without polling or found done at once (cached), resumed queries, and rows from before schema 4.
    "ALTER TABLE history ADD COLUMN job_ms INTEGER",
    # What each run learnt of the target's concurrency: the next run starts under `cap` (NULL: no limit found).
    """CREATE TABLE concurrency (env TEXT NOT NULL, target TEXT NOT NULL, run_id TEXT NOT NULL, cap REAL,
       recorded_at TEXT NOT NULL, PRIMARY KEY (env, target, run_id))""",
)


class Pacing:
    def __init__(self, db: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def typical_job_seconds(self, key: HistoryKey, spec_hashes: Mapping[str, str], *,
                            exclude_run: str | None = None) -> dict[str, float]:
        """The typical job seconds of each named query (with that spec hash): the median of its last `RECENT`
        recorded runs, or the latest run's when shorter (its first poll waits that long)."""
        if not spec_hashes:
            return {}
        rows = self._db.execute(
            "SELECT name, spec_hash, job_ms FROM (SELECT name, spec_hash, job_ms, ROW_NUMBER() OVER (PARTITION BY "
            "name, spec_hash ORDER BY finished_at DESC, rowid DESC) AS k FROM history WHERE env = ? AND target = ? "
            "AND job_ms IS NOT NULL AND (? IS NULL OR run_id != ?)) WHERE k <= ? ORDER BY k",
            (key.env, key.target, exclude_run, exclude_run, RECENT)).fetchall()
        found: defaultdict[str, list[int]] = defaultdict(list)  # newest first
        for name, spec_hash, job_ms in rows:
            if spec_hashes.get(name) == spec_hash:
                found[name].append(int(job_ms))
        # The median, or the latest run's duration when shorter: one slow night does not move it, but a tenant that
        # got faster is followed at once (a wait that found the job ended is kept a little shorter each run, see
        # execute/firstpoll.kept_duration; through the median alone that would take about three runs per step).
        return {name: min(statistics.median(values), values[0]) / 1000 for name, values in found.items()}

    def record_concurrency(self, key: HistoryKey, run_id: str, cap: float | None) -> None:
        """Keep what a run learnt of the target's concurrency: the cap the next run starts under, or None when the
        run reached its configured concurrency without a throttle (it found no limit)."""
        self._db.execute("INSERT OR REPLACE INTO concurrency (env, target, run_id, cap, recorded_at) "
                         "VALUES (?, ?, ?, ?, ?)", (key.env, key.target, run_id, cap, stamp(self._clock())))

    def last_concurrency(self, key: HistoryKey) -> float | None:
        """The cap the last run of `key` recorded, or None (no run recorded one, or the last found no limit)."""
        row = self._db.execute("SELECT cap FROM concurrency WHERE env = ? AND target = ? ORDER BY recorded_at DESC, "
                               "rowid DESC LIMIT 1", (key.env, key.target)).fetchone()
        return float(row[0]) if row is not None and row[0] is not None else None
