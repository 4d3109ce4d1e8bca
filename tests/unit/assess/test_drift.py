"""Drift between two result files: added, removed and changed entities by id (or source/destination pair), ignored
fields, deterministic samples, bounded work on large files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.assess.drift import IgnoreRule, compare_results
from runner.assess.rows import entity_key, entity_name, flatten_row


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def user(ident: str, name: str, **props: Any) -> dict[str, Any]:
    return {"id": ident, "type": "OktaUser", "properties": {"name": name, **props}, "tags": []}


def path_row(source: str, destination: str, perms: list[str]) -> dict[str, Any]:
    return {"source": {"id": source, "type": "OktaUser", "properties": {"name": source.upper()}},
            "destination": {"id": destination, "type": "S3Bucket", "properties": {"name": destination}},
            "abstract_permissions": perms}


def test_added_removed_changed_and_unchanged_entities_are_counted_and_named(tmp_path: Path) -> None:
    before = write(tmp_path / "a.jsonl", [user("u1", "Ann", status="ACTIVE"), user("u2", "Bob", status="ACTIVE"),
                                          user("u3", "Cid", status="ACTIVE")])
    after = write(tmp_path / "b.jsonl", [user("u4", "Dee", status="ACTIVE"), user("u2", "Bob", status="SUSPENDED"),
                                         user("u3", "Cid", status="ACTIVE")])
    drift = compare_results(before, after, previous_run="r1")
    assert (drift.added, drift.removed, drift.changed, drift.unchanged) == (1, 1, 1, 1)
    assert [(e.key, e.name) for e in drift.added_sample] == [("u4", "Dee")]
    assert [(e.key, e.name) for e in drift.removed_sample] == [("u1", "Ann")]
    assert [(e.key, e.fields) for e in drift.changed_sample] == [("u2", ("properties.status",))]
    assert drift.to_json()["changed_sample"] == [{"id": "u2", "name": "Bob", "fields": ["properties.status"]}]


def test_ignored_fields_do_not_count_as_changes_bare_names_at_any_depth(tmp_path: Path) -> None:
    before = write(tmp_path / "a.jsonl", [user("u1", "Ann", last_used_at="2025-01-01", status="ACTIVE"),
                                          {**user("u2", "Bob"), "access_stats": {"hits": 1}}])
    after = write(tmp_path / "b.jsonl", [user("u1", "Ann", last_used_at="2025-03-01", status="ACTIVE"),
                                         {**user("u2", "Bob"), "access_stats": {"hits": 9}}])
    assert compare_results(before, after, previous_run="r").changed == 2
    quiet = compare_results(before, after, previous_run="r", ignore=["last_used_at", "access_stats"])
    assert (quiet.changed, quiet.unchanged, quiet.ignored) == (0, 2, ("last_used_at", "access_stats"))
    dotted = compare_results(before, after, previous_run="r", ignore=["properties.last_used_at"])
    assert [e.key for e in dotted.changed_sample] == ["u2"]


def test_ignore_rule_matches_exact_paths_prefixes_and_bare_segments() -> None:
    rule = IgnoreRule(entries=("last_used_at", "access_stats", "source.properties.created_at"))
    assert rule.ignores("last_used_at") and rule.ignores("properties.last_used_at")
    assert rule.ignores("destination.properties.last_used_at") and rule.ignores("access_stats.hits")
    assert rule.ignores("source.properties.created_at")
    assert not rule.ignores("destination.properties.created_at") and not rule.ignores("properties.last_used")


def test_path_rows_are_keyed_by_source_and_destination(tmp_path: Path) -> None:
    before = write(tmp_path / "a.jsonl", [path_row("u1", "b1", ["DATA_READ"]), path_row("u1", "b2", ["DATA_READ"])])
    after = write(tmp_path / "b.jsonl", [path_row("u1", "b1", ["DATA_WRITE"]), path_row("u2", "b2", ["DATA_READ"])])
    drift = compare_results(before, after, previous_run="r")
    assert (drift.added, drift.removed, drift.changed) == (1, 1, 1)
    assert [(e.key, e.name) for e in drift.added_sample] == [("u2 -> b2", "U2 -> b2")]
    assert [e.key for e in drift.removed_sample] == ["u1 -> b2"]
    assert drift.changed_sample[0].fields == ("abstract_permissions",)


def test_an_entity_whose_id_looks_like_a_pair_is_not_a_path_row(tmp_path: Path) -> None:
    before = write(tmp_path / "a.jsonl", [{"id": "u1 -> b1", "type": "X"}])
    after = write(tmp_path / "b.jsonl", [path_row("u1", "b1", [])])
    drift = compare_results(before, after, previous_run="r")
    assert (drift.added, drift.removed) == (1, 1)


def test_samples_are_the_smallest_keys_whatever_the_row_order(tmp_path: Path) -> None:
    rows = [user(f"u{i:04d}", f"n{i}") for i in range(300)]
    empty = write(tmp_path / "empty.jsonl", [])
    forward = compare_results(empty, write(tmp_path / "f.jsonl", rows), previous_run="r", sample=5)
    backward = compare_results(empty, write(tmp_path / "b.jsonl", rows[::-1]), previous_run="r", sample=5)
    assert forward.added == 300
    assert forward.added_sample == backward.added_sample
    assert [e.key for e in forward.added_sample] == ["u0000", "u0001", "u0002", "u0003", "u0004"]


def counts(drift: Any) -> tuple[int, int, int, int]:
    return drift.added, drift.removed, drift.changed, drift.unchanged


def test_a_repeated_key_is_one_entity_made_of_all_its_rows(tmp_path: Path) -> None:
    """The rule (assess/drift.py docstring): counts are of distinct entities; an entity is all rows of its key."""
    one = write(tmp_path / "one.jsonl", [user("u1", "A")])
    twice = write(tmp_path / "twice.jsonl", [user("u1", "A"), user("u1", "A")])
    assert counts(compare_results(one, twice, previous_run="r")) == (0, 0, 1, 0)  # its content changed
    assert counts(compare_results(twice, twice, previous_run="r")) == (0, 0, 0, 1)  # no drift against itself
    assert counts(compare_results(twice, one, previous_run="r")) == (0, 0, 1, 0)
    new = write(tmp_path / "new.jsonl", [user("u2", "B"), user("u2", "B"), user("u1", "A")])
    drift = compare_results(one, new, previous_run="r")
    assert counts(drift) == (1, 0, 0, 1) and [e.key for e in drift.added_sample] == ["u2"]
    gone = compare_results(new, write(tmp_path / "empty.jsonl", []), previous_run="r")
    assert counts(gone) == (0, 2, 0, 0) and [e.key for e in gone.removed_sample] == ["u1", "u2"]


def test_rows_of_a_repeated_key_in_another_order_are_the_same_entity(tmp_path: Path) -> None:
    before = write(tmp_path / "a.jsonl", [user("u1", "A", n=1), user("u2", "B"), user("u1", "A", n=2)])
    after = write(tmp_path / "b.jsonl", [user("u1", "A", n=2), user("u1", "A", n=1), user("u2", "B", n=3)])
    drift = compare_results(before, after, previous_run="r")
    assert counts(drift) == (0, 0, 1, 1)
    assert [(e.key, e.fields) for e in drift.changed_sample] == [("u2", ("properties.n",))]


@pytest.mark.parametrize("seed", range(5))
def test_counts_add_up_to_the_distinct_entities_of_each_file(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    def rows() -> list[dict[str, Any]]:
        return [user(f"u{rng.randrange(8)}", "X", v=rng.randrange(2)) for _ in range(12)]

    old, new = rows(), rows()
    drift = compare_results(write(tmp_path / "a.jsonl", old), write(tmp_path / "b.jsonl", new), previous_run="r")
    assert drift.added + drift.changed + drift.unchanged == len({r["id"] for r in new})
    assert drift.removed + drift.changed + drift.unchanged == len({r["id"] for r in old})
    assert len({e.key for e in drift.added_sample}) == len(drift.added_sample) == drift.added


def test_missing_or_broken_files_raise_for_the_caller_to_skip_drift(tmp_path: Path) -> None:
    good = write(tmp_path / "a.jsonl", [user("u1", "A")])
    with pytest.raises(OSError):
        compare_results(tmp_path / "gone.jsonl", good, previous_run="r")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    with pytest.raises(ValueError):
        compare_results(good, broken, previous_run="r")


def test_keys_names_and_flattening() -> None:
    assert entity_key({"id": 42}) == "42"
    assert entity_name(user("u", "Ann")) == "Ann"
    assert entity_name({"id": "u", "properties": {"email": "a@x"}}) == "a@x"
    assert entity_name({"id": "u", "properties": {}}) is None
    assert flatten_row({"a": {"b": 1, "c": [2, {"d": 3}]}, "e": None}) == {"a.b": 1, "a.c": '[2,{"d":3}]', "e": None}


def test_a_large_result_compares_by_counts_and_bounded_samples(tmp_path: Path) -> None:
    count = 10_000  # 100 added and 100 removed: more than the 50 each sample keeps
    before = tmp_path / "a.jsonl"
    after = tmp_path / "b.jsonl"
    with before.open("w") as a, after.open("w") as b:
        for i in range(count):
            a.write(json.dumps(user(f"u{i}", f"n{i}", status="ACTIVE")) + "\n")
            if i % 100:  # every hundredth entity removed, and as many new ones
                b.write(json.dumps(user(f"u{i}", f"n{i}", status="ACTIVE" if i % 7 else "SUSPENDED")) + "\n")
            else:
                b.write(json.dumps(user(f"new{i}", f"n{i}")) + "\n")
    drift = compare_results(before, after, previous_run="r")
    removed = count // 100
    changed = sum(1 for i in range(count) if i % 100 and i % 7 == 0)
    assert (drift.added, drift.removed, drift.changed) == (removed, removed, changed)
    assert len(drift.added_sample) == 50 and len(drift.removed_sample) == 50


def test_flattening_is_injective_for_keys_with_dots_and_backslashes() -> None:
    """Issue 10, point 15: `"a.b"` and `{"a": {"b"}}` are two fields, so the CSV keeps both values."""
    flat = flatten_row({"a.b": 1, "a": {"b": 2}, "c\\": {"d": 3}, "c": {"\\d": 4}, "e\\.f": 5, "e": {".f": 6}})
    assert flat == {"a\\.b": 1, "a.b": 2, "c\\\\.d": 3, "c.\\\\d": 4, "e\\\\\\.f": 5, "e.\\.f": 6}
    assert len(flat) == 6
