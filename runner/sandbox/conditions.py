"""Evaluates condition expressions, tag specs and count conditions on one node, in three-valued logic.

Pure, no I/O. A property the node does not have makes its condition *unknown* (None), which `not` keeps unknown
and which excludes the node at the top: a misspelled property yields zero rows, as on Veza. Values may be
placeholders such as `$COOKIE_TIMEVAR_90_DAY_AGO`, resolved against the graph's `now`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from runner.sandbox.graph import Tag
from runner.sandbox.spec import Condition, ConditionExpr, CountExpr

MISSING: Any = object()
Getter = Callable[[str], Any]  # property name -> value, or MISSING
_TIMEVAR = re.compile(r"^\$COOKIE_TIMEVAR_(\d+)_(DAY|HOUR|MINUTE)S?_AGO$")
_UNITS = {"DAY": "days", "HOUR": "hours", "MINUTE": "minutes"}


@lru_cache(maxsize=256)
def _resolve_text(value: str, now: datetime) -> str:
    match = _TIMEVAR.match(value)
    if match:
        moment = now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def resolve_placeholders(value: Any, now: datetime) -> Any:
    """Replaces `$COOKIE_TIMEVAR_<N>_DAY_AGO` (also HOUR, MINUTE [assumed]) by an RFC 3339 UTC timestamp."""
    if isinstance(value, str):
        return _resolve_text(value, now) if value.startswith("$") else value
    if isinstance(value, list):
        return [resolve_placeholders(item, now) for item in value]
    return value


def _timestamp(text: str) -> datetime | None:
    if len(text) < 20 or text[4] != "-" or text[10] not in "Tt ":
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        # Nanosecond precision (Veza sends it) is beyond fromisoformat: keep microseconds.
        head, dot, tail = text.partition(".")
        if not dot:
            return None
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits):]
        return _timestamp(f"{head}.{digits[:6]}{zone}")
    return stamp if stamp.tzinfo is not None else None


def _coerce(actual: Any, value: Any) -> Any:
    """`value` converted to `actual`'s JSON type where the wire allows it: int64 strings, "true"/"false"."""
    if isinstance(actual, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value
    if isinstance(actual, int | float) and isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value


def _equal(actual: Any, value: Any) -> bool:
    if isinstance(actual, list):
        return actual == value or any(_equal(item, value) for item in actual)
    value = _coerce(actual, value)
    if isinstance(actual, bool) != isinstance(value, bool):
        return False
    return bool(actual == value)


def _order(actual: Any, value: Any) -> int | None:
    """-1, 0, 1 comparing actual with value; None when they cannot be ordered (then LT/GT... are false)."""
    if actual is None or value is None or isinstance(actual, bool) or isinstance(value, bool):
        return None
    value = _coerce(actual, value)
    if isinstance(actual, str) and isinstance(value, str):
        if len(actual) == len(value) == 20 and actual[-1] == value[-1] == "Z":
            pass  # both canonical UTC timestamps: the text order is the time order
        elif (left := _timestamp(actual)) is not None and (right := _timestamp(value)) is not None:
            return (left > right) - (left < right)
        return (actual > value) - (actual < value)
    if isinstance(actual, int | float) and isinstance(value, int | float):
        return (actual > value) - (actual < value)
    return None


def _apply(fn: str, actual: Any, value: Any) -> bool:
    if fn == "EQ":
        return _equal(actual, value)
    if fn == "NEQ":
        return not _equal(actual, value)
    if fn in ("IN", "NOT_IN"):
        found = any(_equal(actual, item) for item in (value if isinstance(value, list) else [value]))
        return found if fn == "IN" else not found
    if fn in ("LT", "LTE", "GT", "GTE"):
        order = _order(actual, value)
        if order is None:
            return False
        return {"LT": order < 0, "LTE": order <= 0, "GT": order > 0, "GTE": order >= 0}[fn]
    if fn == "CONTAINS":
        if isinstance(actual, list):
            return any(_equal(item, value) for item in actual)
        return isinstance(actual, str) and isinstance(value, str) and value in actual
    if fn in ("STARTS_WITH", "ENDS_WITH"):
        if not (isinstance(actual, str) and isinstance(value, str)):
            return False
        return actual.startswith(value) if fn == "STARTS_WITH" else actual.endswith(value)
    return False


def evaluate_condition(cond: Condition, get: Getter, other: Getter | None, now: datetime) -> bool | None:
    actual = get(cond.prop)
    if actual is MISSING:
        return None
    if cond.value_property:
        source = other if cond.from_other_node else get
        if source is None:
            return None
        value = source(cond.value_property)
        if value is MISSING:
            return None
    else:
        value = resolve_placeholders(cond.value, now)
    result = _apply(cond.fn, actual, value)
    return not result if cond.negate else result


def tag_matches(spec_type: str | None, key: str, value: str | None, tags: Sequence[Tag]) -> bool:
    """Tag types compare case-insensitively [assumed]; keys and values exactly."""
    return any(tag.key == key and (value is None or tag.value == value)
               and (spec_type is None or tag.type.upper() == spec_type.upper()) for tag in tags)


def _combine(results: list[bool | None], use_and: bool) -> bool | None:
    """Kleene AND/OR: a definite answer wins over unknown where logic allows it."""
    if use_and:
        return False if False in results else (None if None in results else True)
    return True if True in results else (None if None in results else False)


def evaluate_expression(expr: ConditionExpr, get: Getter, tags: Callable[[], Sequence[Tag]],
                        other: Getter | None, now: datetime) -> bool | None:
    results: list[bool | None] = [evaluate_condition(c, get, other, now) for c in expr.conditions]
    if expr.tags:
        node_tags = tags()
        results += [tag_matches(t.type, t.key, t.value, node_tags) != t.exclude for t in expr.tags]
    results += [evaluate_expression(child, get, tags, other, now) for child in expr.children]
    if not results:
        result: bool | None = True
    else:
        result = _combine(results, expr.use_and)
    if expr.negate and result is not None:
        return not result
    return result


def needs_other_node(expr: ConditionExpr | None) -> bool:
    if expr is None:
        return False
    return any(c.from_other_node for c in expr.conditions) or any(needs_other_node(c) for c in expr.children)


def count_satisfies(expr: CountExpr, count: int) -> bool:
    """Whether a related-entity count satisfies a count condition (`include_zero` is the caller's business)."""
    results = [_apply(fn, count, value) for fn, value in expr.specs]
    results += [count_satisfies(child, count) for child in expr.children]
    result = (all(results) if expr.use_and else any(results)) if results else True
    return not result if expr.negate else result
