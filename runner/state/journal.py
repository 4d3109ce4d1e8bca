"""The run journal and query history in SQLite (`.vqr/state.sqlite`): what every query of every run has reached.

`open_journal(path) -> Journal`; each `record(...)` is one committed transaction, durable once it returns, so a
killed run can be resumed without resubmitting. Reads and writes the database file (WAL mode); one connection,
used from the event loop's thread. Only free text (`REDACTED_FIELDS`) passes the secret redactor before it is
stored: ids, hashes and cache ids are kept verbatim, since they are sent back and compared.
`read_history` and `read_resumable` (state/readonly.py) read the file without opening it for writing. Every history
lookup is keyed by a `HistoryKey` (environment, target) as well as the query's name and spec hash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.model import RunStatus
from runner.model.lifecycle import EntityChanges, LifecycleScope, OpenEntities
from runner.secret import SECRET_FILTER
from runner.state.entities import apply_changes, read_open
from runner.state.history import EMPTY_HISTORY, History, HistoryPoint
from runner.state.pacing import Pacing
from runner.state.publishlog import PublishLog
from runner.state.readonly import SUPERSEDING, latest_key, parse_stamp, read_history, read_resumable, stamp
from runner.state.records import (
    ALLOWED,
    ERROR_FIELDS,
    INT_FIELDS,
    TEXT_FIELDS,
    HistoryKey,
    HistoryRecord,
    JournalError,
    QueryRecord,
    QueryState,
    RunRecord,
)
from runner.state.schema import SCHEMA_VERSION, prepare
from runner.state.transaction import atomic, one_transaction

__all__ = [
    "EMPTY_HISTORY",
    "SCHEMA_VERSION",
    "History",
    "HistoryKey",
    "HistoryPoint",
    "HistoryRecord",
    "Journal",
    "JournalError",
    "QueryRecord",
    "QueryState",
    "RunRecord",
    "RunStatus",
    "latest_key",
    "open_journal",
    "read_history",
    "read_resumable",
]

# Shown, never sent back or compared: redacted when stored. Ids, hashes and cache ids stay byte-exact.
REDACTED_FIELDS = frozenset({"error_detail", "request_id"})


_stamp, _parse = stamp, parse_stamp


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Journal:
    """An open journal. Durability choice: WAL with `synchronous=NORMAL`. A commit is in the WAL file, in the OS
    page cache, when `record` returns, which survives the process being killed (SIGKILL, OOM, a CI timeout): the
    failure this journal exists for. Only a power loss or kernel crash can drop the last few commits, and then a
    resume sees a query one state earlier and resubmits it as `cached_result_if_available`, costing at most one
    execution. FULL would fsync every state change on the event loop thread (milliseconds each, six per query)."""

    def __init__(self, connection: sqlite3.Connection, *, clock: Callable[[], datetime],
                 redact: Callable[[str], str], path: Path | None = None) -> None:
        self._db = connection
        self._clock = clock
        self._redact = redact
        self.path = path

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        """A stored value this vqr cannot read (a bad state word, timestamp or type) is a damaged journal: the same
        one-line advice as a journal SQLite cannot open, never a bare ValueError."""
        try:
            yield
        except (ValueError, TypeError, KeyError, IndexError) as error:
            raise JournalError(f"cannot read the journal {self.path or ''} (a stored value is invalid: {error}); "
                               "move it aside to start a new one") from None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _write(self, statements: list[tuple[str, Mapping[str, Any] | tuple[Any, ...]]]) -> None:
        with atomic(self._db):
            for sql, params in statements:
                self._db.execute(sql, params)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The block's writes in one transaction, committed at its end, none if it raises (`vqr report merge`)."""
        with one_transaction(self._db):
            yield

    # --- runs ----------------------------------------------------------------------------------------------------

    def start_run(self, run_id: str, *, env: str, target: str) -> RunRecord:
        """`target`: the normalised URL the run queries (never a credential), or `embedded`; with `env`, the key
        of every history lookup made for this run."""
        now = self._clock()
        self._write([("INSERT INTO runs (run_id, started_at, finished_at, env, status, target) "
                      "VALUES (?, ?, NULL, ?, ?, ?)", (run_id, _stamp(now), env, RunStatus.RUNNING.value, target))])
        return RunRecord(run_id=run_id, env=env, status=RunStatus.RUNNING, started_at=now, finished_at=None,
                         target=target)

    def resume_run(self, run_id: str, *, target: str) -> None:
        """Mark an unfinished run as running again (what `vqr run --resume` does before continuing it). A run
        from before targets were recorded takes `target` (the caller refuses a run of another target)."""
        self.run(run_id)
        self._write([("UPDATE runs SET status = ?, finished_at = NULL, target = COALESCE(target, ?) "
                      "WHERE run_id = ?", (RunStatus.RUNNING.value, target, run_id))])

    def finish_run(self, run_id: str, status: RunStatus) -> None:
        self.run(run_id)
        self._write([("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                      (status.value, _stamp(self._clock()), run_id))])

    def last_unfinished_run(self) -> RunRecord | None:
        """The most recently started run whose status is not `completed` (killed, interrupted or aborted)."""
        row = self._db.execute("SELECT * FROM runs WHERE status != ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
                               (RunStatus.COMPLETED.value,)).fetchone()
        with self._decoding():
            return _run_record(row) if row else None

    def superseding_run(self, run_id: str) -> RunRecord | None:
        """The run that makes the unfinished run `run_id` stale, if any (the rule: `state/readonly.py`)."""
        row = self._db.execute(SUPERSEDING, (run_id,)).fetchone()
        with self._decoding():
            return _run_record(row) if row else None

    def run(self, run_id: str) -> RunRecord:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise JournalError(f"no run {run_id!r} in the journal")
        with self._decoding():
            return _run_record(row)

    # --- queries -----------------------------------------------------------------------------------------------

    def record(self, run_id: str, name: str, state: QueryState, *, result_path: str | None = None,
               job_ms: int | None = None, **fields: str | int | None) -> None:
        """Move a query to `state`, setting `fields` (columns of `queries`), in one committed transaction.

        The first record of a query must be PENDING with its `spec_hash`. Leaving `failed` clears the error
        fields. Reaching DONE also writes the query's history row (with `result_path` and `job_ms`, the job's
        duration as the run saw it) in the same transaction.
        """
        unknown = set(fields) - TEXT_FIELDS - INT_FIELDS
        if unknown:
            raise JournalError(f"unknown journal fields: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in fields.items():
            wanted = int if key in INT_FIELDS else str
            if value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
                raise JournalError(f"journal field {key} must be {wanted.__name__}, got {type(value).__name__}")
            values[key] = self._redact(value) if isinstance(value, str) and key in REDACTED_FIELDS else value
        current = self._db.execute("SELECT state FROM queries WHERE run_id = ? AND name = ?",
                                   (run_id, name)).fetchone()
        with self._decoding():
            before = QueryState(current["state"]) if current else None
        if state not in ALLOWED[before]:
            raise JournalError(f"query {name!r} of run {run_id!r} cannot go from "
                               f"{before.value if before else 'nothing'} to {state.value}")
        if before is None and not values.get("spec_hash"):
            raise JournalError(f"the first record of query {name!r} needs its spec_hash")
        if state is not QueryState.FAILED:
            for key in ERROR_FIELDS:
                values.setdefault(key, None)
        values.update(state=state.value, updated_at=_stamp(self._clock()))
        statements: list[tuple[str, Mapping[str, Any] | tuple[Any, ...]]] = []
        if before is None:
            columns = ", ".join(values)
            marks = ", ".join(f":{key}" for key in values)
            statements.append((f"INSERT INTO queries (run_id, name, {columns}) VALUES (:run_id, :name, {marks})",  # noqa: S608
                               {"run_id": run_id, "name": name, **values}))
        else:
            assignments = ", ".join(f"{key} = :{key}" for key in values)
            statements.append((f"UPDATE queries SET {assignments} WHERE run_id = :run_id AND name = :name",  # noqa: S608
                               {"run_id": run_id, "name": name, **values}))
        if state is QueryState.DONE:  # the history row carries its run's key (environment, target)
            statements.append((
                "INSERT OR REPLACE INTO history (name, spec_hash, run_id, cache_id, row_count, result_path, "
                "finished_at, env, target, job_ms) SELECT q.name, q.spec_hash, q.run_id, q.cache_id, q.rows, "
                ":result_path, q.updated_at, r.env, r.target, :job_ms FROM queries AS q JOIN runs AS r "
                "ON r.run_id = q.run_id WHERE q.run_id = :run_id AND q.name = :name",
                {"run_id": run_id, "name": name, "result_path": result_path, "job_ms": job_ms}))
        self._write(statements)

    def query_states(self, run_id: str) -> dict[str, QueryRecord]:
        """Every query of a run by name, as last recorded."""
        rows = self._db.execute("SELECT * FROM queries WHERE run_id = ? ORDER BY name", (run_id,)).fetchall()
        with self._decoding():
            return {row["name"]: _query_record(row) for row in rows}

    # --- history -----------------------------------------------------------------------------------------------

    def previous_cache_id(self, name: str, spec_hash: str | None = None, *, key: HistoryKey,
                          exclude_run: str | None = None) -> str | None:
        """The cache_id of this query's latest successful run of `key`'s environment and target (with this spec,
        if given): `cache_id: previous`."""
        found = self._latest(name, spec_hash, key, exclude_run, need_cache_id=True)
        return found.cache_id if found else None

    def previous_success(self, name: str, spec_hash: str | None, *, key: HistoryKey,
                         exclude_run: str | None = None) -> HistoryRecord | None:
        """This query's latest successful run of `key`'s environment and target (with this spec, if given), for
        drift, expectations and reuse of a downloaded result."""
        return self._latest(name, spec_hash, key, exclude_run, need_cache_id=False)

    @property
    def pacing(self) -> Pacing:
        """Job durations and the concurrency cap, to pace the next run (state/pacing.py)."""
        return Pacing(self._db, self._clock)

    @property
    def publish(self) -> PublishLog:
        """`vqr publish apply`'s applies and calls (state/publishlog.py)."""
        return PublishLog(self._db, self._clock, self._redact)

    # --- finding lifecycles (state/entities.py) ------------------------------------------------------------------

    def open_entities(self, scope: LifecycleScope, *, run_id: str) -> OpenEntities:
        """The entities open in `scope`'s lifecycle before `run_id` (or, if it was recorded already, as it found
        them)."""
        with self._decoding():
            return read_open(self._db, scope, run_id)

    def record_entities(self, scope: LifecycleScope, changes: EntityChanges) -> bool:
        """Record one run's changes into `scope`'s lifecycle; False when it was recorded already."""
        return apply_changes(self._db, scope, changes, self._clock())

    def _latest(self, name: str, spec_hash: str | None, key: HistoryKey, exclude_run: str | None, *,
                need_cache_id: bool) -> HistoryRecord | None:
        row = self._db.execute(
            "SELECT h.*, q.sha256 AS sha256 FROM history AS h LEFT JOIN queries AS q "
            "ON q.run_id = h.run_id AND q.name = h.name WHERE h.name = ? AND h.env = ? AND h.target = ? "
            "AND (? IS NULL OR h.spec_hash = ?) AND (? IS NULL OR h.run_id != ?) "
            "AND (? = 0 OR h.cache_id IS NOT NULL) ORDER BY h.finished_at DESC, h.rowid DESC LIMIT 1",
            (name, key.env, key.target, spec_hash, spec_hash, exclude_run, exclude_run,
             int(need_cache_id))).fetchone()
        if row is None:
            return None
        with self._decoding():
            return HistoryRecord(name=row["name"], spec_hash=row["spec_hash"], run_id=row["run_id"],
                                 cache_id=row["cache_id"], row_count=row["row_count"],
                                 result_path=row["result_path"], finished_at=_parse(row["finished_at"]),
                                 sha256=row["sha256"], env=row["env"], target=row["target"])


def _run_record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(run_id=row["run_id"], env=row["env"], status=RunStatus(row["status"]),
                     started_at=_parse(row["started_at"]),
                     finished_at=_parse(row["finished_at"]) if row["finished_at"] else None, target=row["target"])


def _query_record(row: sqlite3.Row) -> QueryRecord:
    data = dict(zip(row.keys(), tuple(row), strict=True))
    data["state"] = QueryState(data["state"])
    data["updated_at"] = _parse(data["updated_at"])
    return QueryRecord(**data)


def open_journal(path: Path, *, clock: Callable[[], datetime] = _utc_now,
                 redact: Callable[[str], str] = SECRET_FILTER.redact) -> Journal:
    """Open (creating it and its directory, and upgrading its schema, as needed) the journal at `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    except (OSError, sqlite3.Error) as error:
        raise JournalError(f"cannot open the journal {path}: {error}") from None
    try:
        connection.row_factory = sqlite3.Row
        prepare(connection, path)
    except sqlite3.Error as error:
        connection.close()
        raise JournalError(f"cannot use the journal {path} ({error}); move it aside to start a new one") from None
    except BaseException:
        connection.close()
        raise
    return Journal(connection, clock=clock, redact=redact, path=path)
