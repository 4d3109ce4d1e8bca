"""A CSV's lines made a column at a time: `column_lines(rows, paths)` gives, for rows that each hold every named
field as a plain value, the text `csv.writer` would write for them from the row-by-row writer's cells
(`csv_export`), or None when some row is not like that (a field missing, an object where a value was, a row that
is not an object), and the caller writes those rows one by one as before. `field_path(name)` is where a flattened
field's value sits in its row; `raw_shape(row)` is what its flattened fields depend on; `cell(value)` is one cell.
Pure, no I/O.

Why: the CSV worker's time was the rows, about 50 µs each for a typical 26-field row: flattening each into a dict,
a lookup, a type test and a call per cell, all interpreted, then `csv.writer` scanning every cell for characters to
quote. Nearly every result's rows share their fields, so the work is done per column instead: the values fetched
by `operator.itemgetter` over all rows, their types taken by `map(type, ...)`, and a text made into its cell and
quoted once per distinct value, its key looked for once per batch (`sanitize.csv_cells`); the lines are joined by
`str.join`, all in C.

Same bytes, by construction and by tests against `csv.writer` and the row-by-row writer:
- a field's name says where its value is: `flatten.py` escapes `.` and `\\` inside keys, so a name splits into its
  keys one way only; fetching it from a row succeeds exactly when the row has it, and the value found is flatten's
  whenever it is a plain JSON value (text, number, boolean, null, list); an object (which flatten opens into other
  fields) sends the chunk to the row-by-row writer;
- quoting is `csv.writer`'s QUOTE_MINIMAL with the `excel` dialect and `\r\n` lines: a field holding `,`, `"`,
  CR or LF is quoted, its `"` doubled; None is empty, a number is its `repr`. A one-column CSV goes row by row
  (the writer quotes an empty record's lone field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import compress
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from runner.flatten import Scalar, leaf_scalar
from runner.sanitize import csv_cell, csv_cells

if TYPE_CHECKING:
    from runner.model import JSONValue

_NONE = type(None)
_KEYED = frozenset({str, bool, _NONE})  # no two distinct values of these are equal: safe as dict keys
_LEAVES = frozenset({str, int, float, bool, _NONE})  # flatten keeps these as they are
_PLAIN = _LEAVES | {list, dict}  # what JSON decoders give; a row holding anything else is never vouched for


def cell(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return csv_cell(value)
    return json.dumps(value)


def _quoted(text: str) -> str:
    """`text` as csv.writer writes a field (QUOTE_MINIMAL, excel dialect, CRLF lines)."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _field(value: Scalar) -> str:
    """A flattened value as the row-by-row writer's cell, as csv.writer writes it."""
    kind = value.__class__
    if kind is str:
        return _quoted(csv_cell(value))  # type: ignore[arg-type]
    if value is None:
        return ""
    if kind is int or kind is float:
        return repr(value)
    return _quoted(cell(value))


def field_path(name: str) -> tuple[str, ...]:
    """The keys of a flattened field (`a.b` is ("a", "b"), `a\\.b` is ("a.b",)): flatten's escaping undone."""
    if "\\" not in name:
        return tuple(name.split("."))
    keys: list[str] = []
    current: list[str] = []
    escaped = False
    for char in name:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(char)
    keys.append("".join(current))
    return tuple(keys)


def raw_shape(row: JSONValue) -> tuple[Any, ...] | None:
    """The row's keys in order with their values' types, and each object value's own shape: rows of one shape
    flatten to the same fields in the same order. None for a row this cannot vouch for (not an object, or holding
    a type no JSON decoder gives), which the caller flattens itself."""
    if row.__class__ is not dict:
        return None
    values = row.values()
    kinds = tuple(map(type, values))
    if not _PLAIN.issuperset(kinds):
        return None
    if dict not in kinds:
        return tuple(row), kinds
    nested = []
    for value in values:
        if value.__class__ is dict:
            shape = raw_shape(value)
            if shape is None:
                return None
            nested.append(shape)
    return tuple(row), kinds, tuple(nested)


