"""Meaning rules for query names: safe as file names, unique across the repository after matrix expansion.

`check_name(unit)` checks one unit; `check_unique_names(units)` the whole repository, reporting at the second
occurrence (in path order) and naming the file and line of the first. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.model import Finding, QueryUnit
from runner.rules.context import emit
from runner.rules.registry import register_rule

SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
# Device names Windows refuses as file names whatever the extension (`con.jsonl` too).
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul"}
                              | {f"{device}{n}" for device in ("com", "lpt") for n in range(1, 10)})

register_rule("query/unsafe-name", "A query name that is not safe as a file name.",
              help_text="The name becomes the file name of the query's results (results/<name>.jsonl) and a key "
              "in the run journal: use 1-100 characters from a-z, 0-9, '.', '_', '-', starting with a letter or "
              "digit, and not a reserved Windows device name such as 'con' or 'nul'.")
register_rule("query/duplicate-name", "Two queries share a name.",
              help_text="Names identify queries in selections, results, history and drift: each must be unique "
              "across the repository after matrix expansion. Rename one of them.")
register_rule("query/matrix-name-not-unique", "A matrix produces the same name for several combinations.",
              help_text="Every combination of a matrix becomes its own query, so the name must use each matrix "
              "variable that varies, e.g. name: \"s3-writers-{{ bucket_type | lower }}\".")


def _suggest(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
    return cleaned[:100]


def check_name(unit: QueryUnit) -> list[Finding]:
    name = unit.name
    why = ""
    if not SAFE_NAME.fullmatch(name):
        suggestion = _suggest(name)
        hint = f"; did you mean {suggestion!r}?" if SAFE_NAME.fullmatch(suggestion) else "."
        why = (f"query name {name!r} is not safe as a file name (it names the result file): use 1-100 characters "
               f"from a-z, 0-9, '.', '_', '-', starting with a letter or digit{hint}")
    elif name.split(".", 1)[0] in _WINDOWS_RESERVED:
        why = f"query name {name!r} is a reserved device name on Windows, so its result file cannot be written there."
    return [emit(unit.doc, ("name",), "query/unsafe-name", why)] if why else []


def _varying(first: QueryUnit, second: QueryUnit) -> list[str]:
    return sorted(key for key in {*first.matrix, *second.matrix} if first.matrix.get(key) != second.matrix.get(key))


def check_unique_names(units: Sequence[QueryUnit]) -> list[Finding]:
    # Sorting by file keeps "first" deterministic whatever order the units were discovered in; the sort is stable,
    # so matrix combinations of one file stay in expansion order.
    ordered = sorted(units, key=lambda unit: unit.doc.path)
    first_by_name: dict[str, QueryUnit] = {}
    reported: set[tuple[str, str]] = set()
    found: list[Finding] = []
    for unit in ordered:
        first = first_by_name.setdefault(unit.name, unit)
        if first is unit:
            continue
        pair = (unit.doc.path, first.doc.path)
        if pair in reported:
            continue
        reported.add(pair)
        if first.doc is unit.doc or first.doc.path == unit.doc.path:
            missing = ", ".join(_varying(first, unit)) or "none"
            found.append(emit(unit.doc, ("name",), "query/matrix-name-not-unique",
                              f"several matrix combinations produce the name {unit.name!r}; use every varying "
                              f"matrix variable in 'name' (missing: {missing})."))
        else:
            line = first.doc.position(("name",)).line
            found.append(emit(unit.doc, ("name",), "query/duplicate-name",
                              f"query name {unit.name!r} is already used in {first.doc.path}:{line}."))
    return found
