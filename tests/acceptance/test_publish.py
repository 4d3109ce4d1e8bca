"""`vqr publish plan|apply` (issue 16) as users run it: the real CLI in a subprocess against the real sandbox over
HTTP, its saved queries read back through the API. From empty, a second plan with nothing to do, a file edit (an
update with its diff), a UI edit (drift, put back), a removed file (deleted only with --prune), an unmanaged query of
the same name (left alone and reported), approval, plan files, and a SIGKILL in the middle of an apply."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.app.common import Common
from runner.app.publish_command import publish_apply
from runner.app.run_command import JOURNAL, target_name
from runner.sandbox.server import EmbeddedSandbox
from runner.settings import read_env
from runner.state import open_journal
from tests.acceptance.run_project import REPO, make_project, query_yaml, remote
from tests.acceptance.sandbox_fixtures import running_sandbox
from tests.support import forked_cli

QUERIES = "/api/v1/assessments/queries"
KEY = "test-key"
PUBLISH = "publish:\n  project: acme\n"


def project(root: Path, names: tuple[str, ...] = ("okta-users", "aws-roles", "s3-buckets")) -> Path:
    files = {name: query_yaml(name, node) + "publish: true\ndescription: about " + name + "\n"
             for name, node in zip(names, ("OktaUser", "AwsIamRole", "S3Bucket", "OktaGroup") * 10, strict=False)}
    files["private"] = query_yaml("private", "SnowflakeUser")  # not published: no `publish: true`
    project_file = make_project(root, files)
    project_file.write_text(project_file.read_text() + PUBLISH)
    return project_file


def vqr(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return forked_cli.run(args, cwd=root, text=True,
                          env=_env(url), timeout=120)


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    env.update(remote(url, KEY), PYTHONPATH=str(REPO))
    return env


def plan(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = vqr(root, url, "publish", "plan", "--env", "remote", *args)
    assert done.returncode == 0, done.stderr
    return done


def apply(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = vqr(root, url, "publish", "apply", "--env", "remote", "--auto-approve", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def saved(url: str) -> dict[str, dict[str, Any]]:
    """Every saved query in the tenant by name (each name must be there once)."""
    answer = httpx.get(f"{url}{QUERIES}", params={"page_size": 100}, headers={"authorization": f"Bearer {KEY}"})
    answer.raise_for_status()
    values = answer.json()["values"]
    names = [v["name"] for v in values]
    assert len(names) == len(set(names)), names
    return {v["name"]: v for v in values}


def put(url: str, saved_query: dict[str, Any]) -> None:
    answer = httpx.put(f"{url}{QUERIES}/{saved_query['id']}", json=saved_query,
                       headers={"authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def tenant() -> Iterator[EmbeddedSandbox]:
    with running_sandbox(nodes=300) as sandbox:
        yield sandbox


def test_plan_and_apply_from_empty_then_a_second_plan_and_apply_change_nothing(tenant: EmbeddedSandbox,
                                                                                tmp_path: Path) -> None:
    project(tmp_path)
    first = plan(tmp_path, tenant.url)
    assert [line.split()[:3] for line in first.stdout.splitlines() if line.startswith("  +")] == [
        ["+", "create", "aws-roles:"], ["+", "create", "okta-users:"], ["+", "create", "s3-buckets:"]]
    assert "Plan: 3 to create, 0 to update, 0 drifted to put back, 0 to delete; 0 unchanged." in first.stdout
    assert saved(tenant.url) == {}  # planning sends nothing
    applied = apply(tmp_path, tenant.url)
    assert "Applied: 3 created." in applied.stdout
    tenant_queries = saved(tenant.url)
    assert sorted(tenant_queries) == ["aws-roles", "okta-users", "s3-buckets"]  # "private" is not published
    okta = tenant_queries["okta-users"]
    assert okta["description"] == "about okta-users" and okta["source_node_types"] == {
        "nodes": [{"node_type": "OktaUser"}]}
    assert "test" in okta["labels"] and "vqr:acme/okta-users" in okta["labels"]
    assert any(label.startswith("vqr-sha:") for label in okta["labels"])
    again = plan(tmp_path, tenant.url)
    assert "No changes: the tenant matches the repository." in again.stdout and "create" not in again.stdout
    second = apply(tmp_path, tenant.url)
    assert "No changes" in second.stdout and "Applied" not in second.stdout
    assert saved(tenant.url) == tenant_queries  # not even updated_at moved


def test_a_file_edit_is_one_update_with_its_diff_in_every_format(tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    project(tmp_path)
    apply(tmp_path, tenant.url)
    edited = tmp_path / "queries" / "aws-roles.yaml"
    edited.write_text(edited.read_text().replace("about aws-roles", "roles that can assume <admin>"))
    text = plan(tmp_path, tenant.url).stdout
    assert "  ~ update aws-roles (id " in text and "changed in the repository" in text
    assert '      $.description: "about aws-roles" -> "roles that can assume <admin>"' in text
    assert "1 to update" in text and "2 unchanged" in text
    md = plan(tmp_path, tenant.url, "--format", "md").stdout
    assert "| ~ | update | aws-roles (id " in md and "&lt;admin&gt;" in md and "<admin>" not in md
    document = json.loads(plan(tmp_path, tenant.url, "--format", "json").stdout)
    [update] = [c for c in document["changes"] if c["action"] == "update"]
    assert update["name"] == "aws-roles" and update["diff"] == [
        {"path": "$.description", "old": "about aws-roles", "new": "roles that can assume <admin>"}]
    assert "Applied: 1 updated." in apply(tmp_path, tenant.url).stdout
    assert saved(tenant.url)["aws-roles"]["description"] == "roles that can assume <admin>"
    assert "No changes" in plan(tmp_path, tenant.url).stdout


def test_an_edit_in_veza_is_drift_with_its_diff_and_apply_puts_the_repository_version_back(
        tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    project(tmp_path)
    apply(tmp_path, tenant.url)
    before = saved(tenant.url)["okta-users"]
    put(tenant.url, {**before, "description": "edited in the UI", "result_value_type": "DESTINATION_NODES"})
    text = plan(tmp_path, tenant.url).stdout
    assert "  ~ drift  okta-users" in text and "edited in Veza since vqr applied it" in text
    assert '      $.description: "edited in the UI" -> "about okta-users"' in text
    assert '      $.result_value_type: "DESTINATION_NODES" -> "SOURCE_NODES"' in text
    assert "1 drifted to put back" in text
    assert "Applied: 1 put back." in apply(tmp_path, tenant.url).stdout
    after = saved(tenant.url)["okta-users"]
    assert after["description"] == "about okta-users" and after["result_value_type"] == "SOURCE_NODES"
    assert after["id"] == before["id"]  # updated in place, never recreated
    assert "No changes" in plan(tmp_path, tenant.url).stdout


def test_a_removed_file_is_deleted_only_with_prune(tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    project(tmp_path)
    apply(tmp_path, tenant.url)
    (tmp_path / "queries" / "s3-buckets.yaml").unlink()
    kept = plan(tmp_path, tenant.url)
    assert "  ? orphan s3-buckets" in kept.stdout and "deleted only with --prune" in kept.stdout
    assert "Nothing to apply" in kept.stdout and "1 orphan" in kept.stdout
    apply(tmp_path, tenant.url)
    assert "s3-buckets" in saved(tenant.url)
    pruned = plan(tmp_path, tenant.url, "--prune")
    assert "  - delete s3-buckets" in pruned.stdout and "1 to delete" in pruned.stdout
    assert "Applied: 1 deleted." in apply(tmp_path, tenant.url, "--prune").stdout
    assert sorted(saved(tenant.url)) == ["aws-roles", "okta-users"]


def test_an_unmanaged_query_of_the_same_name_is_left_alone_and_reported(tenant: EmbeddedSandbox,
                                                                          tmp_path: Path) -> None:
    project(tmp_path)
    theirs = {"name": "okta-users", "description": "made by hand", "labels": ["team:iam"],
              "query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{"node_type": "OktaGroup"}]}}
    created = httpx.post(f"{tenant.url}{QUERIES}", json=theirs, headers={"authorization": f"Bearer {KEY}"})
    assert created.status_code == 200, created.text
    text = plan(tmp_path, tenant.url).stdout
    assert "  ! clash  okta-users (id " in text and "an unmanaged saved query has this name: left alone" in text
    assert "2 to create" in text and "1 clash" in text
    assert "Applied: 2 created." in apply(tmp_path, tenant.url).stdout
    after = saved(tenant.url)
    assert sorted(after) == ["aws-roles", "okta-users", "s3-buckets"]
    assert after["okta-users"] == created.json()["value"]  # not touched


def test_apply_without_a_terminal_needs_auto_approve(tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    project(tmp_path)
    refused = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote")
    assert refused.returncode == 2
    assert "refusing to apply 3 change(s) without --auto-approve: stdin is not a terminal" in refused.stderr
    assert "Traceback" not in refused.stderr and saved(tenant.url) == {}


def test_a_plan_file_is_applied_as_planned_and_refused_once_the_tenant_changed(tenant: EmbeddedSandbox,
                                                                              tmp_path: Path) -> None:
    project(tmp_path)
    plan(tmp_path, tenant.url, "--out", "plan.json")
    # The repository moves on after the review: the reviewed plan is what is applied, not the new file.
    (tmp_path / "queries" / "s3-buckets.yaml").unlink()
    assert "Applied: 3 created." in apply(tmp_path, tenant.url, "--plan", "plan.json").stdout
    assert sorted(saved(tenant.url)) == ["aws-roles", "okta-users", "s3-buckets"]
    plan(tmp_path, tenant.url, "--prune", "--out", "prune.json")
    put(tenant.url, {**saved(tenant.url)["aws-roles"], "description": "a UI edit after the plan"})
    stale = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote", "--auto-approve", "--plan", "prune.json")
    assert stale.returncode == 2 and "changed since this plan was made: run `vqr publish plan` again" in stale.stderr
    assert "s3-buckets" in saved(tenant.url)
    (tmp_path / "bad.json").write_text("{")
    bad = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote", "--auto-approve", "--plan", "bad.json")
    assert bad.returncode == 2 and "bad.json: not a plan file" in bad.stderr and "Traceback" not in bad.stderr


def test_a_changed_plan_file_cannot_touch_what_vqr_does_not_manage(tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    """A plan file is a CI artifact: a step between plan and apply could edit it. Apply re-checks every change
    against the tenant: only this project's marked queries are updated or deleted, and deletes need --prune."""
    project(tmp_path)
    apply(tmp_path, tenant.url)
    theirs = httpx.post(f"{tenant.url}{QUERIES}", headers={"authorization": f"Bearer {KEY}"},
                        json={"name": "theirs", "labels": ["team:iam"], "query_type": "SOURCE_TO_DESTINATION",
                              "source_node_types": {"nodes": [{"node_type": "OktaGroup"}]}}).json()["value"]
    (tmp_path / "queries" / "s3-buckets.yaml").unlink()
    plan(tmp_path, tenant.url, "--prune", "--out", "plan.json")
    document = json.loads((tmp_path / "plan.json").read_text())
    mine = saved(tenant.url)["okta-users"]
    tampered = [
        {"action": "delete", "name": "okta-users", "id": theirs["id"], "body": None, "diff": []},
        {"action": "update", "name": "theirs", "id": theirs["id"], "body": {**theirs, "description": "x"},
         "diff": []},
        {"action": "update", "name": "okta-users", "id": mine["id"],
         "body": {**mine, "labels": ["vqr:acme/okta-users", "vqr:acme/aws-roles"]}, "diff": []},
        {"action": "create", "name": "theirs", "id": None, "body": {**theirs, "labels": ["vqr:acme/theirs"]},
         "diff": []},
    ]
    for change in tampered:
        (tmp_path / "bad.json").write_text(json.dumps({**document, "changes": [*document["changes"], change]}))
        done = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote", "--auto-approve", "--prune",
                   "--plan", "bad.json")
        assert done.returncode == 2 and "the plan file asks for what vqr would not plan: " in done.stderr, (
            change, done.stdout + done.stderr)
        assert "Traceback" not in done.stderr and "Applied" not in done.stdout
    assert saved(tenant.url)["theirs"] == theirs and "s3-buckets" in saved(tenant.url)
    refused = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote", "--auto-approve", "--plan",
                  "plan.json")
    assert refused.returncode == 2 and "the plan deletes, and apply was not given --prune" in refused.stderr
    assert "Applied: 1 deleted." in apply(tmp_path, tenant.url, "--prune", "--plan", "plan.json").stdout
    assert sorted(saved(tenant.url)) == ["aws-roles", "okta-users", "theirs"]


