"""A fast "valid" for the bundled schemas: `fast_checker(schema)` compiles a schema for jsonschema-rs (Rust) and
returns `surely_valid(instance) -> bool`, or None when the two validators could disagree on that schema.

Why: the compile checks every query file twice (the file as written, then its rendered spec), and jsonschema walks
each one in Python, about 1 ms a query: a third of a 2,000-query compile. jsonschema-rs answers the same yes/no in
microseconds. Only its yes is used: `surely_valid` False (invalid, or a value it cannot take) sends the instance to
jsonschema, which makes every finding exactly as before. So the findings cannot change as long as a yes here is
never a no there; what keeps it so:
- `pattern` is checked by Python's own `re.search`, as jsonschema does (a keyword of ours, called back from Rust):
  the two regex dialects differ (`\\s` matches U+FEFF in ECMA-262 but not in Python; `$` does not match before a
  final newline in Rust), so a Rust pattern could accept what Python's refuses;
- a schema with `patternProperties` (regex keys, no such hook) gets no fast checker, nor does one jsonschema-rs
  cannot compile;
- formats are annotations in both (jsonschema is built without a format checker), and no reference is fetched;
- an instance that is not plain JSON (a tuple, bytes, NaN, an integer beyond 64 bits, a lone surrogate) is always
  jsonschema's: the two libraries read such Python values differently;
- a property test holds "yes here implies no error there" on the bundled schemas over mutated query files.
Only the bundled schemas get one (`validate/schemas.py`): a project's own schema is checked by jsonschema alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

_PATTERN = "x-vqr-python-pattern"  # our keyword: `pattern`, with Python's regex semantics
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})  # name -> subschema
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE = frozenset({"not", "if", "then", "else", "items", "additionalItems", "additionalProperties",
                         "propertyNames", "contains", "unevaluatedItems", "unevaluatedProperties"})
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_INT_RANGE = range(-(2 ** 63), 2 ** 64)  # what jsonschema-rs reads as a JSON number without loss


class _Unsafe(Exception):
    """The schema uses something the two validators could read differently."""


class _PythonPattern:
    """`pattern` as jsonschema checks it: `re.search` on a string, anything else passes."""

    def __init__(self, parent_schema: object, value: object, schema_path: object) -> None:
        if not isinstance(value, str):
            raise _Unsafe("pattern")
        self._search = re.compile(value).search

    def validate(self, instance: object) -> None:
        if isinstance(instance, str) and self._search(instance) is None:
            raise ValueError("does not match")


def _rewritten(node: Any) -> Any:
    """The schema with every `pattern` keyword renamed to ours (only where a schema is, never a property named
    "pattern"); `_Unsafe` for `patternProperties`."""
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "pattern":
            out[_PATTERN] = value
        elif key == "patternProperties":
            raise _Unsafe(key)
        elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {name: _rewritten(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_rewritten(sub) for sub in value]
        elif key in _SCHEMA_ONE:
            out[key] = _rewritten(value)
        else:
            out[key] = value
    return out


MAX_NODES = 100_000  # a query file is a few hundred; more is left to jsonschema (see is_plain)


def is_plain(value: object, max_nodes: int | None = MAX_NODES) -> bool:
    """JSON as both libraries read it alike: dicts with string keys, lists, strings without lone surrogates, bools,
    None, integers within 64 bits and finite floats (subclasses too: ruamel's mappings and scalars), in at most
    `max_nodes` values. The bound is for shared subtrees (YAML aliases): jsonschema walks the shared object, but
    jsonschema-rs copies every occurrence, so a "billion laughs" document would take gigabytes there. None: no
    bound, for a value parsed from JSON text, which shares no subtree (its text's size bounds its nodes)."""
    stack = [value]
    budget = max_nodes
    while stack:
        if budget is not None:
            budget -= 1
            if budget < 0:
                return False
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if item not in _INT_RANGE:
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            return False
    return True


def fast_checker(schema: Mapping[str, Any], *,
                 max_nodes: int | None = MAX_NODES) -> Callable[[object], bool] | None:
    """`surely_valid(instance)` for this Draft 2020-12 schema, or None (see the module's docstring); `max_nodes`
    as `is_plain`'s (None for instances parsed from JSON text, such as a run.json read back)."""
    import jsonschema_rs  # ~20 ms: loaded only by a compile

    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:  # jsonschema would pick another draft's rules
        return None
    try:
        validator = jsonschema_rs.Draft202012Validator(_rewritten(schema), validate_formats=False, offline=True,
                                                       keywords={_PATTERN: _PythonPattern})
    except Exception:  # _Unsafe, or a schema it cannot compile: jsonschema alone checks it
        return None

    def surely_valid(instance: object) -> bool:
        if not is_plain(instance, max_nodes):
            return False
        try:
            return bool(validator.is_valid(instance))
        except Exception:  # anything it cannot take is jsonschema's to judge
            return False

    return surely_valid


__all__ = ["MAX_NODES", "fast_checker", "is_plain"]
