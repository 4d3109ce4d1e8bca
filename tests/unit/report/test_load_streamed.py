"""`load_run(validate=False)` reads run.json a query entry at a time: the same figures as the validated load, with
equal samples shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.artifact import RUN_FILE
from runner.report.load import load_run

GOLDEN = Path(__file__).parents[2] / "golden"


@pytest.mark.parametrize("fixture", ["example-run", "run-fixture"])
def test_the_streamed_load_equals_the_validated_one(fixture: str) -> None:
    streamed, whole = load_run(GOLDEN / fixture, validate=False), load_run(GOLDEN / fixture)
    assert streamed == whole
    assert len(streamed.queries) > 1


def test_equal_entities_of_two_queries_are_one_object(tmp_path: Path) -> None:
    data = json.loads((GOLDEN / "example-run" / RUN_FILE).read_text(encoding="utf-8"))
    first = next(q for q in data["queries"] if q.get("drift") and q["drift"]["added_sample"])
    first["lifecycle"] = {"previous_run": None, "new": 1, "persisting": 0, "resolved": 0, "resolved_sample": [],
                          "new_sample": [{"id": "u1", "name": "Ann"}],
                          "oldest": [{"id": "u1", "name": "Ann", "first_seen": "2026-01-01T00:00:00Z", "age_days": 3}]}
    data["queries"].append({**first, "name": first["name"] + "-twin"})
    (tmp_path / RUN_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")
    run = load_run(tmp_path, validate=False)
    one, two = run.queries[data["queries"].index(first)], run.queries[-1]
    assert one.drift is not None and two.drift is not None and one.drift.added_sample
    assert all(a is b for a, b in zip(one.drift.added_sample, two.drift.added_sample, strict=True))
    assert one.lifecycle is not None and two.lifecycle is not None
    assert one.lifecycle.new_sample[0] is two.lifecycle.new_sample[0] and one.lifecycle.new_sample[0].name == "Ann"
    assert one.lifecycle.oldest[0] is two.lifecycle.oldest[0] and one.lifecycle.oldest[0].age_days == 3
