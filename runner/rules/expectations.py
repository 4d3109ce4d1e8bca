"""Meaning rules for `expect:` entries that can be checked before any run: a bound given, bounds satisfiable.

`check_expectations(unit)` returns findings; entries or bounds of the wrong type are left to the schema. No I/O.
"""

from __future__ import annotations

from runner.model import Finding, JSONValue, QueryUnit
from runner.rules.context import emit
from runner.rules.registry import register_rule

METRICS = ("rows", "new_rows", "removed_rows")
AGE_METRIC = "max_age_days"  # a number of days, not bounds: `{max_age_days: 30}`
BOUNDS = ("min", "max", "eq")

register_rule("expect/empty", "An expectation without a bound.",
              help_text="Each expectation names a count (rows, new_rows or removed_rows) and at least one of min, "
              "max, eq; without one it can never fail, which usually hides a typo.")
register_rule("expect/bad-bounds", "An expectation whose bounds can never be met or contradict each other.",
              help_text="min must not exceed max, eq stands alone (not with min or max), and counts are never "
              "negative, so a negative max can never pass.")


def _number(value: JSONValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _show(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _check_bounds(unit: QueryUnit, index: int, metric: str, bounds: dict[str, JSONValue]) -> list[Finding]:
    base = ("expect", index, metric)
    present = [bound for bound in BOUNDS if bound in bounds]
    if not present:
        return [emit(unit.doc, base, "expect/empty", f"'{metric}' gives no bound; set min, max or eq.", key=True)]
    found: list[Finding] = []
    low, high = _number(bounds.get("min")), _number(bounds.get("max"))
    if "eq" in bounds and ("min" in bounds or "max" in bounds):
        found.append(emit(unit.doc, (*base, "eq"), "expect/bad-bounds",
                          f"'{metric}' combines eq with min or max; use eq alone or a min/max range.", key=True))
    elif low is not None and high is not None and low > high:
        found.append(emit(unit.doc, (*base, "max"), "expect/bad-bounds",
                          f"'{metric}' has min {_show(low)} greater than max {_show(high)}, so it can never pass."))
    for bound in ("max", "eq"):
        value = _number(bounds.get(bound))
        if value is not None and value < 0:
            found.append(emit(unit.doc, (*base, bound), "expect/bad-bounds",
                              f"'{metric}' has {bound} {_show(value)}, but counts are never negative, so it can "
                              "never pass."))
    return found


def check_expectations(unit: QueryUnit) -> list[Finding]:
    entries = unit.body.get("expect")
    if not isinstance(entries, list):
        return []
    found: list[Finding] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        metrics = [metric for metric in METRICS if metric in entry]
        if not metrics and AGE_METRIC not in entry:
            found.append(emit(unit.doc, ("expect", index), "expect/empty",
                              "this expectation checks nothing; give rows, new_rows or removed_rows with min, max "
                              "or eq, or max_age_days."))
        for metric in metrics:
            bounds = entry[metric]
            if isinstance(bounds, dict):
                found.extend(_check_bounds(unit, index, metric, bounds))
    return found
