"""Notifications end to end: the real `vqr run` (a subprocess on the embedded sandbox) posts to receivers started
here on 127.0.0.1; a receiver that answers 500 then 200 gets one message; a dead one changes nothing of the run; the
webhook URL (a canary) appears in no output and no file; `vqr notify RUN_DIR [--dry-run]` row by row."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema

from tests.acceptance.run_project import make_project, query_yaml
from tests.support import forked_cli
from tests.support.receiver import dead_url, receiver
from tests.support.report_fixture import FIXTURE
from tests.unit.notify.shapes import check_slack, check_teams, check_webhook

REPO = Path(__file__).resolve().parents[2]
CANARY = "s3cr3t-canary-5c1e7a"
SANDBOX = {"VQR_SANDBOX_LATENCY": "0.02", "VQR_SANDBOX_NODES": "400"}
NOTIFY = """\
notify:
  deadline: 4s
  targets:
    hook: {type: webhook, url_env: HOOK_URL, when: always}
    chat: {type: slack, url_env: SLACK_URL, when: failure, per_owner: true}
    channel: {type: teams, url_file: .secrets/teams-url, when: [failure, new_rows]}
"""


def vqr(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **SANDBOX, **(env or {})}
    merged.pop("GITHUB_STEP_SUMMARY", None)
    merged["PYTHONPATH"] = str(REPO)  # this checkout's runner, wherever the test runs from
    return forked_cli.run(args, cwd=cwd, text=True,
                          env=merged, timeout=120)


def project(root: Path, *, notify: str = NOTIFY, teams_url: str = "", deadline: str = "4s") -> Path:
    make_project(root, {"okta-users": query_yaml("okta-users", expect="- {rows: {max: 0}}") + "owner: identity\n",
                        "roles": query_yaml("roles", "AwsIamRole")})
    with (root / "vqr.yaml").open("a") as handle:
        handle.write(notify.replace("deadline: 4s", f"deadline: {deadline}"))
    (root / ".secrets").mkdir()
    (root / ".secrets" / "teams-url").write_text(teams_url + "\n")
    return root


def files_without_secrets(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".secrets" not in p.parts)


def latest(root: Path) -> Path:
    return (root / "reports" / "latest").resolve()


def test_vqr_run_delivers_each_target_once_even_after_a_500(tmp_path: Path) -> None:
    with receiver([500]) as hook:
        root = project(tmp_path / "repo", teams_url=f"{hook.url}/{CANARY}/teams")
        done = vqr("run", "--quiet", cwd=root, env={"HOOK_URL": f"{hook.url}/{CANARY}/hook",
                                                   "SLACK_URL": f"{hook.url}/{CANARY}/slack"})
    assert done.returncode == 1, done.stderr  # okta-users' `rows: {max: 0}` fails, as without notifications
    assert "warning" not in done.stderr, done.stderr
    by_target: dict[str, list[Any]] = {}
    for request in hook.delivered:
        by_target.setdefault(request.path.rsplit("/", 1)[-1], []).append(request.json())
    assert [r.status for r in hook.requests if r.path.endswith("/hook")] == [500, 200]  # retried once, one message
    assert sorted((name, len(messages)) for name, messages in by_target.items()) == [
        ("hook", 1), ("slack", 1), ("teams", 1)]  # slack per owner: only identity's query failed
    check_webhook(by_target["hook"][0])
    check_slack(by_target["slack"][0])
    check_teams(by_target["teams"][0])
    payload = by_target["hook"][0]
    assert payload["run"]["run_id"] == latest(root).name and payload["summary"]["failed"] == 1
    assert [q["name"] for q in payload["queries"]] == ["okta-users"]
    assert "identity" in by_target["slack"][0]["blocks"][0]["text"]["text"]
    outcomes = json.loads((latest(root) / "notifications.json").read_text())["notifications"]
    assert [(o["target"], o["owner"], o["outcome"]) for o in outcomes] == [
        ("hook", None, "sent"), ("chat", "identity", "sent"), ("chat", None, "skipped"), ("channel", None, "sent")]
    assert outcomes[0]["attempts"] == 2
    written = files_without_secrets(root)
    assert CANARY.encode() not in written and CANARY not in done.stdout + done.stderr
    assert hook.url.split("//")[1].encode() not in written


def test_a_dead_receiver_leaves_the_run_unchanged(tmp_path: Path) -> None:
    quiet = project(tmp_path / "quiet", notify="")
    baseline = vqr("run", "--quiet", cwd=quiet)
    url = dead_url(f"/hooks/{CANARY}")
    noisy = project(tmp_path / "noisy", teams_url=url, deadline="1s")
    done = vqr("run", "--quiet", cwd=noisy, env={"HOOK_URL": url, "SLACK_URL": url})
    assert done.returncode == baseline.returncode == 1, done.stderr
    before = json.loads((latest(quiet) / "run.json").read_text())
    after = json.loads((latest(noisy) / "run.json").read_text())
    jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "run.schema.json").read_text())).validate(after)
    assert after["summary"] == before["summary"] and after["exit_code"] == before["exit_code"]
    assert [(q["name"], q["status"], q["rows"], q["sha256"]) for q in after["queries"]] == [
        (q["name"], q["status"], q["rows"], q["sha256"]) for q in before["queries"]]
    for name in ("report.html", "report.md", "junit.xml", "results/okta-users.jsonl", "results/roles.csv"):
        assert (latest(noisy) / name).stat().st_size > 0, name
    warnings = [line for line in done.stderr.splitlines() if "warning: notification" in line]
    assert len(warnings) == 3 and all("failed" in line for line in warnings), done.stderr  # hook, chat, channel
    outcomes = json.loads((latest(noisy) / "notifications.json").read_text())["notifications"]
    assert [o["outcome"] for o in outcomes] == ["failed", "failed", "skipped", "failed"]
    assert CANARY not in done.stdout + done.stderr and CANARY.encode() not in files_without_secrets(noisy)


def notify_project(root: Path) -> Path:
    """A project with the notify section and the golden run directory (no run needed: `vqr notify` reads run.json)."""
    project(root, deadline="1s")
    shutil.copytree(FIXTURE, root / "reports" / "golden")
    return root / "reports" / "golden"


def test_vqr_notify_dry_run_prints_the_messages_with_the_url_redacted(tmp_path: Path) -> None:
    run_dir = notify_project(tmp_path / "repo")
    url = f"https://hooks.example.com/{CANARY}"
    done = vqr("notify", str(run_dir), "--dry-run", cwd=tmp_path / "repo", env={"HOOK_URL": url, "SLACK_URL": url})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert CANARY not in out + done.stderr
    assert "--- hook (webhook) → *** (from $HOOK_URL); because: failure, new_rows" in out
    assert "--- chat (slack) for cloud-team → *** (from $SLACK_URL)" in out
    assert "--- chat (slack) for identity-team: skipped: nothing to report (when: failure)" in out
    assert "--- channel (teams) → no URL: the URL in file" in out  # the file is empty: said, not fatal to a dry run
    assert out.rstrip().endswith("4 message(s) would be sent (dry run: nothing was sent)")
    first = out.split("\n--- ")[0].split("\n", 1)[1]  # the webhook payload, printed as JSON
    check_webhook(json.loads(first))
    assert not (run_dir / "notifications.json").exists()  # a dry run writes nothing


def test_vqr_notify_exit_codes(tmp_path: Path) -> None:
    run_dir = notify_project(tmp_path / "repo")
    root = tmp_path / "repo"
    with receiver() as good:
        (root / ".secrets" / "teams-url").write_text(good.url)
        sent = vqr("notify", str(run_dir), cwd=root, env={"HOOK_URL": good.url, "SLACK_URL": good.url})
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert len(good.delivered) == 4  # hook, slack for cloud-team and the unowned queries, teams
    with receiver([503] * 100) as bad:
        (root / ".secrets" / "teams-url").write_text(bad.url)
        failed = vqr("notify", str(run_dir), cwd=root, env={"HOOK_URL": bad.url, "SLACK_URL": bad.url})
    assert failed.returncode == 1 and "hook (webhook): failed: HTTP 503" in failed.stdout
    assert json.loads((run_dir / "notifications.json").read_text())["notifications"][0]["outcome"] == "failed"
    assert vqr("notify", str(tmp_path), cwd=root).returncode == 2  # no run.json
    assert vqr("notify", cwd=root).returncode == 2  # no RUN_DIR
    plain = tmp_path / "plain"
    make_project(plain, {})
    none = vqr("notify", str(run_dir), cwd=plain)
    assert none.returncode == 2 and "no notify: targets" in none.stderr
