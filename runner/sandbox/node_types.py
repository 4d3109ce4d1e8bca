"""What a spec's `node_type` stands for in the sandbox: a name -> the concrete types of the graph it matches.

Pure, no I/O. `resolve_node_type(name, universe)` (universe: the graph's type names) returns a sorted tuple, empty
for a well-formed type the graph has no entities of (a catalog type, any well-formed OAA name, a legacy `Custom*`
type: a tenant answers those with zero rows), or None for a name Veza would refuse ("X is not a valid NodeType").
"""

from __future__ import annotations

from collections.abc import Collection

from runner.catalog import GROUPING_MEMBERS, GROUPINGS, LEGACY_TYPES, NODE_TYPES, OaaName, parse_oaa

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
