"""Builds JSON data and position maps from a stream of ruamel.yaml parser events, checking each event as it comes.

`EventWalker.feed(event)` takes the events of either parser (libyaml or pure Python) one at a time; problems become
`Finding`s, and a fatal one (anchor, alias, depth, second document) raises `StopWalk` so no further byte is read.
No I/O; used only by `load/document.py`.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from runner.load.lines import line_breaks, value_map
from runner.load.scalars import ScalarProblem, describe, resolve_plain, shown
from runner.model import CharMap, Finding, JSONPath, JSONValue, Position, Severity
from runner.model.shared import Shared

_DIRECTIVE = re.compile(r"^%(\S*)", re.MULTILINE)
_CORE_TAG_PREFIX = "tag:yaml.org,2002:"


class StopWalk(Exception):
    """Raised after a fatal finding: the rest of the stream must not be read."""


def position_at(text: str, index: int) -> Position:
    """The 1-based line and column of `text[index]`, counting CRLF, CR and LF as line breaks like YAML does."""
    line = 1 + text.count("\n", 0, index) + text.count("\r", 0, index) - text.count("\r\n", 0, index)
    line_start = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
    return Position(line=line, column=index - line_start + 1)


class _Frame:
    """An open mapping or sequence. `path` is None inside a discarded node (a complex key), which records nothing."""

    __slots__ = ("container", "expect_key", "first_lines", "is_map", "key", "key_ok", "key_position", "path")

    def __init__(self, container: dict[str, JSONValue] | list[JSONValue], path: JSONPath | None,
                 is_map: bool) -> None:
        self.container = container
        self.path = path
        self.is_map = is_map
        self.expect_key = is_map
        self.key = ""
        self.key_ok = False
        self.key_position = Position(line=1, column=1)
        self.first_lines: dict[str, int] = {}


# Every document's position maps are held until its repository is compiled (cross-file rules read them): at 10,000
# query files, one Position object and one path tuple per value and key were ~40 MiB. Equal ones are shared instead
# (both are immutable); the tables are bounded, and emptied when full, so a hostile file cannot grow them forever.
_positions: Shared[tuple[int, int], Position] = Shared()
_paths: Shared[JSONPath, JSONPath] = Shared()


def _position(line: int, column: int) -> Position:
    found = _positions.get((line, column))
    return found if found is not None else _positions.add((line, column), Position(line=line, column=column))


def _shared_path(path: JSONPath) -> JSONPath:
    found = _paths.get(path)
    return found if found is not None else _paths.add(path, path)


def _where(event: Any) -> Position:
    mark = event.start_mark
    return _position(mark.line + 1, mark.column + 1)


class EventWalker:
    """Consumes one stream's events; afterwards `root`, `values`, `keys`, `findings`, `spans` hold the outcome."""

    def __init__(self, *, text: str, path: str, max_depth: int, track_spans: bool) -> None:
        self.findings: list[Finding] = []
        self.root: JSONValue = None
        self.values: dict[JSONPath, Position] = {}
        self.keys: dict[JSONPath, Position] = {}
        self.lines: dict[JSONPath, tuple[Position, ...]] = {}  # where each line of a multi-line template value starts
        self.chars: dict[JSONPath, CharMap] = {}  # and where each of its characters is
        self._breaks: tuple[int, ...] | None = None
        self.documents = 0
        self.root_is_empty = False
        # (start, end) character offsets of quoted and block scalars, so their text is never taken for a comment.
        self.spans: list[tuple[int, int]] = []
        self._text = text
        self._path = path
        self._max_depth = max_depth
        self._track_spans = track_spans
        self._stack: list[_Frame] = []

    def feed(self, event: Any) -> bool:
        """Take the next event; False once the stream has ended."""
        kind = type(event)
        if kind is ScalarEvent:
            self._scalar(event)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            self._collection(event, is_map=kind is MappingStartEvent)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            self._stack.pop()
        elif kind is AliasEvent:
            self._fatal(_where(event), "yaml/alias",
                        f"aliases (*{event.anchor}) are not allowed; repeat the value instead")
        elif kind is DocumentStartEvent:
            self._document(event)
        elif kind is StreamEndEvent or event is None:
            return False
        return True

    def _scalar(self, event: Any) -> None:
        where = _where(event)
        if event.anchor is not None or event.ctag is not None:
            self._properties(event, where)
        text: str = event.value
        value: JSONValue
        problem: ScalarProblem | None = None
        if event.style:  # quoted or block: always a string
            value = text
            if self._track_spans:
                self.spans.append((event.start_mark.index, event.end_mark.index))
        else:
            value, problem = resolve_plain(text)
        if problem is not None:
            self._add(where, problem.rule, problem.message, problem.severity)
        frame = self._stack[-1] if self._stack else None
        if frame is not None and frame.expect_key:
            if isinstance(value, str):
                self._key(frame, value, where)
            else:
                self._bad_key(frame, where, f"mapping keys must be strings, and {shown(text)} is read as "
                                            f"{describe(value)}; quote it")
            return
        if not text and not event.style:
            if frame is None:
                self.root_is_empty = True
            elif frame.is_map:
                # An empty value has no text of its own, and the parsers disagree on where it "starts" (after the
                # colon, or at the next token, possibly lines later): its key is the stable place to point at.
                where = frame.key_position
        path = self._value(frame, value, where)
        # Only a template's lines are ever pointed at (its findings give a line of the value), and only a value that
        # holds a line break, or that YAML folded from several lines of the file, spans more than one line of the
        # file, so only those pay for the mapping.
        if path is not None and isinstance(value, str) and "{" in value and (
                "\n" in value or "\r" in value or event.end_mark.line > event.start_mark.line):
            if self._breaks is None:
                self._breaks = line_breaks(self._text)
            mapped = value_map(self._text, event.start_mark.index, event.style or None, value, self._breaks)
            if mapped is not None:
                self.lines[path], self.chars[path] = mapped

    def _collection(self, event: Any, *, is_map: bool) -> None:
        where = _where(event)
        if event.anchor is not None or event.ctag is not None:
            self._properties(event, where)
        if len(self._stack) >= self._max_depth:
            self._fatal(where, "yaml/too-deep",
                        f"mappings and sequences are nested more than {self._max_depth} levels deep")
        container: dict[str, JSONValue] | list[JSONValue] = {} if is_map else []
        frame = self._stack[-1] if self._stack else None
        path: JSONPath | None
        if frame is not None and frame.expect_key:
            self._bad_key(frame, where, f"mapping keys must be strings, not {describe(container)}")
            path = None
        else:
            path = self._value(frame, container, where)
        self._stack.append(_Frame(container, path, is_map))

    def _key(self, frame: _Frame, key: str, where: Position) -> None:
        frame.expect_key = False
        first = frame.first_lines.get(key)
        if first is not None:
            frame.key_ok = False
            self._add(where, "yaml/duplicate-key", f"duplicate key {shown(key)} (first defined on line {first})")
            return
        frame.first_lines[key] = where.line
        frame.key = key
        frame.key_position = where
        frame.key_ok = True

    def _bad_key(self, frame: _Frame, where: Position, message: str) -> None:
        frame.expect_key = False
        frame.key_ok = False
        self._add(where, "yaml/key-type", message)

    def _value(self, frame: _Frame | None, value: JSONValue, where: Position) -> JSONPath | None:
        """Attach `value` to the open collection (or make it the root); returns its path, None when discarded."""
        if frame is None:
            self.root = value
            self.values[()] = where
            return ()
        container = frame.container
        if isinstance(container, dict):
            frame.expect_key = True
            if not frame.key_ok:
                return None
            container[frame.key] = value
            if frame.path is None:
                return None
            path = _shared_path((*frame.path, frame.key))
            self.keys[path] = frame.key_position
        else:
            container.append(value)
            if frame.path is None:
                return None
            path = _shared_path((*frame.path, len(container) - 1))
        self.values[path] = where
        return path

    def _properties(self, event: Any, where: Position) -> None:
        if event.anchor is not None:
            self._fatal(where, "yaml/anchor",
                        f"anchors (&{event.anchor}) are not allowed; repeat the value instead")
        tag = str(event.ctag)
        if tag.startswith(_CORE_TAG_PREFIX):
            tag = "!!" + tag[len(_CORE_TAG_PREFIX):]
        self._add(where, "yaml/tag", f"tags are not allowed ({shown(tag)}); quote the value if it is a string")

    def _document(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            self._fatal(_where(event), "yaml/multiple-documents",
                        "the file holds more than one YAML document; keep one document per file")
        # Directives can only stand before the first document's `---`, at the start of a line.
        head = self._text[: event.end_mark.index]
        if "%" not in head:
            return
        for match in _DIRECTIVE.finditer(head):
            self._add(position_at(head, match.start()), "yaml/directive",
                      f"the %{match.group(1)} directive is not allowed (vqr reads YAML 1.2 with no tags)")

    def _add(self, where: Position, rule: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.findings.append(Finding(path=self._path, line=where.line, column=where.column, severity=severity,
                                     rule=rule, message=message))

    def _fatal(self, where: Position, rule: str, message: str) -> None:
        self._add(where, rule, message)
        raise StopWalk
