"""The journal's SQLite schema and how a connection is made ready for it: WAL mode, pragmas, and the migrations
that upgrade an older file in order (a file from a newer vqr is refused rather than guessed at).

`prepare(connection, path)` is called by `open_journal` on a fresh connection; `SCHEMA_VERSION` is the version it
leaves the file at. Reads and writes the database file.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from runner.state.entities import SCHEMA3
from runner.state.pacing import SCHEMA4
from runner.state.publishlog import SCHEMA5
from runner.state.records import JournalError

# Bump SCHEMA_VERSION and append a tuple of statements to _MIGRATIONS to change the schema; old files are upgraded
# in order when opened. A file from a newer vqr is refused rather than guessed at.
SCHEMA_VERSION = 5
_MIGRATIONS: tuple[tuple[str, ...], ...] = ((
    """CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, env TEXT NOT NULL,
       status TEXT NOT NULL)""",
    """CREATE TABLE queries (run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, name TEXT NOT NULL,
       spec_hash TEXT NOT NULL, file TEXT, state TEXT NOT NULL, query_result_id TEXT, cache_id TEXT,
       last_completed_cache_id TEXT, mode TEXT, rows INTEGER, sha256 TEXT, error_category TEXT, error_detail TEXT,
       request_id TEXT, attempts INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (run_id, name))""",
    """CREATE TABLE history (name TEXT NOT NULL, spec_hash TEXT NOT NULL, run_id TEXT NOT NULL, cache_id TEXT,
       row_count INTEGER, result_path TEXT, finished_at TEXT NOT NULL, PRIMARY KEY (name, run_id))""",
    "CREATE INDEX history_by_name ON history (name, finished_at)",
), (
    # 2: history is keyed by environment and target. Rows and runs from schema 1 keep a NULL target (and history
    # rows a NULL env), which no lookup's `=` matches: they stay visible to SQL, never compared with a new run.
    "ALTER TABLE runs ADD COLUMN target TEXT",
    "ALTER TABLE history ADD COLUMN env TEXT",
    "ALTER TABLE history ADD COLUMN target TEXT",
    "CREATE INDEX history_by_key ON history (name, env, target, finished_at)",
), SCHEMA3, SCHEMA4, SCHEMA5)
# 3: finding lifecycles (state/entities.py); 4: job durations, concurrency caps (pacing.py); 5: publish applies
# and their calls (publishlog.py)
# Indexes that change no table's shape, made on every open instead of by a migration, so that an older vqr can still
# open the journal (it refuses a newer schema version). queries_by_name: `read_history` and `latest_key` look a
# query up by name alone, which the (run_id, name) key cannot serve, so each lookup scanned every row of every run
# (3.5 ms a name at 10,000 rows: 30 of the 42 s of re-rendering a 10,000-query report, and more each night kept).
_INDEXES = ("CREATE INDEX IF NOT EXISTS queries_by_name ON queries (name)",)
assert len(_MIGRATIONS) == SCHEMA_VERSION


def prepare(connection: sqlite3.Connection, path: Path) -> None:
    """WAL mode, `synchronous = NORMAL` (a committed record survives a crash of the process, which is what
    `--resume` needs), foreign keys on, then the schema brought up to `SCHEMA_VERSION` and its indexes made."""
    _set_wal(connection)
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    _migrate(connection, path)
    for statement in _INDEXES:  # a no-op once made; SQLite keeps it up to date for every writer, older ones too
        connection.execute(statement)


def _set_wal(connection: sqlite3.Connection, *, tries: int = 100) -> None:
    # Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is locked" at once, without
    # its busy handler, when another process opens the same new journal at that moment (two runs started together).
    for _ in range(tries - 1):
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.05)
    connection.execute("PRAGMA journal_mode = WAL")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    while True:
        connection.execute("BEGIN IMMEDIATE")  # re-read under the write lock: another process may have migrated
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version >= SCHEMA_VERSION:
            connection.execute("COMMIT")
            if version > SCHEMA_VERSION:
                raise JournalError(f"the journal {path} has schema version {version}, newer than this vqr "
                                   f"({SCHEMA_VERSION}): upgrade vqr")
            return
        try:
            for statement in _MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
