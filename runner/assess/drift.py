"""Drift between two result files (JSON lines) of one query: entities added, removed and changed since the last run.

`compare_results(previous, current, previous_run=..., ignore=...)` streams both files and returns a `DriftResult`
(counts, plus small sorted samples of entities by key and name). Rows are keyed by `id`, or by the source and
destination ids of a path row; only a 64-bit key digest and a 64-bit digest of the non-ignored fields are held per
entity, never whole rows. A key repeated within one file (never seen from Veza) is one entity made of all its
rows, in any order: counts are of distinct entities, so added + changed + unchanged is the number of distinct keys
in `current`, removed + changed + unchanged that of `previous`, and a file compared with itself has no drift.
Reads files, nothing else. Rows are keyed and flattened by `assess/rows.py`, the model the CSV export shares.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.assess.rows import entity_key, entity_name, flatten_row, key_digest
from runner.jsontext import parse_line
from runner.model import DriftResult, EntityRef, JSONValue

SAMPLE = 50  # entities listed per kind of change: enough to act on, small enough for run.json
FIELD_LIMIT = 10  # changed field names kept per changed entity


@dataclass(frozen=True, kw_only=True)
class IgnoreRule:
    """`drift: {ignore: [...]}` of a query. A dotted entry (`properties.last_used_at`) names one field and what is
    under it; a bare entry (`last_used_at`) names that key at any depth, which is what volatile timestamps need in
    both entity rows and the source/destination halves of path rows."""

    entries: tuple[str, ...] = ()

    def ignores(self, field: str) -> bool:
        for entry in self.entries:
            if field == entry or field.startswith(entry + "."):
                return True
            if "." not in entry and entry in field.split("."):
                return True
        return False


def _strip(value: JSONValue, rule: IgnoreRule, prefix: str = "") -> JSONValue:
    """`value` without the fields `rule` ignores (fields as `flatten_row` names them; lists are whole fields)."""
    if not isinstance(value, dict):
        return value
    return {key: _strip(item, rule, f"{prefix}{key}.") for key, item in value.items()
            if not rule.ignores(f"{prefix}{key}")}


def _fingerprint(line: bytes, row: JSONValue, rule: IgnoreRule) -> int:
    # Result files hold canonical JSON (sorted keys, fixed separators: rundir.ResultWriter), so equal rows are
    # equal lines and the line itself can be hashed; only ignored fields force a re-serialisation.
    if not rule.entries:
        return _digest_bytes(line.strip())
    return _digest_bytes(json.dumps(_strip(row, rule), sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False).encode())


def _digest_bytes(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class _Index:
    """The previous file's entities as two sorted arrays of 64-bit key digests and fingerprints (16 bytes per
    entity, about a tenth of a dict's cost), with a flag per entity once the current file has matched it."""

    def __init__(self, pairs: list[int]) -> None:
        pairs.sort()
        self.keys = array("Q")
        self.prints = array("Q")
        self.repeated = False
        for packed in pairs:
            key = packed >> 64
            if self.keys and self.keys[-1] == key:
                self.repeated = True  # the caller then counts by the grouped rule (`_grouped_counts`)
                continue
            self.keys.append(key)
            self.prints.append(packed & _MASK)
        self.matched = bytearray(len(self.keys))

    def find(self, key: int) -> int:
        """The position of `key`, or -1."""
        at = bisect_left(self.keys, key)
        return at if at < len(self.keys) and self.keys[at] == key else -1

    @property
    def unmatched(self) -> int:
        return len(self.matched) - sum(self.matched)


_MASK = (1 << 64) - 1


class _Smallest:
    """The `limit` smallest rows pushed (by key), so samples are the same whatever order the API sent rows in.
    Buffered: sorted and cut back to `limit` each time it doubles, so a million pushes cost little."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: list[tuple[str, int, JSONValue]] = []
        self._count = 0

    def push(self, key: str, row: JSONValue) -> None:
        self._count += 1
        self._items.append((key, self._count, row))
        if len(self._items) >= 2 * self.limit + 16:
            self._trim()

    def _trim(self) -> None:
        self._items.sort(key=lambda item: (item[0], item[1]))
        # One sample per entity: a repeated key (one entity, several rows) keeps its first row.
        self._items = [item for at, item in enumerate(self._items) if at == 0 or self._items[at - 1][0] != item[0]]
        del self._items[self.limit:]

    def items(self) -> list[tuple[str, JSONValue]]:
        self._trim()
        return [(key, row) for key, _, row in self._items]


def _lines(path: Path) -> Iterator[tuple[bytes, JSONValue]]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield line, parse_line(line)


def _changed_fields(before: JSONValue, after: JSONValue, ignore: IgnoreRule) -> tuple[str, ...]:
    old, new = flatten_row(before), flatten_row(after)
    fields = sorted(f for f in set(old) | set(new) if not ignore.ignores(f) and old.get(f) != new.get(f))
    return tuple(fields[:FIELD_LIMIT])


def _entities(path: Path, rule: IgnoreRule) -> dict[int, int]:
    """Key digest -> the sum of its rows' fingerprints: one value per entity, whatever the order of its rows."""
    combined: dict[int, int] = {}
    for line, row in _lines(path):
        key = key_digest(row)
        combined[key] = (combined.get(key, 0) + _fingerprint(line, row, rule)) & _MASK
    return combined


