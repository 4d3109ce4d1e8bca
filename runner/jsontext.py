"""JSON text at C speed with the standard library's exact results: orjson where it agrees, `json` where it may not.

`canonical(value)` is `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` as UTF-8 bytes,
and `canonical_lines(values)` is one such line per value; `indented(value)` is `json.dumps(value, indent=2,
ensure_ascii=False)`; `fast_loads(data)` is `json.loads(data)` or None when
only the standard library can say (see below). Pure, no I/O.

Why: rows are decoded from every result page and encoded again for the results file, the CSV and drift; with the
json module that was a quarter of the client's CPU in a large run, and orjson does it several times faster. Where
orjson's answer could differ from the json module's, the json module's is used, so results files, digests and error
messages stay byte for byte what they were:
- orjson writes floats below 1e-4 as `1e-7` or `0.00001`, where `repr` writes `1e-07` and `1e-05`: output holding
  a number with `e-`, or `0.0000` (which every such float has, and a few strings do), is made again by `json`;
- orjson reads an integer beyond 64 bits as a float: input holding a run of 19 digits is left to `json`;
- orjson refuses a byte order mark, lone surrogates, integers beyond 64 bits and nesting of 255 levels when
  writing: each raises, and the caller falls back.
One precondition, which `client/decode.decode_json` guarantees for every row: no NaN or infinity (orjson would
write `null` where `json` with allow_nan=False raises).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:  # the type only: the CSV worker imports this module without the model
    from runner.model import JSONValue

_SORTED = orjson.OPT_SORT_KEYS
_STDLIB = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# Digits 1-9 become 0, so one find() of 19 zeros spots any run of 19 digits or more, in C.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19  # 2**63 has 19 digits: every integer orjson would read as a float has at least as many


_NUMBER_BYTES = frozenset(b"0123456789.-")
# A number follows one of these, or starts the text: orjson's compact output puts it after `:`, `,` or `[`, a newline
# separates the lines of a page, and indented output puts spaces before it.
_BEFORE_A_VALUE = frozenset(b":,[\n ")


def _may_differ(text: bytes) -> bool:
    """Whether `text` may hold a float orjson writes unlike `repr`: `0.0000...`, or a number with `e-`. Each `e-`
    is looked at (few in a page): a UUID's "ad9e-0000" and a word's "acme-" are not numbers, since a number starts
    after `:`, `,`, `[`, a newline or a space; a string that happens to hold one only costs the slow path."""
    if b"0.0000" in text:
        return True
    at = text.find(b"e-")
    while at > 0:
        start = at
        while start > 0 and text[start - 1] in _NUMBER_BYTES:
            start -= 1
        if start < at and (start == 0 or text[start - 1] in _BEFORE_A_VALUE):
            return True
        at = text.find(b"e-", at + 2)
    return False


def _fast(value: JSONValue) -> bytes | None:
    try:
        text = orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, very deep nesting, a lone surrogate
        return None
    return None if _may_differ(text) else text


def canonical(value: JSONValue) -> bytes:
    """`value` as compact JSON with sorted keys, UTF-8 (no NaN or infinity in it: see the module's precondition)."""
    text = _fast(value)
    return _STDLIB.encode(value).encode() if text is None else text


def canonical_str(value: JSONValue) -> str:
    """`canonical` as text; a lone surrogate stays in it, as `json.dumps` leaves it."""
    text = _fast(value)
    return _STDLIB.encode(value) if text is None else text.decode()


_INDENTED = json.JSONEncoder(indent=2, ensure_ascii=False)
# Types the json module cannot write go to orjson's `default` (none): it raises, and the json module raises its own.
_INDENT_OPTIONS = (orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)


def indented(value: JSONValue) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, the same text: the json module writes indented JSON in
    pure Python (its C encoder is compact only), orjson about twenty times faster."""
    try:
        text = orjson.dumps(value, option=_INDENT_OPTIONS)
    except orjson.JSONEncodeError:
        return _INDENTED.encode(value)
    return _INDENTED.encode(value) if _may_differ(text) else text.decode()


def canonical_lines(values: list[JSONValue]) -> bytes:
    """One canonical line per value, each ending in a newline; a page's rows at once (one check, one join)."""
    if not values:
        return b""
    dumps = orjson.dumps
    try:
        text = b"\n".join([dumps(value, option=_SORTED) for value in values]) + b"\n"
    except orjson.JSONEncodeError:
        text = b""
    if text and not _may_differ(text):  # empty: orjson declined
        return text
    return exact_lines(values)


def exact_lines(values: list[JSONValue]) -> bytes:
    """`canonical_lines` by the json module alone: NaN or infinity raise `ValueError` (for rows of other origin)."""
    return ("\n".join([_STDLIB.encode(value) for value in values]) + "\n").encode()


def exact_str(value: JSONValue) -> str:
    """`canonical_str` by the json module alone, raising as `exact_lines` does."""
    return _STDLIB.encode(value)


def fast_loads(data: bytes) -> JSONValue | None:
    """`data` parsed by orjson when the json module would give the same value, else None (then the caller parses
    with the json module, which also words every error). A top-level `null` is None too: the caller's slow path
    reads it again, a few bytes. Nesting is bounded by orjson's own limit (1,024); see `nests_within`."""
    if data.translate(_DIGITS_AS_ZERO).find(_LONG_RUN) >= 0:
        return None
    try:
        value: JSONValue = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value


def parse_line(data: bytes) -> JSONValue:
    """`json.loads(data)`: its value, and its error (a ValueError) for what is not JSON. Every reader of a results
    file parses its lines here: a line by the json module took 5-15 µs, about five times orjson's."""
    value = fast_loads(data)
    return json.loads(data) if value is None else value


WRITER_DEPTH = 254  # orjson refuses to write a value nested deeper


def nests_within(value: JSONValue, limit: int) -> bool:
    """Whether `value` surely nests at most `limit` levels (False: deeper, or unknown). For a parsed value the
    cheapest sound bound: orjson refuses, in C and before writing anything out, a value nested past WRITER_DEPTH."""
    if limit < WRITER_DEPTH:
        return False
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return False  # too deep, or not writable by orjson at all (a big integer): the caller checks exactly
    return True
