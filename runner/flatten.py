"""A result row's fields as the CSV and drift name them: `flatten_row(row)` (nested objects dotted, lists whole as
compact JSON text), `Scalar`, a field's value, and `leaf_scalar(value)`, what a field holds for a value that is not
an object. Pure, no I/O.

Why a module of its own, outside `runner.assess` (which re-exports both): the CSV worker process
(`report/csv_serve.py`) needs only this of the row model, and importing it through the assess package loaded the
whole model with it (~0.1 s of the worker's start-up in every run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from runner.jsontext import canonical_str

if TYPE_CHECKING:
    from runner.model import JSONValue

Scalar = str | int | float | bool | None


def flatten_row(row: JSONValue, prefix: str = "") -> dict[str, Scalar]:
    """Nested objects become dotted fields (`properties.status`); lists are kept whole as compact JSON text, so
    a reordered list is a change and a column never multiplies with list length. A `.` or `\\` inside a key is
    backslash-escaped (`{"a.b": 1}` is `a\\.b`, `{"a": {"b": 1}}` is `a.b`): two fields never share a name."""
    if not isinstance(row, dict):
        return {prefix or "value": leaf_scalar(row)}
    flat: dict[str, Scalar] = {}
    _flatten_into(flat, row, prefix)
    return flat


def _flatten_into(flat: dict[str, Scalar], row: Mapping[str, JSONValue], prefix: str) -> None:
    # Every row of every CSV and drift comparison passes here (tens of thousands a run): one dict filled in place,
    # and the exact types json gives tested before isinstance, which only other mappings and lists need.
    for key, value in row.items():
        field = prefix + key if "." not in key and "\\" not in key else prefix + _escaped_key(key)
        kind = value.__class__
        if kind is str or kind is int or value is None or kind is bool or kind is float:
            flat[field] = value  # type: ignore[assignment]
        elif kind is dict or isinstance(value, dict):
            _flatten_into(flat, value, field + ".")  # type: ignore[arg-type]
        else:
            flat[field] = leaf_scalar(value)


def _escaped_key(key: str) -> str:
    if "." not in key and "\\" not in key:  # nearly every key: no copy
        return key
    return key.replace("\\", "\\\\").replace(".", "\\.")


def leaf_scalar(value: JSONValue) -> Scalar:
    if value == []:  # most rows carry several empty lists: skip the encoder for them
        return "[]"
    if isinstance(value, list | dict):
        return canonical_str(value)
    return value
