"""Meaning rules for cache policies (`cache:` of a query file, `defaults.cache` of vqr.yaml) and query timeouts.

`check_cache_policy(value, doc=..., base=...)` returns findings for one policy mapping; `check_cache(unit)` applies
it to a rendered query plus its `timeout`. Values of the wrong type are skipped: the schema reports those. No I/O.
"""

from __future__ import annotations

from runner.durations import parse_duration
from runner.model import Document, Finding, JSONPath, JSONValue, QueryUnit, Severity
from runner.rules.context import emit
from runner.rules.registry import register_rule

_FORMS = "write e.g. '90s', '15m', '12h', '2d', '1h30m' or the protobuf form '43200s'"

register_rule("cache/context-needs-cache-id", "Cache mode 'context' without a cache_id.",
              help_text="Mode 'context' attaches to an earlier result: set cache_id to 'previous' (the id recorded "
              "by the last run) or to an id from an earlier reply.")
register_rule("cache/cache-id-needs-context", "A cache_id with a mode other than 'context'.",
              help_text="Only mode 'context' reads cache_id; the query would run without attaching to that result. "
              "Set mode: context or remove cache_id.")
register_rule("cache/bad-duration", "max_staleness is not a duration.",
              help_text="Durations are one or more <number><unit> parts with units d, h, m, s in that order "
              "('90s', '15m', '12h', '2d', '1h30m') or protobuf seconds ('43200s', '1.5s'), at most 10,000 years.")
register_rule("cache/staleness-with-immediate", "max_staleness with a mode that ignores it.", Severity.WARNING,
              help_text="Only mode 'if_available' reads max_staleness; 'immediate' always runs and 'context' "
              "attaches to a given result. Remove max_staleness or change the mode.")
register_rule("cache/on-expired-needs-context", "on_expired with a mode other than 'context'.", Severity.WARNING,
              help_text="on_expired says what to do when the result named by cache_id has expired, so only mode "
              "'context' reads it. Remove it or set mode: context.")
register_rule("query/bad-timeout", "timeout is not a positive duration.",
              help_text="Write the per-query timeout as a duration such as '90s', '15m' or '1h30m'.")


def check_cache_policy(value: JSONValue, *, doc: Document, base: JSONPath) -> list[Finding]:
    """Consistency of one cache mapping found at `base` in `doc`."""
    if not isinstance(value, dict):
        return []
    found: list[Finding] = []
    mode = value.get("mode")
    if "max_staleness" in value:
        staleness = value["max_staleness"]
        if isinstance(staleness, str) and parse_duration(staleness) is None:
            found.append(emit(doc, (*base, "max_staleness"), "cache/bad-duration",
                              f"max_staleness {staleness!r} is not a duration; {_FORMS}."))
        if mode in ("immediate", "context"):
            found.append(emit(doc, (*base, "max_staleness"), "cache/staleness-with-immediate",
                              f"max_staleness has no effect with mode '{mode}'; only mode 'if_available' reads it.",
                              key=True))
    cache_id = value.get("cache_id")
    if mode == "context" and (cache_id is None or cache_id == ""):
        where = (*base, "cache_id") if "cache_id" in value else (*base, "mode")
        found.append(emit(doc, where, "cache/context-needs-cache-id",
                          "cache mode 'context' needs a cache_id: 'previous' or an id from an earlier run."))
    if isinstance(mode, str) and mode != "context":
        if "cache_id" in value:
            found.append(emit(doc, (*base, "cache_id"), "cache/cache-id-needs-context",
                              f"cache_id is only used with mode 'context', not '{mode}'; set mode: context or "
                              "remove cache_id.", key=True))
        if "on_expired" in value:
            found.append(emit(doc, (*base, "on_expired"), "cache/on-expired-needs-context",
                              f"on_expired is only used with mode 'context', not '{mode}'; remove it.", key=True))
    return found


def check_timeout(value: JSONValue, *, doc: Document, base: JSONPath) -> list[Finding]:
    """A `timeout` string must be a positive duration."""
    if not isinstance(value, str):
        return []
    seconds = parse_duration(value)
    if seconds is None or seconds <= 0:
        return [emit(doc, base, "query/bad-timeout",
                     f"timeout {value!r} is not a positive duration; {_FORMS.replace('43200s', '900s')}.")]
    return []


def check_cache(unit: QueryUnit) -> list[Finding]:
    found = check_cache_policy(unit.body.get("cache"), doc=unit.doc, base=("cache",))
    if "timeout" in unit.body:
        found.extend(check_timeout(unit.body["timeout"], doc=unit.doc, base=("timeout",)))
    return found
