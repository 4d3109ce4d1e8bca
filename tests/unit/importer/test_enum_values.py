"""Import writes what Veza said: an explicit zero whose numbering is [assumed] is kept, a documented one dropped, a
tag's `fn` left as written; and every written file still compiles back to the imported spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from runner.importer import ImportRefused
from runner.model import JSONValue
from runner.protojson import normalise
from tests.unit.importer.project import import_into, make_project, plan

TAG: JSONValue = {"key": "env", "value": "prod"}
SPEC: dict[str, JSONValue] = {
    "query_type": "SOURCE_TO_DESTINATION", "result_value_type": "SOURCE_NODES",
    "node_relationship_type": "EFFECTIVE_ACCESS",
    "source_node_types": {"nodes_operator": "AND", "nodes": [{"node_type": "OktaUser", "condition_expression": {
        "operator": "AND", "specs": [{"fn": "EQ", "property": "status", "value": "ACTIVE"}],
        "tag_specs": [{"tag": TAG, "fn": "GT"}, {"tag": TAG, "fn": "EQ"}]}}]},
    "relates_to_exp": {"specs": [{"node_types": {"nodes": [{"node_type": "S3Bucket"}]},
                                  "direction": "ANY_DIRECTION",
                                  "effective_permissions": {"values": [1]}}]},
}


def test_assumed_zeros_and_tag_fns_are_written_as_veza_said(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = import_into(project, [("q.json", SPEC)])
    written = YAML(typ="safe").load((tmp_path / "queries" / "q.yaml").read_text())["spec"]
    assert (written["result_value_type"], written["node_relationship_type"]) == ("SOURCE_NODES", "EFFECTIVE_ACCESS")
    relation = written["relates_to_exp"]["specs"][0]
    assert relation["direction"] == "ANY_DIRECTION"
    assert relation["effective_permissions"] == {"values": ["DATA_READ"]}
    expression = written["source_node_types"]["nodes"][0]["condition_expression"]
    assert expression["tag_specs"] == [{"tag": TAG, "fn": "GT"}, {"tag": TAG, "fn": "EQ"}]  # EQ is no zero here
    assert "operator" not in expression and "fn" not in expression["specs"][0]  # documented zeros: dropped
    assert "nodes_operator" not in written["source_node_types"]
    # The query compiled back from the file is the imported one, in the hash's normal form.
    assert normalise(done.queries["q"].spec) == normalise(SPEC)


def test_a_tag_fn_by_number_is_refused_not_read_as_a_condition_fn(tmp_path: Path) -> None:
    # Its numbering is unknown, so the number is written as given, and the schema (a string) refuses it.
    spec: JSONValue = {**SPEC, "source_node_types": {"nodes": [{"node_type": "OktaUser", "condition_expression": {
        "tag_specs": [{"tag": TAG, "fn": 3}]}}]}}
    with pytest.raises(ImportRefused, match="got the number 3"):
        plan(make_project(tmp_path), [("q.json", spec)])
