"""Finding lifecycle of one successful result: the entities new since the query's previous successful run (same
spec hash, environment and target), those persisting and those resolved, and the oldest open ones with their ages.

`track_lifecycle(store, scope, results, run_id=..., as_of=..., drift=...) -> Lifecycle | None` streams the result
file once (entities keyed as drift keys them: `drift.keyed`), or takes a `LifecycleScan` (`start_scan`) that was
fed the rows as they were written, compares them with the open entities the store (the journal) holds, records the
change there unless this run was recorded already (a resume), and names samples from the rows it read; None when
the result file cannot be read. Reads the result file; writes through the store.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from runner.assess.drift import SAMPLE
from runner.assess.rows import entity_name, keyed
from runner.jsontext import parse_line
from runner.model import DriftResult, EntityRef, JSONValue
from runner.model.lifecycle import (
    SECONDS_PER_DAY,
    EntityChanges,
    Lifecycle,
    LifecycleScope,
    OpenEntities,
    OpenEntity,
)
from runner.model.shared import Shared

OLDEST = 10  # oldest open entities listed per query (run.json `lifecycle.oldest`)
_SIGN = 1 << 63
_INVERT = bytes.maketrans(b"\x00\x01", b"\x01\x00")


class LifecycleStore(Protocol):
    """What the lifecycle needs of the journal (`state.Journal` is one)."""

    def open_entities(self, scope: LifecycleScope, *, run_id: str) -> OpenEntities: ...

    def record_entities(self, scope: LifecycleScope, changes: EntityChanges) -> bool: ...


def signed(digest: int) -> int:
    """A 64-bit digest as SQLite's signed INTEGER holds it."""
    return digest - (1 << 64) if digest >= _SIGN else digest


class _Lowest:
    """The `limit` entries of lowest rank, one per rank (a rank ends with the entity key, so one per entity), with
    a cutoff that turns away most offers once full: a million offers cost a comparison each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: list[tuple[tuple[int, str], JSONValue]] = []
        self._cutoff: tuple[int, str] | None = None

    def offer(self, rank: tuple[int, str], row: JSONValue) -> None:
        if self._cutoff is not None and rank >= self._cutoff:
            return
        self._items.append((rank, row))
        if len(self._items) >= 2 * self.limit + 16:
            self._trim()

    def _trim(self) -> None:
        self._items.sort(key=lambda item: item[0])
        self._items = [item for at, item in enumerate(self._items) if at == 0 or self._items[at - 1][0] != item[0]]
        del self._items[self.limit:]
        if len(self._items) == self.limit:
            self._cutoff = self._items[-1][0]

    def items(self) -> list[tuple[tuple[int, str], JSONValue]]:
        self._trim()
        return list(self._items)


@dataclass
class _Pass:
    new: array[int]
    matched: bytearray
    new_rows: _Lowest
    oldest: _Lowest


class LifecycleScan:
    """The one pass over a result's rows: fed them as they are written (`feed`), so the lifecycle need not read
    the file back, or by `read` from the file. Holds what `_Pass` holds: a digest per new row, a flag per open
    entity, and the sample rows."""

    def __init__(self, open_now: OpenEntities, as_of: datetime) -> None:
        self.open_now = open_now
        self.now = int((open_now.recorded_as_of or as_of).timestamp())
        self.seen = _Pass(new=array("q"), matched=bytearray(len(open_now.keys)), new_rows=_Lowest(SAMPLE),
                          oldest=_Lowest(OLDEST))
        self.broken = False  # a row could not be keyed: no lifecycle, as when the file cannot be read

    def feed(self, rows: Iterable[JSONValue]) -> None:
        try:
            self._feed(rows)
        except ValueError:
            self.broken = True

    def _feed(self, rows: Iterable[JSONValue]) -> None:
        keys, first_seen, seen, now = self.open_now.keys, self.open_now.first_seen, self.seen, self.now
        for row in rows:
            key, digest = keyed(row)
            digest = signed(digest)
            at = bisect_left(keys, digest)
            if at < len(keys) and keys[at] == digest:
                seen.matched[at] = 1
                seen.oldest.offer((first_seen[at], key), row)
            else:
                seen.new.append(digest)
                seen.new_rows.offer((0, key), row)
                seen.oldest.offer((now, key), row)

    def read(self, results: Path) -> None:
        with results.open("rb") as handle:
            self._feed(parse_line(line) for line in handle if line.strip())


def start_scan(store: LifecycleStore, scope: LifecycleScope, *, run_id: str, as_of: datetime) -> LifecycleScan:
    """A scan to feed a result's rows as they are written, for `track_lifecycle(..., scan=)`."""
    return LifecycleScan(store.open_entities(scope, run_id=run_id), as_of)


