"""The publish plan as text, Markdown and JSON: every change shown with its reason and diff, hostile names and
values escaped for where they go, and the JSON plan file read back to the same plan."""

from __future__ import annotations

import json

import pytest

from runner.model.impact import MISSING
from runner.publish import Action, Change, PublishPlan
from runner.publish.render import SHOWN_VALUE, plan_document, read_plan, render

HOSTILE = "evil\n::error::pwned <img src=x> @team #1 \x1b[31m"


def plan(*changes: Change, prune: bool = False) -> PublishPlan:
    return PublishPlan(project="acme", env="prod", prune=prune, tenant="t" * 64, changes=changes)


EVERY_KIND = plan(
    Change(action=Action.CREATE, name="new", body={"name": "new", "labels": ["vqr:acme/new"]}),
    Change(action=Action.UPDATE, name="changed", saved_id="1", body={"name": "changed"},
           diff=(("$.description", "old", "new"), ("$.risk_level", MISSING, "HIGH"))),
    Change(action=Action.DRIFT, name="edited", saved_id="2", body={"name": "edited"},
           diff=(("$.labels", ["a"], ["a", "b"]),)),
    Change(action=Action.ORPHAN, name="gone", saved_id="3"),
    Change(action=Action.CLASH, name="theirs", saved_id="4"),
    Change(action=Action.NOOP, name="same", saved_id="5"),
)


def test_text_lists_each_change_with_its_reason_and_diff_and_hides_unchanged_ones() -> None:
    text = render(EVERY_KIND, "text", target="https://veza.example")
    assert text.splitlines() == [
        "vqr publish plan: project acme, environment prod, https://veza.example",
        "  + create new: new in the repository",
        "  ~ update changed (id 1): changed in the repository",
        '      $.description: "old" -> "new"',
        '      $.risk_level: (absent) -> "HIGH"',
        "  ~ drift  edited (id 2): edited in Veza since vqr applied it: apply puts the repository's version back",
        '      $.labels: ["a"] -> ["a","b"]',
        "  ? orphan gone (id 3): its query file is gone: left alone (deleted only with --prune)",
        "  ! clash  theirs (id 4): an unmanaged saved query has this name: left alone (rename one of them)",
        "Plan: 1 to create, 1 to update, 1 drifted to put back, 0 to delete; 1 clash, 1 orphan, 1 unchanged."]


def test_nothing_pending_says_so_and_names_what_is_left_alone() -> None:
    assert render(plan(Change(action=Action.NOOP, name="a", saved_id="1")), "text", target="t").endswith(
        "No changes: the tenant matches the repository.\n")
    left = render(plan(Change(action=Action.ORPHAN, name="a", saved_id="1")), "md", target="t")
    assert "Nothing to apply: 0 to create, 0 to update, 0 drifted to put back, 0 to delete; 1 orphan" in left


def test_hostile_names_and_values_cannot_break_a_log_line_or_a_pr_comment() -> None:
    hostile = plan(Change(action=Action.UPDATE, name=HOSTILE, saved_id="1", body={},
                          diff=(("$.description", HOSTILE, "x" * 1000),)))
    text = render(hostile, "text", target="t")
    assert not any(line.startswith("::") for line in text.splitlines()) and "\x1b" not in text
    assert len(text.splitlines()) == 4  # the newline in the name did not make a line of its own
    assert "x" * SHOWN_VALUE not in text and "…" in text
    md = render(hostile, "md", target="t")
    assert "<img" not in md and "&lt;img" in md and "@team" not in md and "\x1b" not in md
    assert all(line.startswith(("|", "#", "Target", "<details>", "</details>")) or not line
               for line in md.splitlines())


@pytest.mark.parametrize("changes", [EVERY_KIND.changes, ()])
def test_the_json_plan_is_read_back_to_the_same_plan(changes: tuple[Change, ...]) -> None:
    original = plan(*changes, prune=True)
    document = json.loads(render(original, "json", target="https://veza.example"))
    assert document == json.loads(json.dumps(plan_document(original, target="https://veza.example")))
    assert document["summary"]["create"] == sum(c.action is Action.CREATE for c in changes)
    assert read_plan(document) == (original, "https://veza.example")


@pytest.mark.parametrize(("document", "said"), [
    ([], "not a vqr publish plan file of version 1"),
    ({"version": 2}, "not a vqr publish plan file of version 1"),
    ({"version": 1, "project": "a"}, "a damaged vqr publish plan file (KeyError"),
    ({"version": 1, "project": "a", "env": "e", "prune": False, "tenant": "t", "target": "u",
      "changes": [{"action": "explode", "name": "x"}]}, "a damaged vqr publish plan file (ValueError"),
])
def test_a_damaged_plan_file_is_one_clear_error(document: object, said: str) -> None:
    with pytest.raises(ValueError, match="^" + said.replace("(", r"\(")):
        read_plan(document)  # type: ignore[arg-type]
