"""What `vqr publish apply` journals (schema 5): one row per apply and one per API call it makes, written before the
call is sent and again when its answer is known.

`journal.publish` is a `PublishLog`: `start(...)` opens an apply, `sending(...)` records a call about to go out,
`answered(...)` its outcome, `finish(...)` closes the apply; `interrupted(env, target, project)` is the last apply
of that key that never finished (killed, lost its connection), with its calls, which the next apply reports and
uses to accept its own plan file (the tenant moved only by the calls this plan made). Each write is one committed
statement: a call recorded as sending has its row on disk before the request leaves. SQL on the journal's
connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from runner.state.readonly import stamp

SCHEMA5 = (
    """CREATE TABLE publish_applies (apply_id TEXT PRIMARY KEY, env TEXT NOT NULL, target TEXT NOT NULL,
       project TEXT NOT NULL, plan_digest TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
       status TEXT NOT NULL)""",
    # state: sending (the row exists before the request leaves), done, failed.
    """CREATE TABLE publish_calls (apply_id TEXT NOT NULL REFERENCES publish_applies(apply_id) ON DELETE CASCADE,
       seq INTEGER NOT NULL, action TEXT NOT NULL, name TEXT NOT NULL, saved_id TEXT, state TEXT NOT NULL,
       result_id TEXT, error TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (apply_id, seq))""",
)


@dataclass(frozen=True, kw_only=True)
class PublishCall:
    seq: int
    action: str
    name: str
    saved_id: str | None
    state: str  # sending | done | failed
    result_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class PublishApply:
    apply_id: str
    plan_digest: str
    started_at: str
    calls: tuple[PublishCall, ...]

    @property
    def done(self) -> int:
        return sum(1 for call in self.calls if call.state == "done")


class PublishLog:
    def __init__(self, db: sqlite3.Connection, clock: Callable[[], datetime], redact: Callable[[str], str]) -> None:
        self._db = db
        self._clock = clock
        self._redact = redact  # an error text may quote a reply; the key never reaches the file

    def start(self, apply_id: str, *, env: str, target: str, project: str, plan_digest: str) -> None:
        self._db.execute("INSERT INTO publish_applies (apply_id, env, target, project, plan_digest, started_at, "
                         "finished_at, status) VALUES (?, ?, ?, ?, ?, ?, NULL, 'running')",
                         (apply_id, env, target, project, plan_digest, self._now()))

    def sending(self, apply_id: str, seq: int, *, action: str, name: str, saved_id: str | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO publish_calls (apply_id, seq, action, name, saved_id, state, "
                         "result_id, error, updated_at) VALUES (?, ?, ?, ?, ?, 'sending', NULL, NULL, ?)",
                         (apply_id, seq, action, name, saved_id, self._now()))

    def answered(self, apply_id: str, seq: int, *, result_id: str | None = None, error: str | None = None) -> None:
        self._db.execute("UPDATE publish_calls SET state = ?, result_id = ?, error = ?, updated_at = ? "
                         "WHERE apply_id = ? AND seq = ?",
                         ("failed" if error is not None else "done", result_id,
                          None if error is None else self._redact(error), self._now(), apply_id, seq))

    def finish(self, apply_id: str, status: str) -> None:
        self._db.execute("UPDATE publish_applies SET status = ?, finished_at = ? WHERE apply_id = ?",
                         (status, self._now(), apply_id))

    def interrupted(self, *, env: str, target: str, project: str) -> PublishApply | None:
        """The latest apply of this key, if it never finished (None when the latest finished, or none ran)."""
        row = self._db.execute("SELECT apply_id, plan_digest, started_at, status FROM publish_applies WHERE env = ? "
                               "AND target = ? AND project = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
                               (env, target, project)).fetchone()
        if row is None or row[3] != "running":
            return None
        calls = self._db.execute("SELECT seq, action, name, saved_id, state, result_id, error FROM publish_calls "
                                 "WHERE apply_id = ? ORDER BY seq", (row[0],)).fetchall()
        return PublishApply(apply_id=row[0], plan_digest=row[1], started_at=row[2], calls=tuple(
            PublishCall(seq=c[0], action=c[1], name=c[2], saved_id=c[3], state=c[4], result_id=c[5], error=c[6])
            for c in calls))

    def abandon(self, apply_id: str) -> None:
        """An interrupted apply that a later one has taken over: closed, so it is reported once."""
        self.finish(apply_id, "interrupted")

    def _now(self) -> str:
        return stamp(self._clock())
