"""Rules on a partly invalid query: which values a rule may trust, and the one note that says what was skipped.

`Validity` holds the document paths the schema (or a failed template) rejected, the required keys that are missing
and the unknown keys; `blocks(rule, *paths)` tells a rule that reads one of `paths` to skip it, and remembers the
skip of a value that is there (a missing one hides nothing); `prune(value, base)` is `value` without the rejected
values and unknown keys, for rules that walk the whole spec. `skipped_note` turns a file's skips into one finding.
Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runner.model import Document, Finding, JSONPath, JSONValue, Severity
from runner.rules.registry import register_rule

SKIPPED_RULE = "lint/skipped-checks"

register_rule(SKIPPED_RULE, "Checks not run on values the schema rejected.", Severity.WARNING,
              help_text="When a query file has schema errors, the meaning rules still run on every value the "
              "schema accepted; a rule that reads a rejected value is skipped there, and this note lists each "
              "one once. Fix the errors and lint again to run them.")


def dotted(path: JSONPath) -> str:
    """`("spec", "nodes", 0)` -> `spec.nodes[0]`: how a path reads in a message."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "the file"


@dataclass(frozen=True, slots=True)
class Skip:
    rule: str
    path: JSONPath  # the rejected value that made the rule skip


@dataclass(kw_only=True)
class Validity:
    invalid: frozenset[JSONPath] = frozenset()
    missing: frozenset[JSONPath] = frozenset()
    unknown: frozenset[JSONPath] = frozenset()
    skipped: list[Skip] = field(default_factory=list)

    def rejected(self, path: JSONPath, *, inside: bool = True) -> JSONPath | None:
        """The rejected or missing path at or above `path`, or (with `inside`) below it, if any."""
        for bad in sorted(self.invalid | self.missing):
            if path[:len(bad)] == bad or (inside and bad[:len(path)] == path):
                return bad
        return None

    def blocks(self, rule: str, *paths: JSONPath, inside: bool = True) -> bool:
        """Whether a rule that reads `paths` must skip them; a skip is remembered for the note. `inside=False`:
        the rule reads only whether the value is there (a list's length, say), which rejected parts of it, pruned
        to null, do not change."""
        if not (self.invalid or self.missing):
            return False
        for path in paths:
            bad = self.rejected(path, inside=inside)
            if bad is not None:
                if bad in self.invalid:
                    self.skipped.append(Skip(rule, bad))
                return True
        return False

    def prune(self, value: JSONValue, base: JSONPath) -> JSONValue:
        """`value` (found at `base`) without its rejected subtrees: a mapping loses the key, a list item becomes
        null (unset in the normal form) so that later indices, hence positions, stay right. Copies only the
        containers on the way to a rejected value."""
        inside = [bad[len(base):] for bad in self.invalid | self.unknown if bad[:len(base)] == base]
        if any(not rest for rest in inside):
            return None
        for rest in sorted(inside, key=len):
            value = _without(value, rest)
        return value


def _without(value: JSONValue, rest: JSONPath) -> JSONValue:
    step, tail = rest[0], rest[1:]
    if isinstance(value, dict) and isinstance(step, str) and step in value:
        copy = dict(value)
        if tail:
            copy[step] = _without(copy[step], tail)
        else:
            del copy[step]
        return copy
    if isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
        items = list(value)
        items[step] = _without(items[step], tail) if tail else None
        return items
    return value


def skipped_note(doc: Document, skips: Iterable[Skip]) -> list[Finding]:
    """One finding for all of a file's skips (every matrix combination's), at the first rejected value, or none."""
    unique = sorted(set(skips), key=lambda s: (doc.position(s.path).line, doc.position(s.path).column, s.rule))
    if not unique:
        return []
    listed = ", ".join(f"{skip.rule} at {dotted(skip.path)}" for skip in unique)
    count = len(unique)
    return [doc.finding(unique[0].path, key=True, rule=SKIPPED_RULE, severity=Severity.WARNING,
                        message=f"{count} check{'s' if count > 1 else ''} not run because the value "
                        f"{'they read' if count > 1 else 'it reads'} is not valid ({listed}); fix those "
                        "values and lint again")]