def _resolved_sample(drift: DriftResult | None, previous_run: str | None) -> tuple[EntityRef, ...]:
    # Resolved entities are not in this result: drift already named them from the previous run's file, and when it
    # compared with the same run its removed entities are exactly these. Otherwise only the count is known.
    if drift is None or previous_run is None or drift.previous_run != previous_run:
        return ()
    return tuple(EntityRef(key=r.key, name=r.name) for r in drift.removed_sample)


def track_lifecycle(store: LifecycleStore, scope: LifecycleScope, results: Path, *, run_id: str, as_of: datetime,
                    drift: DriftResult | None, scan: LifecycleScan | None = None) -> Lifecycle | None:
    """See the module docstring. A repeated key in the file is one entity, as in drift. `scan`: the rows of
    `results` already fed to a scan from `start_scan` (of this scope and run) as they were written."""
    if scan is None:
        scan = start_scan(store, scope, run_id=run_id, as_of=as_of)
        try:
            scan.read(results)
        except (OSError, ValueError):
            return None
    if scan.broken:
        return None
    open_now, now, seen = scan.open_now, scan.now, scan.seen
    new = array("q", sorted(set(seen.new)))
    resolved = array("q", itertools.compress(open_now.keys, seen.matched.translate(_INVERT)))
    if not open_now.recorded:
        store.record_entities(scope, EntityChanges(run_id=run_id, as_of=as_of, previous_run=open_now.previous_run,
                                                   new=new, resolved=resolved))
    return Lifecycle(
        previous_run=open_now.previous_run, new=len(new), persisting=len(open_now.keys) - len(resolved),
        resolved=len(resolved),
        new_sample=tuple(_ref(rank[1], entity_name(row)) for rank, row in seen.new_rows.items()),
        resolved_sample=_resolved_sample(drift, open_now.previous_run),
        oldest=_oldest(seen.oldest.items(), now))


# Every query's samples are held until run.json is written (10,000 queries: ~200,000 of them), and the same entities
# recur across queries: equal ones (immutable) are one object. Bounded, emptied when full.
_refs: Shared[tuple[str, str | None], EntityRef] = Shared()
_open: Shared[tuple[str, str | None, int, int], OpenEntity] = Shared()


def _ref(key: str, name: str | None) -> EntityRef:
    found = _refs.get((key, name))
    return found if found is not None else _refs.add((key, name), EntityRef(key=key, name=name))


def _open_entity(key: str, name: str | None, first: int, age_days: int) -> OpenEntity:
    found = _open.get((key, name, first, age_days))
    if found is None:
        found = _open.add((key, name, first, age_days), OpenEntity(
            key=key, name=name, first_seen=datetime.fromtimestamp(first, UTC), age_days=age_days))
    return found


def _oldest(items: Sequence[tuple[tuple[int, str], JSONValue]], now: int) -> tuple[OpenEntity, ...]:
    return tuple(_open_entity(key, entity_name(row), first, max(0, now - first) // SECONDS_PER_DAY)
                 for (first, key), row in items)
