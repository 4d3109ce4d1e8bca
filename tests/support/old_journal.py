"""Journal files as older vqr versions wrote them: before history was keyed by environment and target (schema 1,
commit 34db99d) and before finding lifecycles (schema 2, commit d13f057), their DDL copied verbatim from those
commits; `write_schema1_journal` / `write_schema2_journal` fill one with finished runs, so tests can check what
migrating such a file keeps and what it never matches."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# `git show 34db99d:runner/state/journal.py`, _MIGRATIONS[0]: not imported from runner, so that a later change of
# the current migrations cannot change what "an old journal" means here.
SCHEMA1_DDL = (
    """CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, env TEXT NOT NULL,
       status TEXT NOT NULL)""",
    """CREATE TABLE queries (run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, name TEXT NOT NULL,
       spec_hash TEXT NOT NULL, file TEXT, state TEXT NOT NULL, query_result_id TEXT, cache_id TEXT,
       last_completed_cache_id TEXT, mode TEXT, rows INTEGER, sha256 TEXT, error_category TEXT, error_detail TEXT,
       request_id TEXT, attempts INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (run_id, name))""",
    """CREATE TABLE history (name TEXT NOT NULL, spec_hash TEXT NOT NULL, run_id TEXT NOT NULL, cache_id TEXT,
       row_count INTEGER, result_path TEXT, finished_at TEXT NOT NULL, PRIMARY KEY (name, run_id))""",
    "CREATE INDEX history_by_name ON history (name, finished_at)",
)


@dataclass(frozen=True, kw_only=True)
class OldSuccess:
    """One query done in one completed schema-1 run."""

    run_id: str
    env: str
    name: str
    spec_hash: str
    cache_id: str
    rows: int
    result_path: str | None = None
    sha256: str | None = None
    at: str = "2026-01-01T00:00:00.000000Z"


def write_schema1_journal(path: Path, successes: Sequence[OldSuccess]) -> None:
    """Create `path` with the schema-1 tables (user_version 1), holding each success as that vqr recorded it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        for statement in SCHEMA1_DDL:
            db.execute(statement)
        for s in successes:
            db.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, 'completed')", (s.run_id, s.at, s.at, s.env))
            db.execute("INSERT INTO queries (run_id, name, spec_hash, state, cache_id, mode, rows, sha256, attempts, "
                       "updated_at) VALUES (?, ?, ?, 'done', ?, 'immediate_run', ?, ?, 1, ?)",
                       (s.run_id, s.name, s.spec_hash, s.cache_id, s.rows, s.sha256, s.at))
            db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (s.name, s.spec_hash, s.run_id, s.cache_id, s.rows, s.result_path, s.at))
        db.execute("PRAGMA user_version = 1")
        db.commit()
    finally:
        db.close()


# `git show d13f057:runner/state/journal.py`, _MIGRATIONS[1], applied over schema 1.
SCHEMA2_DDL = (
    "ALTER TABLE runs ADD COLUMN target TEXT",
    "ALTER TABLE history ADD COLUMN env TEXT",
    "ALTER TABLE history ADD COLUMN target TEXT",
    "CREATE INDEX history_by_key ON history (name, env, target, finished_at)",
)


def write_schema2_journal(path: Path, successes: Sequence[OldSuccess], *, target: str) -> None:
    """Create `path` with the schema-2 tables (user_version 2), each success recorded against `target` (its run's
    environment and target copied into its history row, as that vqr did)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        for statement in (*SCHEMA1_DDL, *SCHEMA2_DDL):
            db.execute(statement)
        for s in successes:
            db.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, 'completed', ?)",
                       (s.run_id, s.at, s.at, s.env, target))
            db.execute("INSERT INTO queries (run_id, name, spec_hash, state, cache_id, mode, rows, sha256, attempts, "
                       "updated_at) VALUES (?, ?, ?, 'done', ?, 'immediate_run', ?, ?, 1, ?)",
                       (s.run_id, s.name, s.spec_hash, s.cache_id, s.rows, s.sha256, s.at))
            db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (s.name, s.spec_hash, s.run_id, s.cache_id, s.rows, s.result_path, s.at, s.env, target))
        db.execute("PRAGMA user_version = 2")
        db.commit()
    finally:
        db.close()
