"""Finding lifecycle on a real journal file and real result files: new, persisting and resolved against the previous
recorded run, ages on the given `as_of`, resume without double counting, reappearance, spec changes and keys."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runner.assess.lifecycle import OLDEST, signed, start_scan, track_lifecycle
from runner.model import DriftResult, EntityRef
from runner.model.lifecycle import EntityChanges, Lifecycle, LifecycleScope
from runner.state import Journal, open_journal
from runner.state.entities import SPECS_KEPT
from tests.unit.state.conftest import Clock

SCOPE = LifecycleScope(env="prod", target="https://acme.vezacloud.com", query="q", spec_hash="h1")
DAY0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with open_journal(tmp_path / ".vqr" / "state.sqlite", clock=Clock()) as opened:
        yield opened


def results(tmp_path: Path, run: str, ids: Iterable[str]) -> Path:
    path = tmp_path / run / "q.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"id": i, "properties": {"name": f"name of {i}"}}) + "\n" for i in ids))
    return path


def track(journal: Journal, tmp_path: Path, run: str, ids: Iterable[str], day: int, *,
          scope: LifecycleScope = SCOPE, drift: DriftResult | None = None) -> Lifecycle:
    found = track_lifecycle(journal, scope, results(tmp_path, run, ids), run_id=run,
                            as_of=DAY0 + timedelta(days=day, hours=day), drift=drift)
    assert found is not None
    return found


def counts(found: Lifecycle) -> tuple[str | None, int, int, int]:
    return found.previous_run, found.new, found.persisting, found.resolved


def test_three_runs_count_new_persisting_resolved_and_age_the_oldest(journal: Journal, tmp_path: Path) -> None:
    first = track(journal, tmp_path, "r1", ["a", "b", "c", "d", "a"], 0)  # a repeated key is one entity
    assert counts(first) == (None, 4, 0, 0)
    assert [(r.key, r.name) for r in first.new_sample] == [(k, f"name of {k}") for k in "abcd"]
    second = track(journal, tmp_path, "r2", ["b", "c", "d", "e", "f"], 1)
    assert counts(second) == ("r1", 2, 3, 1)
    assert [r.key for r in second.new_sample] == ["e", "f"]
    third = track(journal, tmp_path, "r3", ["c", "f", "g"], 6)
    assert counts(third) == ("r2", 1, 2, 3)
    assert [(o.key, o.first_seen, o.age_days) for o in third.oldest] == [
        ("c", DAY0, 6), ("f", DAY0 + timedelta(days=1, hours=1), 5), ("g", DAY0 + timedelta(days=6, hours=6), 0)]
    assert third.oldest[0].to_json() == {"id": "c", "name": "name of c", "first_seen": "2026-03-01T02:00:00Z",
                                         "age_days": 6}
    assert third.max_age_days == 6


def test_a_resumed_run_reports_the_same_and_the_next_run_is_not_double_counted(journal: Journal,
                                                                               tmp_path: Path) -> None:
    track(journal, tmp_path, "r1", ["a", "b", "c"], 0)
    once = track(journal, tmp_path, "r2", ["b", "c", "d"], 1)
    again = track(journal, tmp_path, "r2", ["b", "c", "d"], 3)  # the resume: later clock, same run
    assert again == once and counts(once) == ("r1", 1, 2, 1)
    assert {o.age_days for o in again.oldest if o.key == "b"} == {1}  # aged on the recorded run's as_of
    third = track(journal, tmp_path, "r3", ["c", "d", "e"], 2)
    assert counts(third) == ("r2", 1, 2, 1)


def test_an_entity_that_comes_back_is_new_again(journal: Journal, tmp_path: Path) -> None:
    track(journal, tmp_path, "r1", ["a", "b"], 0)
    assert counts(track(journal, tmp_path, "r2", ["b"], 1)) == ("r1", 0, 1, 1)
    back = track(journal, tmp_path, "r3", ["a", "b"], 9)
    assert counts(back) == ("r2", 1, 1, 0)
    assert {o.key: o.age_days for o in back.oldest} == {"a": 0, "b": 9}


def test_a_new_spec_hash_starts_a_new_lifecycle_and_only_a_few_are_kept(journal: Journal, tmp_path: Path) -> None:
    track(journal, tmp_path, "r1", ["a", "b"], 0)
    edited = LifecycleScope(env=SCOPE.env, target=SCOPE.target, query=SCOPE.query, spec_hash="h2")
    assert counts(track(journal, tmp_path, "r2", ["a", "b"], 1, scope=edited)) == (None, 2, 0, 0)
    reverted = track(journal, tmp_path, "r3", ["b"], 2)  # the first spec again: its own lifecycle goes on
    assert counts(reverted) == ("r1", 0, 1, 1)
    for index in range(SPECS_KEPT):  # more specs than are kept: the least recently used lifecycle goes
        other = LifecycleScope(env=SCOPE.env, target=SCOPE.target, query=SCOPE.query, spec_hash=f"x{index}")
        track(journal, tmp_path, f"s{index}", ["a"], 3 + index, scope=other)
    assert journal.open_entities(SCOPE, run_id="later").previous_run is None
    assert journal.open_entities(edited, run_id="later").previous_run is None


@pytest.mark.parametrize("scope", [
    LifecycleScope(env="staging", target=SCOPE.target, query="q", spec_hash="h1"),
    LifecycleScope(env="prod", target="https://acme.vezacloud.com/eu", query="q", spec_hash="h1"),
    LifecycleScope(env="prod", target=SCOPE.target, query="other", spec_hash="h1"),
], ids=["env", "target", "query"])
def test_each_environment_target_and_query_has_its_own_lifecycle(journal: Journal, tmp_path: Path,
                                                                 scope: LifecycleScope) -> None:
    track(journal, tmp_path, "r1", ["a", "b"], 0)
    assert counts(track(journal, tmp_path, "r2", ["a", "c"], 1, scope=scope)) == (None, 2, 0, 0)
    assert counts(track(journal, tmp_path, "r3", ["a"], 2)) == ("r1", 0, 1, 1)


def test_an_unreadable_result_records_nothing(journal: Journal, tmp_path: Path) -> None:
    track(journal, tmp_path, "r1", ["a"], 0)
    broken = results(tmp_path, "r2", ["a"])
    broken.write_text("{not json\n")
    assert track_lifecycle(journal, SCOPE, broken, run_id="r2", as_of=DAY0, drift=None) is None
    assert track_lifecycle(journal, SCOPE, tmp_path / "gone.jsonl", run_id="r2", as_of=DAY0, drift=None) is None
    assert counts(track(journal, tmp_path, "r3", ["a", "b"], 1)) == ("r1", 1, 1, 0)


def test_resolved_entities_are_named_by_drift_only_when_it_compared_with_the_same_run(journal: Journal,
                                                                                     tmp_path: Path) -> None:
    track(journal, tmp_path, "r1", ["a", "b"], 0)
    named = (EntityRef(key="a", name="name of a"),)
    same = DriftResult(previous_run="r1", added=0, removed=1, changed=0, unchanged=1, removed_sample=named)
    assert track(journal, tmp_path, "r2", ["b"], 1, drift=same).resolved_sample == named
    other = DriftResult(previous_run="r0", added=0, removed=1, changed=0, unchanged=0, removed_sample=named)
    found = track(journal, tmp_path, "r3", [], 2, drift=other)
    assert counts(found) == ("r2", 0, 0, 1) and found.resolved_sample == () and found.oldest == ()


def test_samples_and_oldest_are_bounded_and_ordered_by_key(journal: Journal, tmp_path: Path) -> None:
    many = [f"u{n:04d}" for n in range(500)]
    track(journal, tmp_path, "r1", reversed(many[:300]), 0)
    later = track(journal, tmp_path, "r2", reversed(many), 4)
    assert [r.key for r in later.new_sample] == many[300:350]
    assert [o.key for o in later.oldest] == many[:OLDEST] and {o.age_days for o in later.oldest} == {4}


def test_the_journal_refuses_changes_computed_against_another_run(journal: Journal, tmp_path: Path) -> None:
    track(journal, tmp_path, "r1", ["a"], 0)
    stale = EntityChanges(run_id="r2", as_of=DAY0, previous_run="r0", new=signed_keys(2**64 - 1),
                          resolved=signed_keys())
    assert journal.record_entities(SCOPE, stale) is False
    assert journal.open_entities(SCOPE, run_id="r2").previous_run == "r1"


def signed_keys(*digests: int) -> array[int]:
    return array("q", (signed(d) for d in digests))


def test_a_scan_fed_as_rows_are_written_gives_what_reading_the_file_gives(tmp_path: Path) -> None:
    runs = [("r1", [f"e{i}" for i in range(30)] + ["e3"], 0), ("r2", [f"e{i}" for i in range(10, 45)], 2),
            ("r3", ["e40", "e1", "e12"], 5)]
    found: dict[str, list[Lifecycle]] = {"file": [], "fed": []}
    for how in found:
        with open_journal(tmp_path / how / "state.sqlite", clock=Clock()) as store:
            for run, ids, day in runs:
                path = results(tmp_path / how, run, ids)
                as_of = DAY0 + timedelta(days=day)
                scan = None
                if how == "fed":
                    scan = start_scan(store, SCOPE, run_id=run, as_of=as_of)
                    rows = [json.loads(line) for line in path.read_text().splitlines()]
                    scan.feed(rows[:7])  # pages
                    scan.feed(rows[7:])
                lifecycle = track_lifecycle(store, SCOPE, path, run_id=run, as_of=as_of, drift=None, scan=scan)
                assert lifecycle is not None
                found[how].append(lifecycle)
    assert found["fed"] == found["file"]
    assert counts(found["fed"][2]) == ("r2", 1, 2, 33)



def test_equal_samples_of_different_queries_are_one_object(journal: Journal, tmp_path: Path) -> None:
    other = LifecycleScope(env="prod", target="https://acme.vezacloud.com", query="q2", spec_hash="h9")
    one = track(journal, tmp_path, "r1", ["a", "b"], 0)
    two = track(journal, tmp_path / "other", "r1", ["b", "c"], 0, scope=other)
    assert one.new_sample[1] == two.new_sample[0] and one.new_sample[1] is two.new_sample[0]  # "b", held once
    assert one.oldest[1] is two.oldest[0]
