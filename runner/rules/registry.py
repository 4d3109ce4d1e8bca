"""The rule registry: every rule id vqr can emit, with a short description, help text and default severity.

Any stage registers its own ids with `register_rule` (idempotent: a later registration of an id replaces the earlier
one); `describe` never fails, inventing a family-level description for an id nobody registered. No I/O.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from runner.model import Severity


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleInfo:
    """What SARIF `rules[]` and the docs say about one rule id."""

    id: str
    short_description: str
    help: str
    default_severity: Severity


# Family-level fallbacks, so a finding from an id that no module registered still gets a useful description.
_FAMILIES: dict[str, str] = {
    "yaml": "The file is not safe, plain YAML holding only JSON types.",
    "path": "A file vqr would read is outside the project or not a regular file.",
    "template": "A template value could not be rendered safely.",
    "query": "The query file does not follow the query-file format.",
    "spec": "The query spec would be rejected by Veza or silently return wrong rows.",
    "project": "The project file vqr.yaml is invalid.",
    "cache": "The cache policy is inconsistent.",
    "expect": "An expectation is malformed.",
    "exceptions": "An accepted-exceptions file (exceptions/*.yaml) is invalid or out of date.",
}

_RULES: dict[str, RuleInfo] = {}


def register_rule(rule_id: str, short_description: str, default_severity: Severity = Severity.ERROR, *,
                  help_text: str = "") -> RuleInfo:
    """Make `rule_id` known; `help_text` defaults to the short description."""
    info = RuleInfo(id=rule_id, short_description=short_description, help=help_text or short_description,
                    default_severity=default_severity)
    _RULES[rule_id] = info
    return info


def describe(rule_id: str) -> RuleInfo:
    """The registered description of `rule_id`, or one derived from its family (`yaml/...` -> YAML loading)."""
    known = _RULES.get(rule_id)
    if known is not None:
        return known
    family = rule_id.split("/", 1)[0]
    text = _FAMILIES.get(family, "A problem found by vqr.")
    return RuleInfo(id=rule_id, short_description=text, help=text, default_severity=Severity.ERROR)


def registered_rules() -> list[RuleInfo]:
    """Every registered rule, sorted by id."""
    return [_RULES[key] for key in sorted(_RULES)]


def rule_matches(rule_id: str, patterns: frozenset[str]) -> bool:
    """Whether a disable list covers `rule_id`: an exact id, `all` / `*`, a glob such as `cache/*`, or a family
    written `cache/` (what a comment parser that stops at `*` leaves of `cache/*`)."""
    if not patterns:
        return False
    if rule_id in patterns or "all" in patterns or "*" in patterns:
        return True
    return any(rule_id.startswith(pattern) if pattern.endswith("/") else
               ("*" in pattern or "?" in pattern) and fnmatch.fnmatchcase(rule_id, pattern) for pattern in patterns)


def unknown_rule_patterns(patterns: frozenset[str] | list[str]) -> list[str]:
    """The entries of a disable list that match no registered rule: most likely typos that disable nothing."""
    known = list(_RULES)
    unknown = []
    for pattern in sorted(set(patterns)):
        if pattern in ("all", "*"):
            continue
        if not any(rule_matches(rule_id, frozenset({pattern})) for rule_id in known):
            unknown.append(pattern)
    return unknown
