"""What a spec's `node_type` stands for in the sandbox: a name -> the concrete types of the graph it matches.

Pure, no I/O. `resolve_node_type(name, universe)` (universe: the graph's type names) returns a sorted tuple, empty
for a well-formed type the graph has no entities of (a catalog type, any well-formed OAA name, a legacy `Custom*`
type: a tenant answers those with zero rows), or None for a name Veza would refuse ("X is not a valid NodeType").
`legacy_modern_name` names the OAA form of a legacy type, for the reply's warning.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from runner.catalog import (
    GROUPING_MEMBERS,
    GROUPINGS,
    LEGACY_TYPES,
    NODE_TYPES,
    OaaName,
    legacy_replacement,
    parse_oaa,
)

# The OAA kinds each grouping takes in from the generated apps [assumed, like the groupings' catalog members].
_GROUPING_KINDS: dict[str, frozenset[str]] = {
    "User": frozenset({"User"}), "Identity": frozenset({"User"}), "Resource": frozenset({"Resource"}),
    "ServiceAccount": frozenset(),
}


def _oaa_of_kinds(universe: Collection[str], kinds: frozenset[str]) -> set[str]:
    found = set()
    for name in universe:
        parsed: OaaName | None = parse_oaa(name)
        if parsed is not None and parsed.kind in kinds:
            found.add(name)
    return found


def resolve_node_type(name: object, universe: Collection[str]) -> tuple[str, ...] | None:
    """The concrete types of `universe` that `name` stands for (sorted), or None when the name is not a NodeType.

    A legacy `Custom*` type stands for every OAA type of its kind; the spec's conditions on `application_type` /
    `resource_type` (properties every OAA entity carries) then narrow it, as they did on Veza before 2023-10.
    """
    if not isinstance(name, str):
        return None
    present = frozenset(universe)
    if name in GROUPINGS:
        members = (GROUPING_MEMBERS[name] & present) | _oaa_of_kinds(present, _GROUPING_KINDS[name])
        return tuple(sorted(members))
    if name in LEGACY_TYPES:
        return tuple(sorted(_oaa_of_kinds(present, frozenset({LEGACY_TYPES[name]}))))
    if name in NODE_TYPES or name in present or parse_oaa(name) is not None:
        return (name,) if name in present else ()
    return None


def legacy_modern_name(name: object, node: Mapping[str, Any]) -> str | None:
    """The modern name of a legacy `Custom*` type (`OAA.<App>.User`), filled in from the node's top-level EQ
    conditions on `application_type` / `resource_type` (`node` in protojson's normal form); None for other names."""
    if not isinstance(name, str) or name not in LEGACY_TYPES:
        return None
    expression = node.get("condition_expression")
    modern = expression.get("specs") if isinstance(expression, Mapping) else None
    conditions = node.get("conditions")
    found: dict[str, str] = {}
    for cond in [*(conditions if isinstance(conditions, list) else []), *(modern if isinstance(modern, list) else [])]:
        if (isinstance(cond, Mapping) and isinstance(cond.get("value"), str) and not cond.get("not")
                and cond.get("fn") is None  # the normal form drops EQ, the zero value
                and cond.get("property") in ("application_type", "resource_type")):
            found.setdefault(cond["property"], cond["value"])
    return legacy_replacement(name, found.get("application_type"), found.get("resource_type"))