def _interrupted(root: Path, url: str, apply_id: str) -> None:
    """What an apply killed after sending a create leaves in the journal."""
    with open_journal(root / JOURNAL) as journal:
        journal.publish.start(apply_id, env="remote", target=target_name(url), project="acme", plan_digest="x")
        journal.publish.sending(apply_id, 0, action="create", name="okta-users", saved_id=None)


def test_an_interrupted_apply_is_reported_until_an_apply_finishes_it(tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    project(tmp_path)
    _interrupted(tmp_path, tenant.url, "killed-1")
    # Cancelled at the prompt: nothing changed, so the interrupted apply is still the one to resume.
    out, err = io.StringIO(), io.StringIO()
    common = Common(project_file=tmp_path / "vqr.yaml", env="remote", out=out, err=err,
                    process=read_env(_env(tenant.url)))
    code = publish_apply(common, prune=False, auto_approve=False, plan_file=None, confirm=lambda question: False)
    assert code == 1 and "apply cancelled: nothing was changed" in err.getvalue() and saved(tenant.url) == {}
    assert "was interrupted with 1 call(s) sent, 0 of them answered" in err.getvalue()
    first = apply(tmp_path, tenant.url)
    assert "was interrupted with 1 call(s) sent" in first.stderr and "Applied: 3 created." in first.stdout
    assert "interrupted" not in apply(tmp_path, tenant.url).stderr
    # Killed once more, after its last call landed: the next apply has nothing to do, and says so once.
    _interrupted(tmp_path, tenant.url, "killed-2")
    quiet = apply(tmp_path, tenant.url)
    assert "No changes" in quiet.stdout and "was interrupted" in quiet.stderr
    assert "interrupted" not in apply(tmp_path, tenant.url).stderr


@pytest.mark.parametrize(("content", "why"), [
    ('{"version": 1, "x": NaN}', "NaN"),
    ('{"version": 1, "name": "\\ud800"}', "surrogate"),
    ("[" * 100_000, "nests deeper"),
])
def test_a_plan_file_that_cannot_be_sent_again_is_refused_before_anything(tenant: EmbeddedSandbox, tmp_path: Path,
                                                                         content: str, why: str) -> None:
    project(tmp_path)
    (tmp_path / "bad.json").write_text(content)
    done = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote", "--auto-approve", "--plan", "bad.json")
    assert done.returncode == 2 and "bad.json: not a plan file" in done.stderr and why in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / JOURNAL).exists()


