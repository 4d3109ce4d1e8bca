"""The SQLite journal: the run and query state machine with its migrations, and its read-only history series.
The only code that runs SQL.
"""

from __future__ import annotations

from runner.state.journal import (
    EMPTY_HISTORY,
    History,
    HistoryKey,
    HistoryPoint,
    Journal,
    QueryRecord,
    QueryState,
    RunRecord,
    latest_key,
    open_journal,
    read_history,
    read_resumable,
)

__all__ = [
    "EMPTY_HISTORY",
    "History",
    "HistoryKey",
    "HistoryPoint",
    "Journal",
    "QueryRecord",
    "QueryState",
    "RunRecord",
    "latest_key",
    "open_journal",
    "read_history",
    "read_resumable",
]
