"""Per-query history across runs, as the journal recorded it: what trend charts and `vqr report history` show.

Frozen values only (`History` of `HistoryPoint`s, oldest first); `journal.read_history` fills them from the
journal file. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


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
