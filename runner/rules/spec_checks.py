"""Static meaning rules on the rendered spec that the schema cannot express.

`check_spec(unit)`: query_type is set and has its node types, permission filters list something, snapshot_id is a
non-negative int64, `IN` conditions compare against a list. The rules read the protojson normal form
(`runner.protojson.normalise`): null, "" and [] are unset, an absent enum is its zero value, numbers are names, so
`fn` absent, `EQ` and `0` are one thing. Values of the wrong type are left to the schema. No I/O.
"""

from __future__ import annotations

import re

from runner.model import Finding, JSONValue, QueryUnit, Severity
from runner.protojson import normalise, zero_value
from runner.rules.context import emit
from runner.rules.partial import Validity
from runner.rules.registry import register_rule
from runner.rules.spec_walk import iter_mappings

INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")
_SYSTEM_CREATED = zero_value("query_type")
_PERMISSION_KEYS = ("effective_permissions", "raw_permissions")
_LIST_FNS = frozenset({"IN", "NOT_IN"})

register_rule("spec/query-type", "The query type lacks the node types it needs.",
              help_text="A SOURCE_TO_DESTINATION query returns its source nodes as rows, so it needs "
              "source_node_types with at least one node.")
register_rule("spec/system-created", "query_type is SYSTEM_CREATED, or absent, which means the same.",
              Severity.WARNING,
              help_text="An absent query_type is its zero value, SYSTEM_CREATED: the type of Veza's built-in "
              "queries, which Veza's own tools skip or rewrite. A query of your own is SOURCE_TO_DESTINATION (or "
              "DESTINATION_NODES): set query_type.")
register_rule("spec/empty-permissions", "A permission filter that lists no permission.",
              help_text="An effective_permissions or raw_permissions object needs at least one value; an empty "
              "list is usually a template that rendered to nothing. Remove the object or list permissions.")
register_rule("spec/snapshot-id", "snapshot_id is not a non-negative 64-bit integer.",
              help_text="snapshot_id is an int64 sent as a string: \"0\" (the current graph) or the id of a "
              "snapshot.")
register_rule("spec/condition-value", "A condition's value does not fit its function.",
              help_text="fn IN (and NOT_IN) compares a property against a list of values: write value: [a, b].")


def _check_query_type(unit: QueryUnit, raw: dict[str, JSONValue], spec: dict[str, JSONValue]) -> list[Finding]:
    """`raw` is the spec as written (for positions), `spec` its normal form (for meaning)."""
    query_type = spec.get("query_type", _SYSTEM_CREATED)
    if query_type == _SYSTEM_CREATED:
        if "query_type" in raw:
            written = raw["query_type"]
            named = "" if written == _SYSTEM_CREATED else f" ({written!r} is its number)"
            return [emit(unit.doc, ("spec", "query_type"), "spec/system-created",
                         f"query_type SYSTEM_CREATED{named} is the type of Veza's built-in queries, which Veza's "
                         "tools skip or rewrite: set query_type: SOURCE_TO_DESTINATION.")]
        return [emit(unit.doc, ("spec",), "spec/system-created", "query_type is absent, which means its zero "
                     "value SYSTEM_CREATED (Veza's built-in queries): set query_type: SOURCE_TO_DESTINATION.",
                     key=True)]
    if query_type != "SOURCE_TO_DESTINATION":
        return []
    sources = spec.get("source_node_types")
    nodes = sources.get("nodes") if isinstance(sources, dict) else None
    if isinstance(nodes, list) and nodes:
        return []
    where = ("spec", "source_node_types") if "source_node_types" in raw else ("spec", "query_type")
    return [emit(unit.doc, where, "spec/query-type",
                 "query_type SOURCE_TO_DESTINATION needs source_node_types with at least one node type.")]


def _check_snapshot_id(unit: QueryUnit, spec: dict[str, JSONValue]) -> list[Finding]:
    value = spec.get("snapshot_id")
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return []  # absent, or a shape the schema reports
    if 0 <= number <= INT64_MAX:
        return []
    return [emit(unit.doc, ("spec", "snapshot_id"), "spec/snapshot-id",
                 f"snapshot_id {value!r} is not a non-negative 64-bit integer; use \"0\" for the current graph.")]


def _kind(value: JSONValue) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"


def _check_permissions(unit: QueryUnit, raw: dict[str, JSONValue], validity: Validity) -> list[Finding]:
    # On the spec as written: the normal form drops an empty list, and then the object itself, which is the very
    # mistake this rule is for (a null object is unset and passes: it is not a mapping).
    found: list[Finding] = []
    for path, mapping in iter_mappings(raw, ("spec",)):
        for key in _PERMISSION_KEYS:
            permissions = mapping.get(key)
            rejected = validity.blocks("spec/empty-permissions", (*path, key, "values"), inside=False)
            if isinstance(permissions, dict) and rejected:
                continue  # its values were rejected (and pruned): empty now does not mean empty as written
            if isinstance(permissions, dict) and not permissions.get("values"):
                values = permissions.get("values", [])
                if isinstance(values, list):
                    where = (*path, key, "values") if "values" in permissions else (*path, key)
                    found.append(emit(unit.doc, where, "spec/empty-permissions",
                                      f"{key} lists no permission; list at least one or remove {key}."))
    return found


def check_spec(unit: QueryUnit, validity: Validity | None = None) -> list[Finding]:
    """The spec rules; with `validity`, on a spec whose rejected values are already pruned from `unit`, each rule
    that reads a field the schema rejected skips it (and `validity` remembers the skip)."""
    validity = validity or Validity()
    raw = unit.body.get("spec")
    if not isinstance(raw, dict):
        return []
    spec = normalise(raw)
    if not isinstance(spec, dict):  # never: normalise keeps a mapping a mapping
        return []
    found: list[Finding] = []
    if not validity.blocks("spec/query-type", ("spec", "query_type"),
                                                    ("spec", "source_node_types", "nodes"), inside=False):
        found += _check_query_type(unit, raw, spec)
    if not validity.blocks("spec/snapshot-id", ("spec", "snapshot_id")):
        found += _check_snapshot_id(unit, spec)
    found += _check_permissions(unit, raw, validity)
    for path, mapping in iter_mappings(spec, ("spec",)):
        fn = mapping.get("fn")
        if fn in _LIST_FNS and "property" in mapping and "value" in mapping:
            value = mapping["value"]
            if validity.blocks("spec/condition-value", (*path, "fn"), (*path, "value")):
                continue
            if not isinstance(value, list) and not (isinstance(value, str) and value.startswith("$")):
                found.append(emit(unit.doc, (*path, "value"), "spec/condition-value",
                                  f"fn {fn} compares against a list of values, but value is {_kind(value)}; write "
                                  "it as a list, e.g. value: [a, b], or use fn EQ."))
    return found
