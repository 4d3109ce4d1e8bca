"""Rules on a partly invalid query (runner/rules/partial.py): what a rule skips, what pruning leaves, the one note."""

from __future__ import annotations

from runner.model import Document, JSONObject, JSONPath
from runner.rules import Validity, skipped_note
from runner.rules.partial import SKIPPED_RULE, Skip, dotted


def test_a_rule_skips_a_value_rejected_at_above_or_inside_what_it_reads() -> None:
    validity = Validity(invalid=frozenset({("spec", "snapshot_id"), ("cache", "mode")}))
    assert validity.blocks("spec/snapshot-id", ("spec", "snapshot_id"))
    assert validity.blocks("cache/*", ("cache",))  # the mode inside the cache it reads
    assert not validity.blocks("spec/query-type", ("spec", "query_type"))
    assert validity.skipped == [Skip("spec/snapshot-id", ("spec", "snapshot_id")), Skip("cache/*", ("cache", "mode"))]


def test_a_rule_reading_only_presence_ignores_rejected_parts_inside() -> None:
    validity = Validity(invalid=frozenset({("spec", "source_node_types", "nodes", 0, "node_type")}))
    nodes: JSONPath = ("spec", "source_node_types", "nodes")
    assert not validity.blocks("spec/query-type", nodes, inside=False)
    assert validity.blocks("spec/query-type", nodes)
    parent = Validity(invalid=frozenset({("spec", "source_node_types")}))
    assert parent.blocks("spec/query-type", nodes, inside=False)


def test_a_missing_key_blocks_silently_and_an_unknown_key_is_only_pruned() -> None:
    validity = Validity(missing=frozenset({("name",)}), unknown=frozenset({("cache", "ttl")}))
    assert validity.blocks("query/unsafe-name", ("name",))
    assert not validity.blocks("cache/*", ("cache",))
    assert validity.skipped == []  # nothing that is there went unchecked
    assert validity.prune({"mode": "immediate", "ttl": 3}, ("cache",)) == {"mode": "immediate"}


def test_pruning_keeps_list_positions_and_copies_only_what_it_changes() -> None:
    spec: JSONObject = {"nodes": [{"node_type": 7}, {"node_type": "OktaUser"}], "other": {"a": 1}}
    validity = Validity(invalid=frozenset({("spec", "nodes", 0), ("spec", "nodes", 0, "node_type")}))
    pruned = validity.prune(spec, ("spec",))
    assert pruned == {"nodes": [None, {"node_type": "OktaUser"}], "other": {"a": 1}}
    assert isinstance(pruned, dict) and pruned["other"] is spec["other"]
    assert spec["nodes"] == [{"node_type": 7}, {"node_type": "OktaUser"}]  # the input is left alone
    assert Validity(invalid=frozenset({("spec",)})).prune(spec, ("spec",)) is None


def test_one_note_per_file_names_each_skip_once_at_the_first() -> None:
    doc = Document(path="queries/q.yaml", data={}, values={}, keys={}, disabled_rules=frozenset())
    skips = [Skip("spec/snapshot-id", ("spec", "snapshot_id")), Skip("cache/*", ("cache", "mode"))] * 2
    [note] = skipped_note(doc, skips)
    assert note.rule == SKIPPED_RULE and note.message.startswith("2 checks not run")
    assert "cache/* at cache.mode" in note.message and "spec/snapshot-id at spec.snapshot_id" in note.message
    assert skipped_note(doc, []) == []
    assert dotted(("spec", "nodes", 0, "node_type")) == "spec.nodes[0].node_type"
