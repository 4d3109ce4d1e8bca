"""Finding lifecycles in the journal (schema 3): per (environment, target, query, spec hash) each entity of its
latest run, as a 64-bit key digest with the run that first saw it; updated in place, never a row per run.

`read_open(db, scope, run_id) -> OpenEntities` and `apply_changes(db, scope, changes, now)` run the SQL;
`Journal.open_entities` / `record_entities` call them on the journal's connection. Compact by design: an entity
is (lifecycle id, digest, first run number, last run number) in a WITHOUT ROWID table, ~18 bytes on disk.
An open entity has `last_seq` NULL (its last sighting is the lifecycle's latest run, stored once); a resolved one
keeps the number of the last run that saw it until the next run, which is what a resume of the run that resolved
it needs to compare as it first did, and is then deleted: an entity that comes back is new again.
"""

from __future__ import annotations

import sqlite3
from array import array
from datetime import datetime

from runner.model.lifecycle import EntityChanges, LifecycleScope, OpenEntities
from runner.state.readonly import parse_stamp, stamp
from runner.state.transaction import Discard, atomic

SCHEMA3 = (
    """CREATE TABLE lifecycles (lifecycle_id INTEGER PRIMARY KEY, env TEXT NOT NULL, target TEXT NOT NULL,
       name TEXT NOT NULL, spec_hash TEXT NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0, touched TEXT NOT NULL,
       UNIQUE (env, target, name, spec_hash))""",
    """CREATE TABLE lifecycle_runs (lifecycle_id INTEGER NOT NULL REFERENCES lifecycles(lifecycle_id)
       ON DELETE CASCADE, seq INTEGER NOT NULL, run_id TEXT NOT NULL, as_of TEXT NOT NULL,
       PRIMARY KEY (lifecycle_id, seq)) WITHOUT ROWID""",
    """CREATE TABLE entities (lifecycle_id INTEGER NOT NULL REFERENCES lifecycles(lifecycle_id) ON DELETE CASCADE,
       key INTEGER NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER, PRIMARY KEY (lifecycle_id, key))
       WITHOUT ROWID""",
)
# Lifecycles kept per (environment, target, query): the spec a change reverts to finds its entities again, and
# a query edited every night does not grow the journal by a whole result each time.
SPECS_KEPT = 3

_FIND = "SELECT lifecycle_id, last_seq FROM lifecycles WHERE env = ? AND target = ? AND name = ? AND spec_hash = ?"


def _scope(scope: LifecycleScope) -> tuple[str, str, str, str]:
    return scope.env, scope.target, scope.query, scope.spec_hash


def read_open(db: sqlite3.Connection, scope: LifecycleScope, run_id: str) -> OpenEntities:
    """The lifecycle's open entities before `run_id` is recorded; if it already was, the state it was compared
    with (the open ones it did not add, and the ones it resolved)."""
    found = db.execute(_FIND, _scope(scope)).fetchone()
    if found is None:
        return OpenEntities()
    lifecycle, seq = int(found[0]), int(found[1])
    runs = {int(r[0]): (str(r[1]), parse_stamp(str(r[2]))) for r in db.execute(
        "SELECT seq, run_id, as_of FROM lifecycle_runs WHERE lifecycle_id = ?", (lifecycle,))}
    recorded = seq in runs and runs[seq][0] == run_id
    if recorded:
        before = seq - 1
        rows = db.execute("SELECT key, first_seq FROM entities WHERE lifecycle_id = ? AND ((last_seq IS NULL "
                          "AND first_seq < ?) OR last_seq = ?) ORDER BY key", (lifecycle, seq, before))
    else:
        before = seq
        rows = db.execute("SELECT key, first_seq FROM entities WHERE lifecycle_id = ? AND last_seq IS NULL "
                          "ORDER BY key", (lifecycle,))
    seconds = {number: int(at.timestamp()) for number, (_, at) in runs.items()}
    keys, first_seen = array("q"), array("q")
    for key, first in rows:
        keys.append(key)
        first_seen.append(seconds[first])
    return OpenEntities(previous_run=runs[before][0] if before in runs else None, keys=keys,
                        first_seen=first_seen, recorded=recorded,
                        recorded_as_of=runs[seq][1] if recorded else None)


def apply_changes(db: sqlite3.Connection, scope: LifecycleScope, changes: EntityChanges, now: datetime) -> bool:
    """Record one run into the lifecycle, in one transaction; False (nothing written) when the lifecycle's latest
    run is not `changes.previous_run` (this run is recorded already, or another run was recorded meanwhile)."""
    written = True
    with atomic(db):  # inside a journal batch: a savepoint of its transaction
        if not _apply(db, scope, changes, stamp(now)):
            written = False
            raise Discard
    return written


def _apply(db: sqlite3.Connection, scope: LifecycleScope, changes: EntityChanges, now: str) -> bool:
    found = db.execute(_FIND, _scope(scope)).fetchone()
    if found is None:
        if changes.previous_run is not None:
            return False
        lifecycle = _create(db, scope, now)
        seq = 0
    else:
        lifecycle, seq = int(found[0]), int(found[1])
        latest = db.execute("SELECT run_id FROM lifecycle_runs WHERE lifecycle_id = ? AND seq = ?",
                            (lifecycle, seq)).fetchone()
        if (str(latest[0]) if latest else None) != changes.previous_run:
            return False
    db.execute("DELETE FROM entities WHERE lifecycle_id = ? AND last_seq IS NOT NULL", (lifecycle,))
    db.executemany("UPDATE entities SET last_seq = ? WHERE lifecycle_id = ? AND key = ?",
                   ((seq, lifecycle, key) for key in changes.resolved))
    db.executemany("INSERT OR IGNORE INTO entities (lifecycle_id, key, first_seq, last_seq) VALUES (?, ?, ?, NULL)",
                   ((lifecycle, key, seq + 1) for key in changes.new))
    db.execute("INSERT INTO lifecycle_runs (lifecycle_id, seq, run_id, as_of) VALUES (?, ?, ?, ?)",
               (lifecycle, seq + 1, changes.run_id, stamp(changes.as_of)))
    db.execute("UPDATE lifecycles SET last_seq = ?, touched = ? WHERE lifecycle_id = ?", (seq + 1, now, lifecycle))
    return True


def _create(db: sqlite3.Connection, scope: LifecycleScope, now: str) -> int:
    cursor = db.execute("INSERT INTO lifecycles (env, target, name, spec_hash, touched) VALUES (?, ?, ?, ?, ?)",
                        (*_scope(scope), now))
    created = int(cursor.lastrowid or 0)
    db.execute("DELETE FROM lifecycles WHERE env = ? AND target = ? AND name = ? AND lifecycle_id NOT IN ("
               "SELECT lifecycle_id FROM lifecycles WHERE env = ? AND target = ? AND name = ? "
               "ORDER BY touched DESC, lifecycle_id DESC LIMIT ?)",
               (scope.env, scope.target, scope.query, scope.env, scope.target, scope.query, SPECS_KEPT))
    return created