def _columns(rows: Sequence[JSONValue], paths: Sequence[tuple[str, ...]], *,
             exact: bool) -> list[Sequence[Any]] | None:
    """Each path's values over `rows`, or None when a row lacks one (or holds a text or list where an object was),
    or, if `exact`, holds any other key. The fields of one object are fetched together, one `itemgetter` of all
    their keys, and transposed by `zip`."""
    by_parent: dict[tuple[str, ...], list[int]] = {}
    children: dict[tuple[str, ...], set[str]] = {}  # the keys each object holds, when it holds no other
    for index, path in enumerate(paths):
        by_parent.setdefault(path[:-1], []).append(index)
        for depth in range(len(path)):
            children.setdefault(path[:depth], set()).add(path[depth])
    holders: dict[tuple[str, ...], Sequence[Any]] = {(): rows}
    columns: list[Sequence[Any]] = [()] * len(paths)
    try:
        for parent, indices in by_parent.items():
            for depth in range(1, len(parent) + 1):  # the objects that hold this parent's fields
                if parent[:depth] not in holders:
                    holders[parent[:depth]] = list(map(itemgetter(parent[depth - 1]), holders[parent[:depth - 1]]))
            keys = [paths[index][-1] for index in indices]
            found = ([tuple(map(itemgetter(keys[0]), holders[parent]))] if len(keys) == 1
                     else list(zip(*map(itemgetter(*keys), holders[parent]), strict=True)))
            for index, column in zip(indices, found, strict=True):
                columns[index] = column
    except (LookupError, TypeError):  # a row without the field, or a text or list where an object was
        return None
    if exact:  # each object has all the keys fetched from it (or it failed above): as many means no other
        for prefix, objects in holders.items():
            if set(map(len, objects)) != {len(children[prefix])}:
                return None
    return columns


_NEEDS_QUOTES = re.compile('[,"\r\n]')


def _quote_all(cells: dict[str, str]) -> dict[str, str]:
    """`cells` with each value quoted as csv.writer quotes a field (see `_quoted`), found by one C search each."""
    texts = list(cells)
    for text in compress(texts, map(_NEEDS_QUOTES.search, map(cells.__getitem__, texts))):
        cells[text] = _quoted(cells[text])
    return cells


def column_lines(rows: Sequence[JSONValue], paths: Sequence[tuple[str, ...]], *, exact: bool = False) -> str | None:
    """The CSV lines of `rows` (not empty) for the named fields at `paths` (two or more), each ending in CRLF, or
    None: write them row by row. `exact`: None too when a row has any field besides these (then they are only the
    first row's fields, not yet the columns of all)."""
    columns = _columns(rows, paths, exact=exact)
    if columns is None:
        return None
    kinds_of: list[set[type]] = []
    texts: set[Any] = set()  # every distinct text of the chunk, made into a cell once (a value often sits in
    for index, values in enumerate(columns):  # several fields: an id, a name, an email)
        kinds = set(map(type, values))
        if not _LEAVES.issuperset(kinds):
            if not _PLAIN.issuperset(kinds) or dict in kinds:
                return None  # an object here is other fields to flatten: the row-by-row writer names them
            columns[index] = values = list(map(leaf_scalar, values))  # lists as flatten writes them
            kinds = set(map(type, values))
        kinds_of.append(kinds)
        if _KEYED.issuperset(kinds):  # texts, booleans, None: no two distinct ones are equal
            texts.update(values)
    texts.difference_update((None, True, False))
    # The memo's keys are texts, booleans and None only: True == 1 and 0 == 0.0 == -0.0 never meet in it.
    fields: dict[Any, str] = {None: "", True: "true", False: "false", **_quote_all(csv_cells(texts))}
    lines: list[list[str]] = []
    for values, kinds in zip(columns, kinds_of, strict=True):
        if _KEYED.issuperset(kinds):
            lines.append(list(map(fields.__getitem__, values)))
        elif kinds == {int}:
            lines.append(list(map(repr, values)))
        else:  # numbers beside None, texts or booleans: one by one
            lines.append(list(map(_field, values)))
    return "\r\n".join(map(",".join, zip(*lines, strict=True))) + "\r\n"
