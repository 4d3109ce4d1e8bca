"""What the accepted exceptions do to one query's result: which rows they accept, and which expired ones would have.

`apply_exceptions(rules, query, on=..., current=..., previous=..., drift=...) -> Excepted | None` (None when no rule
covers the query) streams the result file once, counting the rows each active rule accepts (`rule.matches`, the one
definition) and, of the rows none accepts, what each expired rule would still match. When drift added or removed
entities, the previous result is streamed too, to count how many of those entities the active rules accept:
`new_rows` and `removed_rows` leave them out,
exactly as `rows` leaves the accepted rows out. Memory holds only the accepted entities' digests.
`counted(excepted, rows=..., drift=...)` gives the figures the expectations see; `annotate` says why in their
messages. Reads result files; pure otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from runner.assess.rows import entity_key, entity_name, keyed
from runner.jsontext import parse_line
from runner.model import Drift, DriftResult, JSONValue, Outcome, Verdict
from runner.model.exceptions import Excepted, ExceptionRule, RuleMatch, applying, row_ids

SAMPLE = 5  # entity names kept per rule (run.json, reports)
_DRIFT_METRICS = frozenset({"new_rows", "removed_rows"})


def _rows(path: Path) -> Iterator[JSONValue]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield parse_line(line)


class _Tally:
    def __init__(self, rule: ExceptionRule) -> None:
        self.rule = rule
        self.matched = 0
        self.sample: list[str] = []

    def record(self, row: JSONValue) -> None:
        self.matched += 1
        if len(self.sample) < SAMPLE:
            self.sample.append(entity_name(row) or entity_key(row))

    def result(self) -> RuleMatch:
        return RuleMatch(rule=self.rule, matched=self.matched, sample=tuple(self.sample))


class _Matcher:
    """The rules that match a row, found in one pass over it: id rules by a dict lookup of the row's ids (computed
    once), match rules one by one. A million rows and a hundred id rules cost a million lookups, not 10^8 checks."""

    def __init__(self, tallies: Sequence[_Tally]) -> None:
        self.tallies = list(tallies)
        self._by_id: dict[str, list[_Tally]] = {}
        self._by_match: list[_Tally] = []
        for tally in tallies:
            if tally.rule.entity_id is not None:
                self._by_id.setdefault(tally.rule.entity_id, []).append(tally)
            else:
                self._by_match.append(tally)

    def hits(self, row: JSONValue) -> list[_Tally]:
        if not isinstance(row, dict) or not self.tallies:
            return []
        found = [t for ident in row_ids(row) for t in self._by_id.get(ident, ())] if self._by_id else []
        return found + [t for t in self._by_match if t.rule.matches(row)]


def apply_exceptions(rules: Sequence[ExceptionRule], query: str, *, on: date, current: Path,
                     previous: Path | None = None, drift: DriftResult | None = None) -> Excepted | None:
    """Raises OSError or ValueError when a result file cannot be read as JSON lines."""
    active, expired = applying(rules, query, on)
    if not active and not expired:
        return None
    live, dead = _Matcher([_Tally(r) for r in active]), _Matcher([_Tally(r) for r in expired])
    accepted_rows = 0
    accepted_now: set[int] = set()
    for row in _rows(current):
        hits = live.hits(row)  # every rule counts its own matches, not only the first
        for tally in hits or dead.hits(row):  # an expired rule's row "counts again" only if no active rule has it
            tally.record(row)
        if hits:
            accepted_rows += 1
            accepted_now.add(keyed(row)[1])
    added = removed = 0
    if live.tallies and previous is not None and drift is not None and (drift.added or drift.removed):
        added, removed = _accepted_drift(live, previous, current, accepted_now,
                                         count_added=drift.added > 0, count_removed=drift.removed > 0)
    return Excepted(active=tuple(t.result() for t in live.tallies), expired=tuple(t.result() for t in dead.tallies),
                    excepted_rows=accepted_rows, excepted_added=added, excepted_removed=removed)


def _accepted_drift(live: _Matcher, previous: Path, current: Path, accepted_now: set[int], *,
                    count_added: bool, count_removed: bool) -> tuple[int, int]:
    """(accepted entities that are new, accepted entities that are gone): an accepted entity of the current result
    absent from the previous one was added; an entity of the previous result that the rules accept, absent now,
    was removed. A third stream, of the current file, runs only for previous entities the rules accepted that are
    not accepted now (the row changed, or is gone)."""
    in_previous: set[int] = set()
    accepted_before: set[int] = set()
    for row in _rows(previous):
        digest = keyed(row)[1]
        if digest in accepted_now:
            in_previous.add(digest)
        if count_removed and live.hits(row):
            accepted_before.add(digest)
    added = len(accepted_now - in_previous) if count_added else 0
    candidates = accepted_before - accepted_now
    if candidates:
        still_there = {digest for digest in (keyed(row)[1] for row in _rows(current)) if digest in candidates}
        candidates -= still_there
    return added, len(candidates)


def counted(excepted: Excepted | None, *, rows: int, drift: Drift | None) -> tuple[int, Drift | None]:
    """The row count and drift the expectations see: the accepted rows and entities left out."""
    if excepted is None:
        return rows, drift
    if drift is not None:
        drift = Drift(added=max(0, drift.added - excepted.excepted_added),
                      removed=max(0, drift.removed - excepted.excepted_removed), previous_run=drift.previous_run)
    return max(0, rows - excepted.excepted_rows), drift


def annotate(outcomes: Sequence[Outcome], excepted: Excepted | None) -> tuple[Outcome, ...]:
    """Each row or drift expectation's message says what the exceptions left out, and a failed one names the
    expired exceptions whose rows count again (the report's "why it is red again")."""
    if excepted is None:
        return tuple(outcomes)
    expired = [m for m in excepted.expired if m.matched]
    out = []
    for outcome in outcomes:
        left_out = (excepted.excepted_rows if outcome.metric == "rows" else excepted.excepted_added
                    if outcome.metric == "new_rows" else excepted.excepted_removed
                    if outcome.metric == "removed_rows" else 0)
        notes = []
        if left_out and (outcome.metric == "rows" or outcome.metric in _DRIFT_METRICS):
            notes.append(f"{left_out} accepted by exceptions, not counted")
        if outcome.verdict is Verdict.FAILED and outcome.metric in {"rows", *_DRIFT_METRICS}:
            notes += [f"exception {m.rule.id} expired on {m.rule.expires.isoformat()}: its {m.matched} row(s) "
                      "count again" for m in expired]
        out.append(replace(outcome, message=f"{outcome.message} [{'; '.join(notes)}]") if notes else outcome)
    return tuple(out)
