"""A JSON document whose top level is an object, read from a file with one of its lists converted entry by entry.

`read_streamed(path, key, convert)` returns the object's fields as `json.loads` would (the last of a repeated key
wins) but for `key`, and apart `[convert(entry), ...]` of the list under `key` (None when there is no such list),
every entry parsed, converted and let go before the next is read: a 10,000-query run.json (90 MB) never sits in
memory as text or as one tree. Anything `json.loads` refuses raises ValueError here too. Reads the file in
blocks; no other I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from runner.model import JSONValue

T = TypeVar("T")
_BLOCK = 1 << 16
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Reader:
    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._text = ""
        self._at = 0
        self._ended = False

    def _more(self) -> bool:
        """Append the next block (at least as long as what is held, so a long value is re-parsed only a few
        times); False at the end of the file."""
        if self._ended:
            return False
        block = self._handle.read(max(_BLOCK, len(self._text) - self._at))
        if not block:
            self._ended = True
            return False
        self._text = self._text[self._at:] + block
        self._at = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space, not consumed; "" at the end."""
        while True:
            match = _SPACE.match(self._text, self._at)
            assert match is not None  # the pattern matches the empty string
            self._at = match.end()
            if self._at < len(self._text) or not self._more():
                return self._text[self._at:self._at + 1]

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise ValueError(f"expected {char!r}, found {found or 'the end'!r}")
        self._at += 1

    def value(self) -> JSONValue:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if self._more():
                    continue
                raise
            # A number (or a word) that reaches the end of what is read may go on in the next block.
            if end == len(self._text) and self._more():
                continue
            self._at = end
            result: JSONValue = value
            return result


def read_streamed(path: Path, key: str,
                  convert: Callable[[JSONValue], T]) -> tuple[dict[str, JSONValue], list[T] | None]:
    with path.open(encoding="utf-8") as handle:
        reader = _Reader(handle)
        fields: dict[str, JSONValue] = {}
        items: list[T] | None = None
        reader.expect("{")
        if reader.peek() == "}":
            reader.expect("}")
        else:
            while True:
                name = reader.value()
                if not isinstance(name, str):
                    raise ValueError("an object key must be a string")
                reader.expect(":")
                if name == key and reader.peek() == "[":
                    items = _list(reader, convert)
                    fields.pop(name, None)
                else:
                    fields[name] = reader.value()
                    if name == key:
                        items = None
                if reader.peek() == ",":
                    reader.expect(",")
                    continue
                reader.expect("}")
                break
        if reader.peek():
            raise ValueError("extra data after the document")
        return fields, items


def _list(reader: _Reader, convert: Callable[[JSONValue], T]) -> list[T]:
    reader.expect("[")
    items: list[T] = []
    if reader.peek() == "]":
        reader.expect("]")
        return items
    while True:
        items.append(convert(reader.value()))
        if reader.peek() == ",":
            reader.expect(",")
            continue
        reader.expect("]")
        return items
