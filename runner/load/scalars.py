"""YAML 1.2 core-schema resolution of plain (unquoted) scalars, with the ambiguities other parsers read differently.

`resolve_plain(text)` returns the JSON value a plain scalar stands for and at most one `ScalarProblem` (an unquoted
date, `.inf`/`.nan`, a YAML 1.1 boolean...). Pure functions, no I/O; used by `load/events.py` while it walks parser
events.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from runner.model import JSONValue, Severity

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
# YAML 1.1 parsers (PyYAML, SnakeYAML, many CI tools) read these as booleans; YAML 1.2 reads them as strings. The
# spec's single letters y/n are left out: PyYAML ignores them, and flagging every `x:`/`y:` key would be noise.
_YAML11_BOOLS = frozenset({"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"})
_INT_DEC = re.compile(r"[-+]?[0-9]+")
_INT_OCT = re.compile(r"0o[0-7]+")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
# The YAML 1.1 timestamp type: what PyYAML and others turn into a date or datetime object.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?"
)
# Every plain scalar that is not a string under either YAML version starts with one of these.
_SPECIAL_FIRST = frozenset("-+.0123456789~nNtTfFyYoO")

_MAX_SHOWN = 40
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT64_DIGITS = {10: 19, 8: 21, 16: 16}  # the most significant digits a 64-bit integer has in each base


@dataclass(frozen=True, kw_only=True, slots=True)
class ScalarProblem:
    rule: str
    message: str
    severity: Severity = Severity.ERROR


def shown(text: str) -> str:
    """A scalar as quoted in a message, cut short so one finding stays one readable line."""
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return repr(text)


def resolve_plain(text: str) -> tuple[JSONValue, ScalarProblem | None]:
    """The value of a plain scalar under the YAML 1.2 core schema, and what is wrong or ambiguous about it."""
    if text and text[0] not in _SPECIAL_FIRST:
        return text, None
    if text in _NULLS:
        return None, None
    if text in _TRUES:
        return True, None
    if text in _FALSES:
        return False, None
    if text in _YAML11_BOOLS:
        return text, ScalarProblem(
            rule="yaml/ambiguous-boolean",
            message=f"{shown(text)} is a string here but a boolean to YAML 1.1 parsers; quote it or use true/false",
            severity=Severity.WARNING,
        )
    if _INT_DEC.fullmatch(text):
        return _integer(text, text.lstrip("+-"), 10)
    if _INT_OCT.fullmatch(text):
        return _integer(text, text[2:], 8)
    if _INT_HEX.fullmatch(text):
        return _integer(text, text[2:], 16)
    if _FLOAT.fullmatch(text):
        number = float(text)
        if math.isinf(number):
            return text, ScalarProblem(
                rule="yaml/non-json",
                message=f"{shown(text)} is too large for a JSON number; quote it if it is a string",
            )
        return number, None
    if _INFINITY.fullmatch(text) or _NAN.fullmatch(text):
        return text, ScalarProblem(
            rule="yaml/non-json",
            message=f"{shown(text)} is not a JSON number (JSON has no infinity or NaN); quote it if it is a string",
        )
    if _TIMESTAMP.fullmatch(text):
        return text, ScalarProblem(
            rule="yaml/unquoted-date", message=f"{shown(text)} is read as a date by some YAML parsers; quote it"
        )
    return text, None


def _integer(text: str, digits: str, base: int) -> tuple[JSONValue, ScalarProblem | None]:
    """An integer within 64 bits, or a problem. The digits are counted before `int()` is called: Python refuses to
    convert more than 4,300 digits (ValueError), and the loader must not raise."""
    significant = digits.lstrip("0") or "0"  # leading zeros count towards Python's limit too
    if len(significant) <= _INT64_DIGITS[base]:
        value = -int(significant, base) if text.startswith("-") else int(significant, base)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value, None
    return text, ScalarProblem(
        rule="yaml/non-json",
        message=f"{shown(text)} does not fit in a 64-bit integer, the largest Veza reads; quote it if it is a string",
    )


def describe(value: JSONValue) -> str:
    """What a resolved non-string scalar is, for messages ("an integer")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "a sequence"
    if isinstance(value, dict):
        return "a mapping"
    return "a string"
