"""What every meaning rule receives besides the unit: the rule context, and a helper that builds findings.

`RuleContext` is frozen input from the project (catalog extras, disabled ids); `emit` places a finding with the
registered default severity of its rule. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.model import Document, Finding, JSONPath
from runner.rules.registry import describe


@dataclass(frozen=True, kw_only=True)
class RuleContext:
    known_node_types: frozenset[str]  # catalog.known_node_types(project extras)
    disabled: frozenset[str] = frozenset()  # from vqr.yaml `rules: {disable: [...]}`; ids, globs or `all`


def emit(doc: Document, path: JSONPath, rule: str, message: str, *, key: bool = False) -> Finding:
    """A finding in `doc` at `path` (its key with `key=True`), with the rule's registered default severity."""
    return doc.finding(path, rule=rule, message=message, severity=describe(rule).default_severity, key=key)
