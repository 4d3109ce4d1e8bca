"""Meaning rules against the node-type catalog: unknown, malformed OAA and legacy node types, unknown properties.

`check_node_types(unit, ctx)` looks up every node type named anywhere in the rendered spec (OAA names by Veza's
naming rule, an app counting as known when the catalog or vqr.yaml lists one of its types) and every condition
`property` / `properties_to_get` entry of a known concrete type. All warnings. Pure, no I/O.
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
              "your tenant's own types there. Listing one OAA.<App>.… type declares the whole app <App>.")
register_rule("spec/malformed-oaa-type", "A node type starting with OAA. that breaks Veza's OAA naming rule.",
              Severity.WARNING,
              help_text=f"OAA types are named {catalog.OAA_RULE}; the resource type keeps the connector's case "
              "(OAA.Github.repository.Resource).")
register_rule("spec/legacy-node-type", "A legacy (pre-2023-10) Custom* OAA node type.", Severity.WARNING,
              help_text="CustomUser, CustomResource, CustomSubResource, CustomPermission and CustomApplication "
              "stand for every OAA app at once, narrowed by conditions on application_type / resource_type. "
              "Veza names OAA types per app now: OAA.<App>.User, OAA.<App>.<resource_type>.Resource…")
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


def _unknown_app(unit: QueryUnit, path: JSONPath, name: str, app: str, known: frozenset[str]) -> Finding:
    suggestion = closest(name, known)
    guess = f"did you mean {suggestion!r}? If not, " if suggestion else ""
    return emit(unit.doc, path, "spec/unknown-node-type",
                f"{name!r} is a well-formed OAA type of an app vqr.yaml does not declare; {guess}declare the app "
                f"{app} by listing this type (or any OAA.{app}.… type) in node_types of vqr.yaml.")


def _malformed(unit: QueryUnit, path: JSONPath, name: str, known: frozenset[str]) -> Finding:
    suggestion = closest(name, known)
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    return emit(unit.doc, path, "spec/malformed-oaa-type",
                f"{name!r} breaks the OAA naming rule: {catalog.OAA_RULE}.{hint}")


def _narrowing(node_spec: dict[str, JSONValue] | None) -> dict[str, str]:
    """The `application_type` / `resource_type` a legacy NodeSpec's equality conditions name (first one wins)."""
    found: dict[str, str] = {}
    if node_spec is None:
        return found
    for key in ("conditions", "condition_expression"):
        for _, mapping in iter_mappings(node_spec.get(key), (key,)):
            prop, value, fn = mapping.get("property"), mapping.get("value"), mapping.get("fn")
            if (prop in ("application_type", "resource_type") and isinstance(prop, str) and isinstance(value, str)
                    and fn in (None, "", "EQ", 0) and not mapping.get("not")):
                found.setdefault(prop, value)
    return found


def _legacy(unit: QueryUnit, path: JSONPath, name: str, node_spec: dict[str, JSONValue] | None) -> Finding:
    narrowed = _narrowing(node_spec)
    modern = catalog.legacy_replacement(name, narrowed.get("application_type"), narrowed.get("resource_type"))
    return emit(unit.doc, path, "spec/legacy-node-type",
                f"{name!r} is a legacy (pre-2023-10) OAA type, narrowed by application_type / resource_type; "
                f"Veza names it {modern!r} now.")


def _check_name(unit: QueryUnit, path: JSONPath, name: str, ctx: RuleContext,
                node_spec: dict[str, JSONValue] | None) -> Finding | None:
    known = ctx.known_node_types
    if _is_template(name):
        return None
    if name in catalog.LEGACY_TYPES:
        return _legacy(unit, path, name, node_spec)
    if name in known:
        return None
    if not catalog.is_oaa_like(name):
        return _unknown_type(unit, path, name, known)
    parsed = catalog.parse_oaa(name)
    if parsed is None:
        return _malformed(unit, path, name, known)
    if parsed.app in catalog.oaa_apps(known):
        return None
    return _unknown_app(unit, path, name, parsed.app, known)


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
    node_specs = {base: node_spec for base, node_spec, _ in iter_node_specs(spec, ("spec",))}
    for path, name in iter_node_type_names(spec, ("spec",)):
        owner = node_specs.get(path[:-1]) if path[-1] == "node_type" else None
        finding = _check_name(unit, path, name, ctx, owner)
        if finding is not None:
            found.append(finding)
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
