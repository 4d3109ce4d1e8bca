"""The domain's value types, shared by every stage: positions, findings, loaded documents.

Frozen, keyword-only dataclasses; no I/O. Stages pass these (never loose dicts) across their boundaries.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

# A JSON value as produced by the hardened loader: only JSON types ever appear.
JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
JSONObject: TypeAlias = dict[str, JSONValue]
# The path of a value inside a document: mapping keys and sequence indexes, like jsonschema's `absolute_path`.
JSONPath: TypeAlias = tuple[str | int, ...]


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, kw_only=True, slots=True, order=True)
class Position:
    """A place in a source file, both numbers 1-based (what editors and SARIF show)."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class CharMap:
    """Where each character of a string value is in its file: `offsets[i]` for `value[i]`, -1 where it has no
    source character of its own (a folded line break, a blank line); `breaks`: where each file line after the first
    starts (shared by all values of the file)."""

    offsets: tuple[int, ...]
    breaks: tuple[int, ...]

    def at(self, index: int) -> Position | None:
        if not 0 <= index < len(self.offsets) or self.offsets[index] < 0:
            return None
        offset = self.offsets[index]
        line = bisect.bisect_right(self.breaks, offset)
        return Position(line=line + 1, column=offset - (self.breaks[line - 1] if line else 0) + 1)

    def file_lines(self, begin: int, end: int) -> set[int]:
        """The file lines (0-based) that characters `begin` to `end` of the value come from."""
        return {bisect.bisect_right(self.breaks, offset) for offset in self.offsets[begin:end] if offset >= 0}


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One problem in user data, anchored at the file, line and column where the user can fix it."""

    path: str  # as shown to the user: relative to the project root, forward slashes
    line: int
    column: int
    severity: Severity
    rule: str  # stable id, e.g. "yaml/duplicate-key", "spec/unknown-node-type"
    message: str
    # `vqr lint`: the environments where it holds (every one, or those its message names); () outside lint
    environments: tuple[str, ...] = ()

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)


@dataclass(frozen=True, kw_only=True)
class Document:
    """A YAML file loaded by `runner.load`: plain JSON data plus the position of every value and mapping key.

    `values[path]` is where the value at `path` starts; `keys[path]` is where the key of the mapping entry at `path`
    starts (absent for sequence items and the root). `disabled_rules` come from `# vqr: disable=rule[,rule]` comments.
    """

    path: str
    data: JSONValue
    values: Mapping[JSONPath, Position]
    keys: Mapping[JSONPath, Position]
    disabled_rules: frozenset[str] = field(default_factory=frozenset)
    # path -> where each line of a multi-line templated string starts (first non-blank character), for every scalar
    # style; absent where the loader could not match source to value exactly. Not kept by the lint cache.
    lines: Mapping[JSONPath, tuple[Position, ...]] = field(default_factory=dict)
    # path -> where each character of such a string is (also kept for one that YAML folded from several file lines
    # into one): a finding inside a folded template line is placed by character offset. Not kept by the lint cache.
    chars: Mapping[JSONPath, CharMap] = field(default_factory=dict)

    def position(self, path: JSONPath, *, key: bool = False) -> Position:
        """The position of `path`, or of its nearest ancestor that has one (the root is always known)."""
        probe = tuple(path)
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return Position(line=1, column=1)
            probe = probe[:-1]

    def finding(self, path: JSONPath, *, rule: str, message: str, severity: Severity = Severity.ERROR,
                key: bool = False) -> Finding:
        where = self.position(path, key=key)
        return Finding(path=self.path, line=where.line, column=where.column, severity=severity, rule=rule,
                       message=message)


@dataclass(frozen=True, kw_only=True)
class QueryUnit:
    """One query of the repository after matrix expansion and rendering: what rules check and plans run.

    `body` is the whole rendered query file (name, cache, spec, expect...) for this matrix combination; paths in it
    line up with `doc` (inside a value that a template expanded into a list or mapping, `doc.position` falls back to
    the template string's own position, which is where the user can fix it).
    """

    doc: Document
    name: str
    matrix: Mapping[str, JSONValue]
    body: JSONObject
