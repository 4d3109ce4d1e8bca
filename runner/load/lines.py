"""Where each line of a multi-line string value starts in its file, whatever the scalar's style.

In: the file's text, the scalar's start offset and style (plain, `'`, `"`, `|`, `>`), and its value as the parser
read it. Out: for each line of the value (split as Jinja counts lines), the position of its first non-blank
character; None when the source cannot be matched to the value exactly, so callers point at the scalar's start
rather than at a wrong line. `value_map` also gives each character of the value its place (`CharMap`), so a
position inside one template line that YAML folded from several file lines (plain, `'`, `"` folding or `\\` line
continuations) is found by character offset, not by the line's start. Pure, no I/O.
"""

from __future__ import annotations

import bisect

from runner.model import CharMap, Position

_BLANK = " \t\r\n"
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
            "P": "\u2029"}
_HEX = {"x": 2, "u": 4, "U": 8}
_Pairs = list[tuple[str, int]]  # each character of the value, with its offset in the file (-1: not placed)


def line_breaks(text: str) -> tuple[int, ...]:
    """The offset where each line after the first starts (after LF, CRLF or a lone CR, as YAML counts lines)."""
    return tuple(index + 1 for index, char in enumerate(text)
                 if char == "\n" or (char == "\r" and not text.startswith("\n", index + 1)))


def line_starts(text: str, start: int, style: str | None, value: str,
                breaks: tuple[int, ...]) -> tuple[Position, ...] | None:
    """The position of each line of `value`, a scalar starting at offset `start` of `text` (`breaks`: from
    `line_breaks(text)`)."""
    mapped = value_map(text, start, style, value, breaks)
    return None if mapped is None else mapped[0]


def value_map(text: str, start: int, style: str | None, value: str,
              breaks: tuple[int, ...]) -> tuple[tuple[Position, ...], CharMap] | None:
    """`line_starts`, and where each character of `value` is."""
    if style == '"':
        pairs = _double_quoted(text, start + 1)
        if pairs is None or "".join(char for char, _ in pairs) != value:
            return None
    else:
        pairs = _aligned(text, _content_start(text, start, style), value, single_quoted=style == "'")
        if pairs is None:
            return None
    offsets = _first_offsets(pairs)
    positions: list[Position] = []
    fallback = _position(breaks, start)
    for offset in reversed(offsets):  # a blank line takes the next line's start, the last one the scalar's
        if offset >= 0:
            fallback = _position(breaks, offset)
        positions.append(fallback)
    if len(pairs) != len(value):
        return None
    return tuple(reversed(positions)), CharMap(offsets=tuple(offset for _, offset in pairs), breaks=breaks)


def _position(breaks: tuple[int, ...], offset: int) -> Position:
    line = bisect.bisect_right(breaks, offset)
    return Position(line=line + 1, column=offset - (breaks[line - 1] if line else 0) + 1)


def _content_start(text: str, start: int, style: str | None) -> int:
    if style in ("|", ">"):  # after the header line (indicators and perhaps a comment)
        ends = [at for at in (text.find("\n", start), text.find("\r", start)) if at >= 0]
        return min(ends) + 1 if ends else len(text)
    return start + 1 if style == "'" else start


def _aligned(text: str, at: int, value: str, *, single_quoted: bool) -> _Pairs | None:
    """Plain, single-quoted and block scalars differ from their source only in blanks (folding, indentation) and
    `''`: so each non-blank character of the value is the next non-blank character of the source."""
    pairs: _Pairs = []
    end = len(text)
    for char in value:
        if char in _BLANK:
            pairs.append((char, -1))
            continue
        while at < end and text[at] in _BLANK:
            at += 1
        if at >= end:
            return None
        if single_quoted and char == "'":
            if not text.startswith("''", at):
                return None
            pairs.append((char, at))
            at += 2
        elif text[at] == char:
            pairs.append((char, at))
            at += 1
        else:
            return None
    return pairs


def _double_quoted(text: str, at: int) -> _Pairs | None:
    """Decode a double-quoted scalar from just after its opening quote, as YAML does: escapes, escaped line breaks,
    and line folding (a break becomes a space, or n empty lines n newlines; blanks around breaks dropped)."""
    pairs: _Pairs = []
    end = len(text)
    while at < end:
        char = text[at]
        if char == '"':
            return pairs
        if char == "\\":
            code = text[at + 1: at + 2]
            if code in ("\n", "\r"):
                at, empty = _skip_breaks(text, at + 1)
                pairs += [("\n", -1)] * (empty - 1)
            elif code in _HEX:
                digits = text[at + 2: at + 2 + _HEX[code]]
                try:
                    pairs.append((chr(int(digits, 16)), at))
                except ValueError:
                    return None
                at += 2 + _HEX[code]
            elif code in _ESCAPES:
                pairs.append((_ESCAPES[code], at))
                at += 2
            else:
                return None
        elif char in " \t":
            run = at
            while run < end and text[run] in " \t":
                run += 1
            if run < end and text[run] in "\r\n":
                at = run  # blanks before a line break are not part of the value
                continue
            pairs += [(text[k], k) for k in range(at, run)]
            at = run
        elif char in "\r\n":
            at, breaks = _skip_breaks(text, at)
            pairs += [("\n", -1)] * (breaks - 1) if breaks > 1 else [(" ", -1)]
        else:
            pairs.append((char, at))
            at += 1
    return None


def _skip_breaks(text: str, at: int) -> tuple[int, int]:
    """From a line break: past it, the empty lines after it and the next line's leading blanks; and how many line
    breaks that was."""
    breaks = 0
    end = len(text)
    while at < end and text[at] in "\r\n":
        at += 2 if text.startswith("\r\n", at) else 1
        breaks += 1
        while at < end and text[at] in " \t":
            at += 1
    return at, breaks


def _first_offsets(pairs: _Pairs) -> list[int]:
    """Per line of the value (a line ends at \\n, \\r or \\r\\n, as Jinja counts), the offset of its first placed
    non-blank character, -1 for none."""
    offsets = [-1]
    previous = ""
    for char, offset in pairs:
        if char in "\r\n":
            if not (char == "\n" and previous == "\r"):
                offsets.append(-1)
        elif offsets[-1] < 0 and offset >= 0 and char not in " \t":
            offsets[-1] = offset
        previous = char
    return offsets
