"""runner.impact.formats: the JSON document validates against schemas/diff.schema.json and keeps MISSING apart from
null; the text form keeps untrusted strings on their line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runner.impact.formats import expectations_word, format_json, format_text
from runner.impact.specdiff import spec_diff
from runner.model.assessment import ExpectSeverity, Verdict
from runner.model.impact import MISSING, Change, EnvDiff, ImpactReport, PathChange, SideResult, SpecDiff
from tests.unit.impact.builders import delta, outcome, query_change, report, side, spec

SCHEMA = json.loads((Path(__file__).parents[3] / "schemas" / "diff.schema.json").read_text())
HOSTILE = "\x1b[31m@team\n::error::</details><script>`|\u202e"


def sample_report() -> ImpactReport:
    modified = spec_diff(query_change("mod", Change.MODIFIED, base={"prod": spec(), "dev": spec()},
                                      head={"prod": spec("AwsIamUser", page_size=5), "dev": spec()}), ["prod", "dev"])
    new = spec_diff(query_change("new", Change.NEW, head={"dev": spec()}), ["prod", "dev"])
    removed = spec_diff(query_change(HOSTILE, Change.REMOVED, base={"prod": spec(), "dev": spec()}), ["prod", "dev"])
    nulls = SpecDiff(name="nulls", change=Change.MODIFIED, file="q.yaml", base_file="old/q.yaml",
                     envs=(EnvDiff(envs=("prod",), changes=(PathChange(path="$.a", old=None, new=MISSING),
                                                             PathChange(path="$.b", old=MISSING, new=None))),))
    deltas = [delta("mod", before=side(10, Verdict.PASSED), after=side(12, Verdict.FAILED), added=3, removed=1,
                    changed=2, sample=2),
              delta("new", before=None, after=side(None, status="failed", error=HOSTILE)),
              delta(HOSTILE, before=side(4, Verdict.SKIPPED), after=None, removed=4, sample=4)]
    return report([modified, new, nulls, removed], deltas=deltas, notes=[HOSTILE])


@pytest.mark.parametrize("built", [sample_report(), report([]), report([sample_report().diffs[0]])],
                         ids=["with-run", "empty", "without-run"])
def test_the_json_document_validates_against_its_schema(built: ImpactReport) -> None:
    document = json.loads(format_json(built))
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(document)
    assert document["counts"] == built.counts()
    assert [q["name"] for q in document["queries"]] == [d.name for d in built.diffs]


def test_the_schema_refuses_what_the_format_must_not_write() -> None:
    document: dict[str, Any] = json.loads(format_json(sample_report()))
    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    document["queries"][0]["envs"][0]["changes"][0]["extra"] = 1
    assert not validator.is_valid(document)
    assert not validator.is_valid({**document, "version": 2})


def test_missing_is_an_absent_key_and_null_a_present_one() -> None:
    document = json.loads(format_json(sample_report()))
    by_name = {q["name"]: q for q in document["queries"]}
    assert by_name["nulls"]["envs"][0]["changes"] == [{"path": "$.a", "old": None}, {"path": "$.b", "new": None}]
    assert by_name["nulls"]["base_file"] == "old/q.yaml" and by_name["new"]["base_file"] is None
    for query, diff in zip(document["queries"], sample_report().diffs, strict=True):
        changes = [c for group in diff.envs for c in group.changes]
        shown = [c for group in query["envs"] for c in group["changes"]]
        assert [("old" in s, "new" in s) for s in shown] == [(c.old is not MISSING, c.new is not MISSING)
                                                             for c in changes]


def test_the_delta_carries_both_sides() -> None:
    built = sample_report()
    document = json.loads(format_json(built))
    mod = next(q for q in document["queries"] if q["name"] == "mod")["delta"]
    expected = built.deltas["mod"]
    assert (mod["rows_before"], mod["rows_after"], mod["added"], mod["removed"], mod["changed"]) == (10, 12, 3, 1, 2)
    assert mod["expectations_after"] == [o.to_json() for o in expected.after.expectations]  # type: ignore[union-attr]
    assert mod["changed_sample"] == [e.to_json() for e in expected.changed_sample]
    new = next(q for q in document["queries"] if q["name"] == "new")["delta"]
    assert (new["rows_before"], new["status_before"], new["status_after"], new["error_after"]) == (
        None, None, "failed", HOSTILE)
    assert next(q for q in document["queries"] if q["name"] == "nulls")["delta"] is None


def test_the_json_text_is_safe_for_a_terminal() -> None:
    text = format_json(sample_report())
    assert "\u202e" not in text and "\x1b" not in text
    assert json.loads(text)["notes"] == [HOSTILE]


def test_text_keeps_every_untrusted_string_on_its_line() -> None:
    built = sample_report()
    text = format_text(built)
    assert "\x1b" not in text and "\u202e" not in text
    assert not [line for line in text.splitlines() if line.startswith("::")]
    changes = sum(len(group.changes) for diff in built.diffs for group in diff.envs)
    groups = sum(len(diff.envs) for diff in built.diffs)
    samples = sum(len(d.added_sample) + len(d.removed_sample) + len(d.changed_sample) for d in built.deltas.values())
    errors = sum(1 for d in built.deltas.values() for s in (d.before, d.after) if s is not None and s.error)
    expected = (2 + len(built.diffs) * 2 + groups + changes + len(built.deltas) + samples + errors
                + 1 + len(built.notes))  # headline, blank + name per query, a blank and the notes
    assert len(text.splitlines()) == expected
    assert "mod: " in text and "rows 10 → 12 (+3 −1, 2 changed), expectations passed → failed" in text


def test_expectations_in_one_word() -> None:
    assert expectations_word(None) == expectations_word(side(3)) == "–"
    assert expectations_word(side(3, Verdict.PASSED, Verdict.FAILED)) == "failed"
    warned = SideResult(status="succeeded", source="ran", rows=3,
                        expectations=(outcome(Verdict.FAILED, severity=ExpectSeverity.WARN),))
    assert expectations_word(warned) == "warned"
    assert expectations_word(side(3, Verdict.SKIPPED, Verdict.PASSED)) == "passed"
    assert expectations_word(side(3, Verdict.SKIPPED)) == "skipped"
