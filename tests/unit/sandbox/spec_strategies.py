"""Hypothesis strategies for AssessmentQuerySpecs biased towards near-valid ones: every field is usually a valid
value and sometimes null, "", [], {}, a wrong type or absent, with legacy NodeSpec fields and top-level relation
fields mixed in. Node type names are ones the sandbox knows (catalog, groupings, legacy, well-formed OAA) and
snapshot_id is unset: an unknown name or snapshot is the graph's own refusal, not a shape (runner/specshape.py).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from runner.protojson import EFFECTIVE_PERMISSION_NAMES, ENUM_NAMES

Strategy = st.SearchStrategy[Any]
# No braces or `$`: a generated string must never be read as a template.
TEXT = st.text("abcXY_ .-", max_size=6)
KEY = st.text("abcXY_", min_size=1, max_size=6)
JUNK = st.one_of(st.none(), st.just(""), st.just([]), st.just({}), st.integers(-2, 40), st.booleans(), TEXT,
                 st.just({"x": 1}), st.just(["a"]), st.sampled_from([0.5, -1.0, 1e30]))
NODE_TYPES = st.sampled_from(["OktaUser", "S3Bucket", "AwsIamRole", "OktaGroup", "User", "Resource", "Identity",
                              "CustomUser", "OAA.Github.User", "OAA.Github.repository.Resource"])
_BIASED = st.sampled_from([True, True, True, False])  # valid three times in four
PROPERTIES = st.sampled_from(["is_active", "email", "name", "customprop_team"])


def specs(*, broken: bool) -> Strategy:
    """Specs whose every field is valid (`broken=False`: required lists hold something) or, with `broken`, one
    time in four a broken value."""
    def maybe(valid: Strategy) -> Strategy:
        # flatmap, not one_of(valid, valid, valid, JUNK): nested strategies would repeat, and their repr explode.
        return _BIASED.flatmap(lambda ok: valid if ok else JUNK) if broken else valid

    def enum(kind: str) -> Strategy:
        names = ENUM_NAMES.get(kind, EFFECTIVE_PERMISSION_NAMES)
        upper = len(names) + 1 if broken else len(names) - 1
        return maybe(st.one_of(st.sampled_from(names), st.sampled_from(names).map(str.lower),
                               st.integers(0, len(names) - 1), st.integers(0, upper).map(str)))

    def few(item: Strategy) -> Strategy:
        return maybe(st.lists(item, min_size=0 if broken else 1, max_size=2))

    def _flags(*names: str) -> dict[str, Strategy]:
        return {name: maybe(st.booleans()) for name in names}

    CONDITION = st.fixed_dictionaries(
        {"property": maybe(PROPERTIES)},
        optional={"fn": enum("fn"), "value": st.one_of(TEXT, st.integers(0, 9), st.lists(TEXT, max_size=2), st.none()),
                  "value_property_name": maybe(PROPERTIES), **_flags("not", "value_property_from_other_node")})
    TAG = st.fixed_dictionaries({"key": maybe(KEY)}, optional={"type": maybe(TEXT), "value": maybe(TEXT)})
    CONDITION_EXPR = st.recursive(
        st.fixed_dictionaries({"specs": few(CONDITION)},
                              optional={"tag_specs": few(st.fixed_dictionaries({"tag": maybe(TAG)}, optional=_flags(
                                  "exclude"))), "operator": enum("operator"), **_flags("not")}),
        lambda children: st.fixed_dictionaries({"child_expressions": few(children)},
                                               optional={"specs": few(CONDITION), "operator": enum("operator")}),
        max_leaves=3)
    COUNT_SPEC = st.fixed_dictionaries({"fn": enum("fn"), "value": maybe(st.one_of(st.integers(0, 5),
                                                                                     st.sampled_from(["3", "0"])))})
    COUNT_EXPR = st.fixed_dictionaries({"specs": few(COUNT_SPEC)}, optional={
        "operator": enum("operator"), "child_expressions": few(st.fixed_dictionaries({"specs": few(COUNT_SPEC)})),
        **_flags("not", "include_zero_count_results")})
    NODE = st.fixed_dictionaries({"node_type": maybe(NODE_TYPES)}, optional={
        "node_id": TEXT, "condition_expression": maybe(CONDITION_EXPR), "conditions": few(CONDITION),
        "tags": few(TAG), "excluded_tags": few(TAG), "count_condition_expression": maybe(COUNT_EXPR),
        "count_conditions": few(COUNT_SPEC), "properties_to_get": few(PROPERTIES),
        "tags_to_get": few(st.fixed_dictionaries({"key": KEY}, optional={"type": TEXT})),
        **_flags("direct_relationship_only")})
    NODE_SET = st.fixed_dictionaries({"nodes": few(NODE)}, optional={"nodes_operator": enum("operator")})
    PERMISSIONS = st.fixed_dictionaries({"values": few(st.sampled_from(EFFECTIVE_PERMISSION_NAMES[1:]))},
                                        optional={"operator": enum("operator")})
    RAW_PERMISSIONS = st.fixed_dictionaries({"values": few(st.sampled_from(["s3:GetObject", "read"]))})
    RELATES_SPEC = st.fixed_dictionaries({}, optional={
        "node_types": maybe(NODE_SET), "required_intermediate_node_types": maybe(NODE_SET),
        "avoided_intermediate_node_types": maybe(NODE_SET), "effective_permissions": maybe(PERMISSIONS),
        "raw_permissions": maybe(RAW_PERMISSIONS), **_flags("no_relation")})
    RELATES_EXPR = st.recursive(
        st.fixed_dictionaries({"specs": few(RELATES_SPEC)}, optional={"operator": enum("operator"), **_flags("not")}),
        lambda children: st.fixed_dictionaries({"child_expressions": few(children)},
                                               optional={"operator": enum("operator")}),
        max_leaves=3)
    SPECS: Strategy = st.fixed_dictionaries(
        {"query_type": enum("query_type"), "source_node_types": maybe(NODE_SET)},
        optional={"relates_to_exp": maybe(RELATES_EXPR), "node_relationship_type": enum("node_relationship_type"),
                  "result_value_type": enum("result_value_type"), "all_entity_condition": maybe(CONDITION_EXPR),
                  "snapshot_id": st.sampled_from([None, "0", 0]),
                  # the deprecated top-level relation fields
                  "destination_node_types": maybe(NODE_SET), "required_intermediate_node_types": maybe(NODE_SET),
                  "effective_permissions": maybe(PERMISSIONS), "raw_permissions": maybe(RAW_PERMISSIONS),
                  **_flags("include_nodes", "include_all_source_tags_in_results")})
    return SPECS


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _mutate(spec: dict[str, Any], path: tuple[Any, ...], junk: Any, delete: bool) -> dict[str, Any]:
    """`spec` with the value at `path` replaced by `junk` (or its key deleted, for a mapping's key)."""
    copy: Any = json.loads(json.dumps(spec))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    result: dict[str, Any] = copy
    return result


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec with one or two of its values broken or removed: the specs most likely to slip through."""
    spec: dict[str, Any] = draw(specs(broken=False))
    for _ in range(draw(st.integers(1, 2))):
        paths = _paths(spec)
        if not paths:
            break
        spec = _mutate(spec, draw(st.sampled_from(paths)), draw(JUNK), draw(st.booleans()))
    return spec


SPECS = st.one_of(specs(broken=False), near_valid(), near_valid(), specs(broken=True))
