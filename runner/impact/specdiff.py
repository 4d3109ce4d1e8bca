"""The semantic difference of two rendered create bodies: `PathChange`s at JSONPath paths, never a text diff.

`plan.normal_body(body)` (each mode's spec in protojson's normal form, as `body_hash` sees it) comes first;
`diff_json(old, new)` compares two JSON values structurally; `spec_diff(change, envs)` does both per environment
and groups the environments with equal diffs. Pure, no I/O; every ordering is deterministic (keys sorted,
environments as given).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence

from runner.model.impact import MISSING, EnvDiff, Missing, PathChange, QueryChange, SpecDiff
from runner.model.values import JSONObject, JSONValue
from runner.plan import normal_body

# The create body's modes that carry a spec at `<mode>.request.body` (`plan.select.create_body`); the third,
# `cached_result_context`, names a cache id and no spec.
# A scalar list up to this many items (on both sides) is shown whole, old → new: one line a reader takes in at once.
SHORT_LIST = 8
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_path(path: str, key: str) -> str:
    """`path` extended by an object key: `.key` for an identifier, else `['key']` with `\\` and `'` escaped."""
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    quoted = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{quoted}']"


def diff_json(old: JSONValue | Missing, new: JSONValue | Missing, path: str = "$") -> list[PathChange]:
    """Every difference between `old` and `new` (MISSING: the side has no value there), in path order.

    Structural: normalise first (`normal_body`) so that spellings of "unset" compare equal. Objects recurse by key
    (an object that only one side has is reported leaf by leaf); a reordered scalar list is one change at the list;
    other scalar lists are one change when short, else one per index; lists holding objects or lists recurse index
    by index, an item only one side has reported whole at `[i]`.
    """
    if _same(old, new):
        return []
    if isinstance(old, dict) or isinstance(new, dict):
        if isinstance(old, dict | Missing) and isinstance(new, dict | Missing):
            return _diff_objects(old, new, path)
        return [PathChange(path=path, old=old, new=new)]
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    return [PathChange(path=path, old=old, new=new)]


def _diff_objects(old: JSONObject | Missing, new: JSONObject | Missing, path: str) -> list[PathChange]:
    before = old if isinstance(old, dict) else {}
    after = new if isinstance(new, dict) else {}
    changes: list[PathChange] = []
    for key in sorted(before.keys() | after.keys()):
        changes += diff_json(before.get(key, MISSING), after.get(key, MISSING), key_path(path, key))
    if not before and not after:  # `{}` against MISSING: no leaf to name, the object itself is the difference
        return [PathChange(path=path, old=old, new=new)]
    return changes


def _diff_lists(old: list[JSONValue], new: list[JSONValue], path: str) -> list[PathChange]:
    structured = any(isinstance(item, dict | list) for item in (*old, *new))
    if not structured:
        reordered = Counter(map(_canonical, old)) == Counter(map(_canonical, new))
        if reordered or max(len(old), len(new)) <= SHORT_LIST:
            return [PathChange(path=path, old=list(old), new=list(new))]
    changes: list[PathChange] = []
    for index in range(max(len(old), len(new))):
        where = f"{path}[{index}]"
        if index >= len(old) or index >= len(new):
            changes.append(PathChange(path=where, old=old[index] if index < len(old) else MISSING,
                                      new=new[index] if index < len(new) else MISSING))
        elif structured:
            changes += diff_json(old[index], new[index], where)
        elif not _same(old[index], new[index]):
            changes.append(PathChange(path=where, old=old[index], new=new[index]))
    return changes


def _canonical(value: JSONValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _same(old: JSONValue | Missing, new: JSONValue | Missing) -> bool:
    """JSON equality: `true` is not `1` (Python's `==` says it is), `1` is `1.0`."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[key], new[key]) for key in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, bool) != isinstance(new, bool) or isinstance(old, dict | list) or isinstance(new, dict | list):
        return False
    if isinstance(old, int | float) and isinstance(new, int | float):
        return old == new
    return type(old) is type(new) and old == new


def _side(change: QueryChange, env: str, *, head: bool) -> JSONObject | Missing:
    rendered = (change.head if head else change.base).get(env)
    return MISSING if rendered is None else normal_body(rendered.body)


def spec_diff(change: QueryChange, envs: Sequence[str]) -> SpecDiff:
    """Base against head per environment of `envs` (MISSING where a side lacks it), environments with equal diffs
    grouped in one `EnvDiff` (groups in order of their first environment); an environment without differences is
    left out."""
    groups: list[tuple[list[str], tuple[PathChange, ...]]] = []
    for env in envs:
        changes = tuple(diff_json(_side(change, env, head=False), _side(change, env, head=True)))
        if not changes:
            continue
        for members, shared in groups:
            if _same_changes(shared, changes):
                members.append(env)
                break
        else:
            groups.append(([env], changes))
    return SpecDiff(name=change.name, change=change.change, file=change.file, base_file=change.base_file,
                    envs=tuple(EnvDiff(envs=tuple(members), changes=shared) for members, shared in groups))


def _same_changes(first: tuple[PathChange, ...], second: tuple[PathChange, ...]) -> bool:
    return len(first) == len(second) and all(
        a.path == b.path and _same(a.old, b.old) and _same(a.new, b.new) for a, b in zip(first, second, strict=True))
