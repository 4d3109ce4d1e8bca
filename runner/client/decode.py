"""Reply bytes → one JSON value, or a `ValueError` whose message says what is wrong and where.

Strict where the json module is lenient: the bytes must be UTF-8; NaN, Infinity and numbers too large for a double
are refused (JSON has none of them, and a .jsonl file holding them is not JSON Lines); nesting deeper than
`MAX_DEPTH` is refused, so no code that later walks a row can recurse without bound. orjson parses first (its own
parser stops at 1,024 levels) and the parsed value's depth is bounded in C; whatever orjson declines takes the json
module with a linear nesting scan before parsing, which also words every error. Pure, no I/O.
"""

from __future__ import annotations

import json
import math
import re

from runner.jsontext import fast_loads, nests_within
from runner.model import JSONValue

MAX_DEPTH = 256  # far above any Veza reply (rows nest about 5 deep), far below Python's recursion limit (1000)
MiB = 1 << 20
DEFAULT_MAX_REPLY_BYTES = 64 * MiB  # one reply (one page) read into memory at most; ClientConfig.max_reply_bytes

_KEEP = b'[]{}"'
_ONLY_STRUCTURE = bytes(b for b in range(256) if b not in _KEEP)  # translate() deletes every other byte
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # for depth, an object is a level like an array
_QUOTED = re.compile(rb'"[^"]*"')
_QUICK_PASSES = 6  # leaf-pair removals before counting byte by byte: a typical reply is empty after 5 or 6


class _Refused(ValueError):
    """Raised from inside the parser by the hooks below; its message is already the reason."""


def _refuse_constant(name: str) -> float:
    raise _Refused(f"holds {name}, which JSON does not allow")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"holds the number {text[:40]}, too large for a double")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)


def nesting_depth_exceeds(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than `limit`. Linear in `len(data)`, no recursion.

    Escapes go first (an escaped backslash, then an escaped quote, then any other backslash), so every quote left
    delimits a string; everything but brackets and quotes is dropped, then every quoted part (brackets inside
    strings do not nest). An unbalanced text may be called too deep: the parser refuses it anyway.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # too few openers to nest that deep: the common case for small replies
    reduced = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _ONLY_STRUCTURE)
    # Two adjacent quotes are an empty string or the boundary between two strings: dropping them changes no
    # bracket outside a string. Only strings that hold brackets are left for the (slower) regular expression.
    reduced = reduced.replace(b'""', b"")
    if b'"' in reduced:
        reduced = _QUOTED.sub(b"", reduced)
    brackets = reduced.translate(_ONE_KIND)
    # Each pass removes every innermost pair, so the deepest nesting drops by exactly one per pass.
    for _ in range(min(limit, _QUICK_PASSES)):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte == 0x5B else -1
        if depth > deepest:
            deepest = depth
            if deepest + min(limit, _QUICK_PASSES) > limit:
                return True
    return False


def decode_json(data: bytes, *, max_depth: int = MAX_DEPTH) -> JSONValue:
    """The JSON value of `data`; else `ValueError` whose message is the reason as a verb phrase ("is not valid
    UTF-8 (byte 0xff at offset 6)", "nests deeper than 256 levels"), to follow "the reply"."""
    # orjson first (runner/jsontext.py): several times faster on a result page, and when it answers, its value is the
    # json module's. Everything it declines (invalid or unusual text, deep nesting) takes the exact path below.
    value = fast_loads(data)
    if value is not None and nests_within(value, max_depth):
        return value
    return decode_json_exactly(data, max_depth=max_depth)


def decode_json_exactly(data: bytes, *, max_depth: int = MAX_DEPTH) -> JSONValue:
    """`decode_json` by the json module alone: the reference the orjson path must agree with."""
    if nesting_depth_exceeds(data, max_depth):  # first: its copies are freed before the text is built
        raise ValueError(f"nests deeper than {max_depth} levels")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte order mark: RFC 8259 §8.1 lets a parser ignore it
    try:
        value: JSONValue = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"is not JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except _Refused:
        raise
    except ValueError as error:  # int(): an integer of more than 4,300 digits
        raise ValueError(f"cannot be read as JSON: {str(error).split(';')[0]}") from None
    except RecursionError:  # cannot happen below MAX_DEPTH; kept so that a lowered recursion limit stays contained
        raise ValueError(f"nests deeper than {max_depth} levels") from None
    return value
