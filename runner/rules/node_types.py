"""Meaning rules against the node-type catalog: unknown node types and unknown condition properties (warnings).

`check_node_types(unit, ctx)` looks up every node type named anywhere in the rendered spec and every condition
`property` / `properties_to_get` entry of a known concrete type. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner import catalog
from runner.model import Finding, JSONPath, JSONValue, QueryUnit, Severity
from runner.rules.context import RuleContext, emit
from runner.rules.registry import register_rule
from runner.rules.spec_walk import iter_mappings, iter_node_specs, iter_node_type_names
from runner.suggest import closest

register_rule("spec/unknown-node-type", "A node type the catalog does not know.", Severity.WARNING,
              help_text="Veza rejects an unknown node type with HTTP 400. vqr knows common Veza types, the "
              "groupings User, Resource, Identity, ServiceAccount, and the `node_types:` list of vqr.yaml: add "
              "your tenant's own types there.")
register_rule("spec/unknown-property", "A condition property the catalog does not know for its node type.",
              Severity.WARNING,
              help_text="Veza answers a condition on a misspelled property with zero rows and no error. Fix the "
              "spelling; custom (OAA) properties start with 'customprop_'.")


def _is_template(text: str) -> bool:
    # A value still holding Jinja did not render; the templating stage has already reported why.
    return "{{" in text or "{%" in text


def _unknown_type(unit: QueryUnit, path: JSONPath, name: str, known: frozenset[str]) -> Finding:
    suggestion = closest(name, known)
    hint = (f"did you mean {suggestion!r}?" if suggestion else
            "if your tenant has it, add it to node_types in vqr.yaml.")
    return emit(unit.doc, path, "spec/unknown-node-type", f"{name!r} is not a known node type; {hint}")


def _property_names(node_spec: dict[str, JSONValue], base: JSONPath) -> Iterable[tuple[JSONPath, str]]:
    for key in ("condition_expression", "conditions"):
        if key in node_spec:
            for path, mapping in iter_mappings(node_spec[key], (*base, key)):
                prop = mapping.get("property")
                if isinstance(prop, str):
                    yield (*path, "property"), prop
    wanted = node_spec.get("properties_to_get")
    if isinstance(wanted, list):
        for index, prop in enumerate(wanted):
            if isinstance(prop, str):
                yield (*base, "properties_to_get", index), prop


def check_node_types(unit: QueryUnit, ctx: RuleContext) -> list[Finding]:
    spec = unit.body.get("spec")
    found: list[Finding] = []
    for path, name in iter_node_type_names(spec, ("spec",)):
        if name not in ctx.known_node_types and not _is_template(name):
            found.append(_unknown_type(unit, path, name, ctx.known_node_types))
    for base, node_spec, node_type in iter_node_specs(spec, ("spec",)):
        if node_type not in catalog.NODE_TYPES:
            continue  # groupings, project extras and unknown types: we cannot know their properties
        known = catalog.properties_of(node_type)
        for path, prop in _property_names(node_spec, base):
            if prop in known or prop.startswith("customprop_") or _is_template(prop):
                continue
            suggestion = closest(prop, known)
            hint = f"did you mean {suggestion!r}? " if suggestion else ""
            found.append(emit(unit.doc, path, "spec/unknown-property",
                              f"{prop!r} is not a known property of {node_type}; {hint}Veza returns no rows for "
                              "an unknown property."))
    return found
