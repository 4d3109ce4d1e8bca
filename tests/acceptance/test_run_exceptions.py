"""Accepted exceptions end to end, through the real CLI (subprocesses) against one sandbox over HTTP: a failing
`rows: {max: 0}` turns green once its rows are accepted; after `/_sandbox/advance` moves the tenant's clock past an
exception's `expires`, the query is red again and report.md and report.html say which exception expired; an
exception that matched nothing is a warning of `vqr report` and of the next `vqr lint`; an unknown query fails lint
and is a warning of `vqr run`, a bad date stops it before anything is sent; excepted rows stay in the results and
in OCSF, as Suppressed findings."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from runner.sanitize import markdown_inline
from tests.acceptance.run_project import REPO, by_name, fixed_sandbox, make_project, query_yaml, remote, stats
from tests.support import forked_cli
from tests.support.ocsf_check import problems

NO_MFA = """\
name: iam-users-without-mfa
owner: cloud-security
severity: high
cache: {mode: immediate}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types:
    nodes:
      - node_type: AwsIamUser
        condition_expression: {specs: [{fn: EQ, property: mfa_enabled, value: false}]}
  result_value_type: SOURCE_NODES
expect:
  - {rows: {max: 0}, message: every IAM user has MFA}
"""


def vqr(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    env.update(remote(url), PYTHONPATH=str(REPO))
    return forked_cli.run(args, cwd=root, text=True, env=env,
                          timeout=120)


def latest(root: Path) -> tuple[Path, dict[str, Any]]:
    run_dir = (root / "reports" / "latest").resolve()
    return run_dir, json.loads((run_dir / "run.json").read_text())


def result_rows(run_dir: Path, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / entry["results_file"]).read_text().splitlines() if line.strip()]


def exceptions_file(rows: list[dict[str, Any]], *, soon: date, later: date) -> str:
    """The first row accepted by id until `soon`, the others by a property match until `later`, and one entry that
    can match nothing (an id no row has)."""
    first, *others = rows
    text = ("# yaml-language-server: $schema=../schemas/exceptions.schema.json\nexceptions:\n"
            f"  - query: iam-users-without-mfa\n    entity: {{id: {json.dumps(first['id'])}}}\n"
            f"    reason: break-glass account, its key is vaulted\n    owner: cloud-security\n"
            f"    ticket: SEC-101\n    expires: '{soon.isoformat()}'\n")
    for row in others:
        name = json.dumps(row["properties"]["name"])
        text += (f"  - query: iam-users-*\n    entity: {{match: {{properties.name: {name}}}}}\n"
                 "    reason: a deploy bot, scoped by an SCP\n    owner: platform\n"
                 f"    expires: '{later.isoformat()}'\n")
    return text + (f"  - query: aws-roles\n    entity: {{id: nobody-has-this-id}}\n    reason: stale\n"
                   f"    owner: platform\n    expires: '{later.isoformat()}'\n")


def test_an_exception_turns_a_failing_query_green_until_the_tenants_clock_passes_its_expiry(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_project(root, {"iam-users-without-mfa": NO_MFA, "aws-roles": query_yaml("aws-roles", "AwsIamRole")})
    with (root / "vqr.yaml").open("a") as handle:
        handle.write("outputs: {ocsf: true}\n")
    with fixed_sandbox() as box:
        failing = vqr(root, box.url, "run", "--env", "remote", "--quiet")
        assert failing.returncode == 1, failing.stderr
        run_dir, run = latest(root)
        entry = by_name(run)["iam-users-without-mfa"]
        rows = result_rows(run_dir, entry)
        assert len(rows) >= 2 and entry["rows"] == len(rows)  # the staging needs one row by id, one by match
        today = date.fromisoformat(run["as_of"][:10])

        (root / "exceptions").mkdir()
        (root / "exceptions" / "accepted.yaml").write_text(
            exceptions_file(rows, soon=today + timedelta(days=2), later=today + timedelta(days=200)))
        lint = vqr(root, box.url, "lint")
        assert lint.returncode == 0, lint.stdout + lint.stderr
        assert "exceptions/accepted.yaml:3:12: warning: exception exceptions/accepted.yaml#0 (cloud-security) " \
               f"expires on {(today + timedelta(days=2)).isoformat()}, in 2 day(s) [exceptions/expiring]" in lint.stdout

        green = vqr(root, box.url, "run", "--env", "remote", "--quiet")
        assert green.returncode == 0, green.stderr
        run_dir, run = latest(root)
        entry = by_name(run)["iam-users-without-mfa"]
        assert entry["rows"] == len(rows) and len(result_rows(run_dir, entry)) == len(rows)  # the rows stay
        outcome = entry["expectations"][0]
        assert (outcome["outcome"], outcome["actual"]) == ("passed", 0)
        assert f"[{len(rows)} accepted by exceptions, not counted]" in outcome["message"]
        block = entry["exceptions"]
        assert block["excepted_rows"] == len(rows) and block["expired"] == []
        assert [(a["id"], a["matched"]) for a in block["active"]] == [
            (f"exceptions/accepted.yaml#{i}", 1) for i in range(len(rows))]
        assert run["summary"]["excepted_rows"] == len(rows)
        unmatched = [u["id"] for u in run["exceptions_unmatched"]]
        assert unmatched == [f"exceptions/accepted.yaml#{len(rows)}"]  # the aws-roles entry matched nothing
        ocsf = [json.loads(line) for line in (run_dir / "findings.ocsf.jsonl").read_text().splitlines()]
        assert all(problems(event) == [] for event in ocsf)
        muted = [e for e in ocsf if e["class_uid"] == 2008 and e["unmapped"]["query"] == "iam-users-without-mfa"]
        assert len(muted) == len(rows) and {e["status_id"] for e in muted} == {3}  # Suppressed, still there
        markdown = (run_dir / "report.md").read_text()
        assert f"accepted until {(today + timedelta(days=2)).isoformat()}: 1 row" in markdown

        report = vqr(root, box.url, "report")
        assert report.returncode == 0, report.stderr
        assert (f"vqr report: warning: exception exceptions/accepted.yaml#{len(rows)} (platform, for aws-roles: id "
                "nobody-has-this-id) matched no row in run") in report.stderr
        lint = vqr(root, box.url, "lint")
        assert f"exceptions/accepted.yaml#{len(rows)} matched no row in the last run ({run['run_id']})" in lint.stdout

        httpx.post(f"{box.url}/_sandbox/advance", json={"days": 3}, headers={"authorization": "Bearer test-key"},
                   timeout=30).raise_for_status()
        red = vqr(root, box.url, "run", "--env", "remote", "--quiet")
        assert red.returncode == 1, red.stderr
        run_dir, run = latest(root)
        assert date.fromisoformat(run["as_of"][:10]) == today + timedelta(days=3)  # the tenant's clock, not ours
        entry = by_name(run)["iam-users-without-mfa"]
        outcome = entry["expectations"][0]
        assert (outcome["outcome"], outcome["actual"]) == ("failed", 1)
        why = f"exception exceptions/accepted.yaml#0 expired on {(today + timedelta(days=2)).isoformat()}"
        assert f"{why}: its 1 row(s) count again" in outcome["message"]
        assert [e["id"] for e in entry["exceptions"]["expired"]] == ["exceptions/accepted.yaml#0"]
        assert entry["exceptions"]["excepted_rows"] == len(rows) - 1
        expired_line = f"expired on {(today + timedelta(days=2)).isoformat()}: its 1 row counts again"
        assert markdown_inline(expired_line) in (run_dir / "report.md").read_text()
        html = (run_dir / "report.html").read_text()
        assert f"<strong>{expired_line}</strong>" in html and "break-glass account, its key is vaulted" in html


def test_an_unknown_query_fails_lint_but_only_warns_in_a_run_while_a_bad_date_stops_it(tmp_path: Path) -> None:
    """A renamed query must not stop the nightly (pre-commit lints only the staged files), and a run knows only its
    own environment's names: `vqr lint` is where an unknown query is an error. A broken entry stops the run."""
    root = tmp_path / "repo"
    make_project(root, {"aws-roles": query_yaml("aws-roles", "AwsIamRole")})
    (root / "exceptions").mkdir()
    typo = root / "exceptions" / "typo.yaml"
    typo.write_text("exceptions:\n  - query: aws-rolez\n    entity: {id: x}\n    reason: r\n    owner: o\n"
                    "    expires: '2099-01-01'\n")
    finding = ("exceptions/typo.yaml:2:12: query 'aws-rolez' matches no query of the repository "
               "[exceptions/unknown-query]")
    with fixed_sandbox() as box:
        lint = vqr(root, box.url, "lint")
        assert lint.returncode == 1 and finding.replace(":12: ", ":12: error: ") in lint.stdout
        done = vqr(root, box.url, "run", "--env", "remote", "--quiet")
        assert done.returncode == 0, done.stderr
        assert f"vqr: warning: {finding}" in done.stderr
        assert stats(box.url)["creates"] == 1
        typo.write_text(typo.read_text().replace("2099-01-01", "2099-02-30"))
        stopped = vqr(root, box.url, "run", "--env", "remote", "--quiet")
        assert stopped.returncode == 2, stopped.stderr
        assert "[exceptions/bad-date]" in stopped.stderr and "nothing was sent" in stopped.stderr
        assert stats(box.url)["creates"] == 1
