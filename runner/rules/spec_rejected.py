"""The rule spec/rejected: a rendered spec whose shape the sandbox (and Veza [assumed]) refuses with 400.

`check_rejected(unit)` reports every `runner.specshape.spec_problems` of the spec's protojson normal form, with the
sandbox's own message, at the problem's place in the file (its nearest written ancestor when the field is absent).
The sandbox raises the first of the same list, so a spec lint passes is one it parses. Pure, no I/O.
"""

from __future__ import annotations

from runner.model import Finding, JSONPath, JSONValue, QueryUnit
from runner.protojson import normalise
from runner.rules.context import emit
from runner.rules.partial import Validity
from runner.rules.registry import register_rule
from runner.specshape import spec_problems

register_rule("spec/rejected", "A spec the sandbox refuses with 400 before running it.",
              help_text="The checks the embedded sandbox makes before it runs a spec: required fields (a source "
              "node type, a node spec's node_type, a condition's property, a tag's key), enum values, object and "
              "list shapes, and what an intermediate node cannot take. The message is the sandbox's own.")


def _written(raw: JSONValue, path: JSONPath) -> bool:
    """Whether all of `path` is present in `raw` (the spec as written)."""
    current = raw
    for part in path:
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            current = current[part]
            continue
        if not (isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)):
            return False
        current = current[part]
    return True


def check_rejected(unit: QueryUnit, *, skip_sources: bool = False, validity: Validity | None = None) -> list[Finding]:
    """`skip_sources`: spec/query-type already says the spec has no source node types. `validity`: a problem at
    (or inside) a value the schema already rejected or found missing is not said twice."""
    raw = unit.body.get("spec")
    if not isinstance(raw, dict):
        return []  # the schema says why
    spec = normalise(raw)
    if not isinstance(spec, dict):
        return []
    found = []
    for problem in spec_problems(spec):
        if skip_sources and problem.path == ("source_node_types", "nodes") and "at least one" in problem.message:
            continue
        if validity is not None and validity.rejected(("spec", *problem.path), inside=True) is not None:
            continue  # already said by the schema: not a skipped check, so no note either
        # An absent field is reported on the key of its nearest written ancestor, where the user adds it.
        found.append(emit(unit.doc, ("spec", *problem.path), "spec/rejected", problem.message,
                          key=not _written(raw, problem.path)))
    return found
