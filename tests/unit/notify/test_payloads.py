"""The three payloads: valid against their documented shapes for every scope, untrusted text escaped per format,
size limits held on a large run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.model.notify import NotifySettings, NotifyTarget, TargetKind, Trigger
from runner.notify import Message, build_payload, plan_messages, read_facts
from runner.notify.escape import card_text, slack_plain, slack_text
from runner.notify.payload import Scope
from tests.unit.notify.runs import HOSTILE, contract_run, golden_run
from tests.unit.notify.shapes import check_slack, check_teams, check_webhook

CHECKS = {TargetKind.WEBHOOK: check_webhook, TargetKind.SLACK: check_slack, TargetKind.TEAMS: check_teams}


def settings(kind: TargetKind, *, per_owner: bool = False, when: set[Trigger] | None = None) -> NotifySettings:
    return NotifySettings(targets=(NotifyTarget(name=f"t-{kind}", kind=kind, url_env="HOOK", per_owner=per_owner,
                                                when=frozenset(when or {Trigger.ALWAYS})),))


def messages(run_dir: Path, kind: TargetKind, *, per_owner: bool = False) -> list[Message]:
    planned = plan_messages(settings(kind, per_owner=per_owner), read_facts(run_dir, expiring_within_days=14))
    return [m for m in planned if isinstance(m, Message)]


@pytest.mark.parametrize("kind", list(TargetKind))
@pytest.mark.parametrize("per_owner", [False, True])
def test_every_payload_has_its_documented_shape(tmp_path: Path, kind: TargetKind, per_owner: bool) -> None:
    for run_dir in (golden_run(tmp_path), contract_run(tmp_path)):
        sent = messages(run_dir, kind, per_owner=per_owner)
        assert len(sent) == (3 if per_owner else 1)  # identity-team, cloud-team, the queries without an owner
        for message in sent:
            CHECKS[kind](message.payload)
            json.loads(json.dumps(message.payload))


def test_the_webhook_payload_says_what_happened(tmp_path: Path) -> None:
    payload = messages(contract_run(tmp_path), TargetKind.WEBHOOK)[0].payload
    assert payload["reasons"] == ["failure", "new_rows", "expiring_exceptions"]
    summary = payload["summary"]
    assert isinstance(summary, dict)
    assert (summary["failed"], summary["new_rows"], summary["new_entities"], summary["expiring_exceptions"],
            summary["expired_exceptions"]) == (2, 1, 2, 1, 1)
    queries = payload["queries"]
    assert isinstance(queries, list)
    names = [q["name"] for q in queries if isinstance(q, dict)]
    assert names[:2] == ["admin-roles " + HOSTILE.replace("\x1b", "\\x1b"), "stale-access-keys"]  # failures first
    assert "\x1b" not in json.dumps(payload)


def test_per_owner_messages_hold_only_that_owners_queries(tmp_path: Path) -> None:
    sent = messages(golden_run(tmp_path), TargetKind.WEBHOOK, per_owner=True)
    by_owner = {m.scope.owner: m.payload for m in sent}
    assert set(by_owner) == {"identity-team", "cloud-team", None}
    identity = by_owner["identity-team"]["queries"]
    assert isinstance(identity, list) and [q["name"] for q in identity if isinstance(q, dict)] == [
        "okta-users-with-s3-write"]
    assert by_owner["identity-team"]["audience"] == {"per_owner": True, "owner": "identity-team"}


def test_a_target_whose_triggers_do_not_hold_is_skipped(tmp_path: Path) -> None:
    run = read_facts(golden_run(tmp_path), expiring_within_days=14)
    planned = plan_messages(settings(TargetKind.SLACK, per_owner=True, when={Trigger.FAILURE}), run)
    sent = {m.scope.owner for m in planned if isinstance(m, Message)}
    assert sent == {"cloud-team", None}  # identity-team's query passed: it only has new rows
    skipped = [o for o in planned if not isinstance(o, Message)]
    assert [(o.owner, o.outcome) for o in skipped] == [("identity-team", "skipped")]


def test_slack_text_cannot_ping_or_format_links() -> None:
    text = slack_text(HOSTILE)
    assert "<" not in text and ">" not in text and "&lt;!channel&gt;" in text
    assert "@here" not in text and "@\u2060here" in text
    assert "&amp;" in text and "\x1b" not in text
    assert "@here" not in slack_plain("hi @here") and "@channel" not in slack_plain("@Channel x")


def test_card_text_keeps_markdown_and_mentions_literal() -> None:
    text = card_text(HOSTILE)
    assert r"\*\*bold\*\*" in text and r"\[x\]\(https://evil.example\)" in text
    assert "<at>" not in text and r"\<at\>" in text
    assert "@here" not in text and "\x1b" not in text
    assert card_text("1. item").startswith(r"1\.")


def test_slack_and_teams_messages_escape_the_runs_text(tmp_path: Path) -> None:
    run_dir = contract_run(tmp_path)
    slack = json.dumps(messages(run_dir, TargetKind.SLACK)[0].payload, ensure_ascii=False)
    assert "<!channel>" not in slack and "@here" not in slack and "<at>" not in slack
    teams = json.dumps(messages(run_dir, TargetKind.TEAMS)[0].payload, ensure_ascii=False)
    assert "<at>" not in teams and "**bold**" not in teams and "@here" not in teams


def test_a_large_run_stays_within_every_limit(tmp_path: Path) -> None:
    data = json.loads((golden_run(tmp_path) / "run.json").read_text())
    failing = data["queries"][2]
    data["run_id"] = "r" * 300  # the header would be too long
    data["queries"] = [{**failing, "name": f"q{i}-" + "x" * 400, "error": {
        "category": "transient", "message": "m" * 5000, "request_id": None}} for i in range(120)]
    big = tmp_path / "big"
    big.mkdir()
    (big / "run.json").write_text(json.dumps(data))
    for kind in TargetKind:
        payload = messages(big, kind)[0].payload
        CHECKS[kind](payload)
    slack = messages(big, TargetKind.SLACK)[0].payload
    assert "120" in json.dumps(slack) or "80 more" in json.dumps(slack)
    webhook = messages(big, TargetKind.WEBHOOK)[0].payload
    assert webhook["more_queries"] == 0 and isinstance(webhook["queries"], list) and len(webhook["queries"]) == 120


def test_build_payload_covers_every_kind(tmp_path: Path) -> None:
    run = read_facts(golden_run(tmp_path), expiring_within_days=14)
    scope = Scope(owner=None, per_owner=False, queries=run.queries, reasons=(Trigger.ALWAYS,))
    for kind in TargetKind:
        CHECKS[kind](build_payload(kind, run, scope))


@pytest.mark.parametrize(("kind", "spoil"), [
    (TargetKind.SLACK, lambda p: p["blocks"].extend([p["blocks"][1]] * 50)),  # 51+ blocks
    (TargetKind.SLACK, lambda p: p["blocks"][0]["text"].update(text="h" * 151)),
    (TargetKind.SLACK, lambda p: p["blocks"][1]["text"].update(type="markdown")),
    (TargetKind.TEAMS, lambda p: p["attachments"][0]["content"]["body"][0].update(style="heading")),  # 1.5 only
    (TargetKind.TEAMS, lambda p: p["attachments"][0]["content"]["body"].append({"type": "TextBlok", "text": "x"})),
    (TargetKind.WEBHOOK, lambda p: p.update(version=2)),
    (TargetKind.WEBHOOK, lambda p: p["summary"].pop("failed")),
])
def test_the_shape_checks_refuse_what_the_receivers_refuse(tmp_path: Path, kind: TargetKind, spoil: Any) -> None:
    payload = messages(golden_run(tmp_path), kind)[0].payload
    spoil(payload)
    with pytest.raises(AssertionError):
        CHECKS[kind](payload)