def test_a_tag_that_looks_like_a_marker_is_a_lint_error(tenant: EmbeddedSandbox, tmp_path: Path) -> None:
    project(tmp_path)
    edited = tmp_path / "queries" / "aws-roles.yaml"
    edited.write_text(edited.read_text().replace("tags: [test]", "tags: [test, \"vqr:acme/okta-users\"]"))
    done = vqr(tmp_path, tenant.url, "publish", "plan", "--env", "remote")
    assert done.returncode == 2 and "aws-roles.yaml:" in done.stderr, done.stdout + done.stderr
    assert "A tag may not begin with `vqr:` or `vqr-sha:`" in done.stderr and saved(tenant.url) == {}


def _killed_apply(root: Path, url: str, planned: tuple[str, ...], *, landed_at_least: int) -> dict[str, Any]:
    """An apply SIGKILLed in the middle of a create, once that many saved queries are in the tenant; what the
    tenant holds once the create in flight has landed."""
    process = subprocess.Popen([sys.executable, "-m", "runner", "publish", "apply", "--env", "remote",
                                "--auto-approve", *planned], cwd=root, env=_env(url), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(saved(url)) < landed_at_least and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    # Mid-call: the next create is sleeping in the sandbox, so it lands after its client is gone.
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    time.sleep(0.5)  # the create in flight lands
    return saved(url)


@pytest.mark.parametrize("from_file", [False, True], ids=["planned-afresh", "plan-file"])
def test_a_sigkill_during_apply_then_a_rerun_creates_no_duplicate(tmp_path: Path, from_file: bool) -> None:
    """Also when it applies a plan file, killed twice: the tenant moved since the plan, by this plan's own applies,
    and a rerun of the same file finishes it."""
    names = tuple(f"query-{i:02d}" for i in range(12))
    project(tmp_path, names)
    planned = ("--plan", "plan.json") if from_file else ()
    with running_sandbox(nodes=300, saved_latency=0.25) as tenant:
        if from_file:
            plan(tmp_path, tenant.url, "--out", "plan.json")
        landed = _killed_apply(tmp_path, tenant.url, planned, landed_at_least=3)
        assert 3 <= len(landed) < len(names)
        if from_file:
            landed = _killed_apply(tmp_path, tenant.url, planned, landed_at_least=len(landed) + 2)
            assert len(landed) < len(names)
        rerun = apply(tmp_path, tenant.url, *planned)
        interrupted = re.search(r"was interrupted with (\d+) call\(s\) sent, (\d+) of them answered", rerun.stderr)
        assert interrupted is not None and "nothing is sent twice" in rerun.stderr, rerun.stderr
        # The call in flight at the kill (nearly always one: the kill comes in its 0.25 s) was never answered, yet
        # it landed: every call sent is a query in the tenant, and the rerun found each by its marker.
        sent, answered = int(interrupted[1]), int(interrupted[2])
        assert sent - answered in (0, 1)
        if not from_file:
            assert sent == len(landed)
        after = saved(tenant.url)  # asserts each name once
        assert sorted(after) == sorted(names)
        assert all(after[name]["id"] == landed[name]["id"] for name in landed)
        assert f"Applied: {len(names) - len(landed)} created." in rerun.stdout
        assert "No changes" in apply(tmp_path, tenant.url).stdout


def test_a_call_the_tenant_refuses_is_reported_and_the_others_still_go_out(tenant: EmbeddedSandbox,
                                                                            tmp_path: Path) -> None:
    project(tmp_path)
    # Lint only warns about SYSTEM_CREATED (spec/system-created); the tenant refuses to save one.
    (tmp_path / "queries" / "builtin-like.yaml").write_text(
        query_yaml("builtin-like").replace("SOURCE_TO_DESTINATION", "SYSTEM_CREATED") + "publish: true\n")
    done = vqr(tmp_path, tenant.url, "publish", "apply", "--env", "remote", "--auto-approve")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "vqr publish: create builtin-like failed:" in done.stderr and "query_type" in done.stderr
    assert "Applied: 3 created; 1 call(s) failed (see above)." in done.stdout
    assert sorted(saved(tenant.url)) == ["aws-roles", "okta-users", "s3-buckets"]
    assert "Traceback" not in done.stderr


def test_publishing_needs_a_project_id_in_vqr_yaml(tmp_path: Path) -> None:
    make_project(tmp_path, {"a": query_yaml("a") + "publish: true\n"})
    done = vqr(tmp_path, "http://127.0.0.1:9", "publish", "plan", "--env", "remote")
    assert done.returncode == 2 and "vqr.yaml has no `publish: project:`" in done.stderr
