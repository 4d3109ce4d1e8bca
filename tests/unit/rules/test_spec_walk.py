"""The spec walkers skip user data: a condition's `value` and a tag's free `properties` map (protojson.OPAQUE_KEYS)."""

from __future__ import annotations

from runner.model import JSONValue
from runner.rules.spec_walk import iter_mappings, iter_node_type_names

LOOKALIKE: JSONValue = {"node_type": "Bogus", "fn": "IN", "value": 1, "property": "nosuch"}
SPEC: JSONValue = {"source_node_types": {"nodes": [{"node_type": "OktaUser", "condition_expression": {
    "specs": [{"property": "p", "value": LOOKALIKE}],
    "tag_specs": [{"tag": {"key": "env", "value": "prod", "properties": LOOKALIKE}}]}}]}}


def test_user_data_is_never_walked_into() -> None:
    paths = [path for path, _ in iter_mappings(SPEC, ("spec",))]
    assert not any("properties" in path or path[-1:] == ("value",) for path in paths)
    assert ("spec", "source_node_types", "nodes", 0, "condition_expression", "tag_specs", 0, "tag") in paths
    assert list(iter_node_type_names(SPEC, ("spec",))) == [
        (("spec", "source_node_types", "nodes", 0, "node_type"), "OktaUser")]
