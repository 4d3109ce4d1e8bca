"""`--modernize`: each legacy form → its modern replacement where the mapping is certain; everything else left as it
was and reported; the input never changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runner.importer import modernize
from runner.model import JSONObject

ACTIVE: Any = {"fn": "EQ", "property": "status", "value": "ACTIVE"}
PROD: Any = {"key": "env", "value": "prod"}
PUBLIC: Any = {"key": "public", "value": "true"}


def source(**node: Any) -> Any:
    return {"source_node_types": {"nodes": [{"node_type": "OktaUser", **node}]}}


@pytest.mark.parametrize(("spec", "expected", "rewritten"), [
    pytest.param(source(conditions=[ACTIVE]), source(condition_expression={"specs": [ACTIVE]}),
                 ["spec.source_node_types.nodes[0]: conditions → condition_expression"], id="conditions"),
    pytest.param(source(conditions=[ACTIVE], condition_expression={"specs": [{"property": "a", "value": 1}]}),
                 source(condition_expression={"specs": [{"property": "a", "value": 1}, ACTIVE]}),
                 ["spec.source_node_types.nodes[0]: conditions → condition_expression"],
                 id="conditions joined to an AND expression"),
    pytest.param(source(tags=[PROD], excluded_tags=[PUBLIC]),
                 source(condition_expression={"tag_specs": [{"tag": PROD}, {"tag": PUBLIC, "exclude": True}]}),
                 ["spec.source_node_types.nodes[0]: tags, excluded_tags → condition_expression"], id="tags"),
    pytest.param(source(count_conditions=[{"fn": "GT", "value": "5"}]),
                 source(count_condition_expression={"specs": [{"fn": "GT", "value": "5"}]}),
                 ["spec.source_node_types.nodes[0]: count_conditions → count_condition_expression.specs"],
                 id="count_conditions"),
    pytest.param({**source(), "destination_node_types": {"nodes": [{"node_type": "OktaUser", "conditions": [ACTIVE]}]},
                  "no_relation": True, "raw_permissions": {"values": ["admin"], "operator": "OR"}},
                 {**source(), "relates_to_exp": {"specs": [{
                     "node_types": {"nodes": [{"node_type": "OktaUser", "condition_expression": {"specs": [ACTIVE]}}]},
                     "no_relation": True, "raw_permissions": {"values": ["admin"], "operator": "OR"}}]}},
                 ["spec: destination_node_types, no_relation, raw_permissions → relates_to_exp.specs[0]",
                  "spec.relates_to_exp.specs[0].node_types.nodes[0]: conditions → condition_expression"],
                 id="top-level relation fields, then the nodes they held"),
    pytest.param({**source(), "effective_permissions": {"values": ["DATA_READ"]},
                  "required_intermediate_node_types": {"nodes": [{"node_type": "AwsIamRole"}]},
                  "avoided_intermediate_node_types": {"nodes": [{"node_type": "OktaGroup"}]}},
                 {**source(), "relates_to_exp": {"specs": [{
                     "effective_permissions": {"values": ["DATA_READ"]},
                     "required_intermediate_node_types": {"nodes": [{"node_type": "AwsIamRole"}]},
                     "avoided_intermediate_node_types": {"nodes": [{"node_type": "OktaGroup"}]}}]}},
                 ["spec: effective_permissions, required_intermediate_node_types, avoided_intermediate_node_types → "
                  "relates_to_exp.specs[0]"], id="permissions and intermediates"),
])
def test_certain_mappings_are_applied(spec: JSONObject, expected: JSONObject, rewritten: list[str]) -> None:
    before = copy.deepcopy(spec)
    done = modernize(spec)
    assert (done.spec, done.rewritten, done.left) == (expected, rewritten, [])
    assert spec == before


@pytest.mark.parametrize(("spec", "left"), [
    pytest.param(source(conditions=[ACTIVE], condition_expression={"specs": [ACTIVE], "operator": "OR"}),
                 "spec.source_node_types.nodes[0]: conditions kept beside an OR or negated condition_expression",
                 id="beside OR"),
    pytest.param(source(tags=[PROD], condition_expression={"specs": [ACTIVE], "not": True}),
                 "spec.source_node_types.nodes[0]: tags kept beside an OR or negated condition_expression",
                 id="beside NOT"),
    pytest.param(source(tags=[{"key": "env", "colour": "red"}]),
                 "spec.source_node_types.nodes[0]: tags kept (an item is not the legacy shape)", id="odd tag"),
    pytest.param(source(conditions="status = ACTIVE"),
                 "spec.source_node_types.nodes[0]: conditions kept (an item is not the legacy shape)",
                 id="odd conditions"),
    pytest.param(source(count_conditions=[{"fn": "GT", "value": "1"}],
                        count_condition_expression={"specs": [], "operator": "OR"}),
                 "spec.source_node_types.nodes[0]: count_conditions kept beside an OR or negated "
                 "count_condition_expression", id="counts beside OR"),
    pytest.param({**source(), "no_relation": True, "relates_to_exp": {"specs": [{"node_types": {"nodes": []}}]}},
                 "spec: no_relation kept beside relates_to_exp (how the two combine is not certain)",
                 id="relation fields beside relates_to_exp"),
    pytest.param({"relates_to_exp": {"specs": [], "and_op_type": "INFERRED"}},
                 "spec.relates_to_exp: and_op_type INFERRED kept (its meaning is not documented)", id="and_op_type"),
    pytest.param({"source_node_types": {"nodes": [{"node_type": "CustomUser"}]}},
                 "spec.source_node_types.nodes[0]: legacy node type CustomUser kept (lint names its OAA form)",
                 id="Custom* type"),
])
def test_uncertain_forms_are_left_and_reported(spec: JSONObject, left: str) -> None:
    done = modernize(spec)
    assert done.spec == spec
    assert (done.rewritten, done.left) == ([], [left])


def test_user_data_is_never_walked_into() -> None:
    spec = source(condition_expression={"specs": [{"property": "p", "value": {"nodes": [{"conditions": [ACTIVE]}]}}]})
    assert modernize(spec).spec == spec


def test_a_tags_free_map_is_never_walked_into() -> None:
    # `properties` is user data (protojson.OPAQUE_KEYS): legacy-looking structure inside it is not rewritten.
    inside: Any = {"nodes": [{"node_type": "OktaUser", "conditions": [ACTIVE]}]}
    spec: Any = source(condition_expression={"tag_specs": [{"tag": {**PROD, "properties": inside}}]})
    done = modernize(copy.deepcopy(spec))
    assert done.spec == spec and done.rewritten == [] and done.left == []