@dataclass
class _Counts:
    added: int
    changed: int
    unchanged: int
    removed: int
    added_rows: _Smallest
    changed_rows: _Smallest
    removed_key: set[int] | _Index  # decides, for a key digest of `previous`, whether that entity was removed


def _streamed_counts(previous: Path, current: Path, rule: IgnoreRule, sample: int) -> _Counts | None:
    """One pass over each file, holding 16 bytes per previous entity; None when a key repeats in either file (the
    grouped rule is then needed)."""
    index = _Index([(key_digest(row) << 64) | _fingerprint(line, row, rule) for line, row in _lines(previous)])
    if index.repeated:
        return None
    added, changed, unchanged = 0, 0, 0
    added_rows, changed_rows = _Smallest(sample), _Smallest(sample)
    new_keys = array("Q")
    for line, row in _lines(current):
        digest = key_digest(row)
        at = index.find(digest)
        if at < 0:
            added += 1
            new_keys.append(digest)
            added_rows.push(entity_key(row), row)
            continue
        if index.matched[at]:
            return None
        index.matched[at] = 1
        if index.prints[at] != _fingerprint(line, row, rule):
            changed += 1
            changed_rows.push(entity_key(row), row)
        else:
            unchanged += 1
    ordered = sorted(new_keys)
    if any(a == b for a, b in itertools.pairwise(ordered)):
        return None
    return _Counts(added=added, changed=changed, unchanged=unchanged, removed=index.unmatched, added_rows=added_rows,
                   changed_rows=changed_rows, removed_key=index)


def _grouped_counts(previous: Path, current: Path, rule: IgnoreRule, sample: int) -> _Counts:
    """The same counts when keys repeat: each file grouped by entity first (a dict per file: rare, small cases)."""
    old, new = _entities(previous, rule), _entities(current, rule)
    added_keys = new.keys() - old.keys()
    changed_keys = {key for key in new.keys() & old.keys() if new[key] != old[key]}
    added_rows, changed_rows = _Smallest(sample), _Smallest(sample)
    if added_keys or changed_keys:
        for _, row in _lines(current):
            digest = key_digest(row)
            if digest in added_keys:
                added_rows.push(entity_key(row), row)
            elif digest in changed_keys:
                changed_rows.push(entity_key(row), row)
    removed = set(old.keys() - new.keys())
    return _Counts(added=len(added_keys), changed=len(changed_keys),
                   unchanged=len(new) - len(added_keys) - len(changed_keys), removed=len(removed),
                   added_rows=added_rows, changed_rows=changed_rows, removed_key=removed)


def _was_removed(counts: _Counts, digest: int) -> bool:
    found = counts.removed_key
    if isinstance(found, set):
        return digest in found
    at = found.find(digest)
    return at >= 0 and not found.matched[at]


def compare_results(previous: Path, current: Path, *, previous_run: str, ignore: Sequence[str] = (),
                    sample: int = SAMPLE) -> DriftResult:
    """Stream `previous` once to index it, `current` once to classify its rows, and `previous` again only when
    something was removed or changed (to name those entities); when a key repeats in a file, counts follow the
    grouped rule of this module's docstring. Raises OSError or ValueError when a file is missing or is not JSON
    lines."""
    rule = IgnoreRule(entries=tuple(ignore))
    counts = (_streamed_counts(previous, current, rule, sample)
              or _grouped_counts(previous, current, rule, sample))
    kept_changed = counts.changed_rows.items()
    changed_digests = {key_digest(row) for _, row in kept_changed}
    removed_rows = _Smallest(sample)
    old_versions: dict[int, JSONValue] = {}
    if counts.removed or changed_digests:
        for _, row in _lines(previous):
            digest = key_digest(row)
            if digest in changed_digests:
                old_versions.setdefault(digest, row)
            elif _was_removed(counts, digest):
                removed_rows.push(entity_key(row), row)
    changed_refs = [EntityRef(key=key, name=entity_name(row),
                              fields=_changed_fields(old_versions.get(key_digest(row)), row, rule))
                    for key, row in kept_changed]
    return DriftResult(
        previous_run=previous_run, added=counts.added, removed=counts.removed, changed=counts.changed,
        unchanged=counts.unchanged,
        added_sample=tuple(EntityRef(key=k, name=entity_name(r)) for k, r in counts.added_rows.items()),
        removed_sample=tuple(EntityRef(key=k, name=entity_name(r)) for k, r in removed_rows.items()),
        changed_sample=tuple(changed_refs), ignored=rule.entries)
