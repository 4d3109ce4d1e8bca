"""The shell scripts of .github/workflows/pr-impact.yml, run by bash as the workflow would run them: the sticky
comment against a fake `gh` first on PATH (the transport seam: it records each call and answers the list call with
canned pages), the report step's exit-code and stale-file handling, and the final step's exit-code contract."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.report.test_workflow import load
from tests.unit.report.test_workflow_impact import IMPACT, comment_marker

REPO, PR = "acme/queries", "42"
BODY = comment_marker() + "\n## Query impact\n\n| query | change |\n| --- | --- |\n| `q1` | spec |\n"

FAKE_GH = """#!{python}
import json, os, sys
args = sys.argv[1:]
record = {{"args": args}}
for flag, value in zip(args, args[1:]):
    if flag == "-F" and value.startswith("body=@"):
        record["body"] = open(value[len("body=@"):], encoding="utf-8").read()
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
if os.environ.get("FAKE_GH_FAIL"):
    sys.exit("gh: HTTP 502 Bad Gateway")
if "--paginate" in args:
    sys.stdout.write(open(os.environ["FAKE_GH_PAGES"], encoding="utf-8").read())
else:
    sys.stdout.write("{{}}\\n")
"""


def step(job: str, key: str, value: str) -> dict[str, Any]:
    (found,) = [s for s in load(IMPACT)["jobs"][job]["steps"] if s.get(key) == value]
    return dict(found)


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def comment(comment_id: int, login: str, body: str) -> dict[str, Any]:
    return {"id": comment_id, "user": {"login": login, "type": "Bot" if "[bot]" in login else "User"}, "body": body}


def sticky(tmp_path: Path, pages: list[list[dict[str, Any]]], body: str = BODY,
           fail: bool = False) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """Run the comment step's script in `tmp_path` (holding the downloaded impact.md); return it and gh's calls."""
    assert shutil.which("jq", path="/usr/bin:/bin"), "jq is missing (GitHub's runners have it): apt-get install jq"
    script = step("comment", "name", "Create or update the impact comment")
    executable(tmp_path / "bin" / "gh", FAKE_GH.format(python=sys.executable))
    (tmp_path / "pages.json").write_text("".join(json.dumps(page) + "\n" for page in pages), encoding="utf-8")
    (tmp_path / "impact.md").write_text(body, encoding="utf-8")
    env = {name: value for name, value in script["env"].items() if "${{" not in value}
    env |= {"GH_TOKEN": "token", "REPO": REPO, "PR_NUMBER": PR, "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
            "FAKE_GH_LOG": str(tmp_path / "gh.log"), "FAKE_GH_PAGES": str(tmp_path / "pages.json")}
    if fail:
        env["FAKE_GH_FAIL"] = "1"
    done = subprocess.run(["bash", "-e", "-c", script["run"]], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=30, check=False)
    log = tmp_path / "gh.log"
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return done, calls


def writes(calls: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(method, endpoint) of every call that writes; the list call is a GET."""
    found = []
    for call in calls:
        args = call["args"]
        if "--method" in args:
            method = args[args.index("--method") + 1]
            found.append((method, next(a for a in args if a.startswith("repos/"))))
    return found


def test_no_comment_yet_creates_one_with_the_body_of_impact_md(tmp_path: Path) -> None:
    done, calls = sticky(tmp_path, [[comment(5, "alice", "LGTM")]])
    assert done.returncode == 0, done.stderr
    assert calls[0]["args"][:2] == ["api", "--paginate"] and calls[0]["args"][2] == f"repos/{REPO}/issues/{PR}/comments"
    assert writes(calls) == [("POST", f"repos/{REPO}/issues/{PR}/comments")]
    assert calls[-1]["body"] == BODY


def test_the_bots_oldest_marked_comment_is_patched_in_place_even_on_a_later_page(tmp_path: Path) -> None:
    pages = [[comment(5, "alice", "LGTM"), comment(6, "github-actions[bot]", "Some other workflow's note")],
             [comment(77, "github-actions[bot]", comment_marker() + "\nold impact"), comment(8, "bob", "ok"),
              comment(99, "github-actions[bot]", comment_marker() + "\na duplicate from a race")]]
    done, calls = sticky(tmp_path, pages)
    assert done.returncode == 0, done.stderr
    assert writes(calls) == [("PATCH", f"repos/{REPO}/issues/comments/77")]
    assert calls[-1]["body"] == BODY


def test_a_persons_comment_holding_the_marker_is_never_edited(tmp_path: Path) -> None:
    pages = [[comment(9, "mallory", comment_marker() + "\nquoting the bot"), comment(10, "github-actions[bot]",
                                                                                     "no marker here")]]
    done, calls = sticky(tmp_path, pages)
    assert done.returncode == 0, done.stderr
    assert writes(calls) == [("POST", f"repos/{REPO}/issues/{PR}/comments")]


def test_a_body_without_the_marker_fails_before_any_api_call(tmp_path: Path) -> None:
    done, calls = sticky(tmp_path, [[]], body="## Query impact\n" + comment_marker() + "\n")
    assert done.returncode == 1 and calls == []
    assert "does not start with the marker" in done.stdout


def test_a_failed_list_call_fails_the_step_and_posts_nothing(tmp_path: Path) -> None:
    done, calls = sticky(tmp_path, [[]], fail=True)
    assert done.returncode != 0 and len(calls) == 1 and writes(calls) == []


@pytest.mark.parametrize(("code", "writes_body", "written"), [(0, True, True), (1, True, True), (2, False, False),
                                                             (3, False, False), (3, True, True)])
def test_report_step_records_the_code_and_whether_a_body_exists(tmp_path: Path, code: int, writes_body: bool,
                                                                 written: bool) -> None:
    # A stand-in for the not-yet-run vqr: it records its arguments, writes a body or not, and exits with `code`.
    executable(tmp_path / ".venv" / "bin" / "vqr", '#!/bin/bash\necho "$@" > vqr.args\n'
               f'{"printf body > impact.md" if writes_body else ":"}\nexit {code}\n')
    (tmp_path / "impact.md").write_text("stale body committed on the branch", encoding="utf-8")
    output = tmp_path / "out"
    output.write_text("")
    script = step("impact", "id", "diff")["run"]
    env = {"BASE_SHA": "0123abc", "GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr  # the last step fails the job, after the upload
    assert (tmp_path / "vqr.args").read_text() == "diff --base 0123abc --run --format md --output impact.md\n"
    assert output.read_text().splitlines() == [f"code={code}"] + (["written=true"] if written else [])
    assert (tmp_path / "impact.md").exists() is writes_body


@pytest.mark.parametrize(("code", "expected"), [("0", 0), ("1", 1), ("2", 2), ("3", 3), ("130", 3), ("", 3)])
def test_the_job_fails_by_the_exit_code_contract(code: str, expected: int) -> None:
    script = step("impact", "name", "Fail by the exit-code contract")["run"]
    done = subprocess.run(["bash", "-e", "-c", script], env={"CODE": code, "PATH": os.defpath}, capture_output=True,
                          text=True, timeout=10, check=False)
    assert done.returncode == expected, (code, done.stdout)
