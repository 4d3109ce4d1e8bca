"""`vqr run` with `outputs: {ocsf: true}` against the embedded sandbox, as a user runs it (a subprocess): its
findings.ocsf.jsonl holds one finding per result row and one per query, every line valid against the official OCSF
schema, with the same finding ids in a second run; without the switch there is no such file."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from tests.acceptance.run_project import REPO, make_project, query_yaml
from tests.support import forked_cli
from tests.support.ocsf_check import problems

SANDBOX = {"VQR_SANDBOX_LATENCY": "0.02", "VQR_SANDBOX_NODES": "400"}


def vqr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    env.update(SANDBOX, PYTHONPATH=str(REPO))
    return forked_cli.run(args, cwd=cwd, text=True, env=env,
                          timeout=120)


def project(root: Path, *, ocsf: bool) -> Path:
    queries = {"okta-users": query_yaml("okta-users", "OktaUser", expect="- rows: {max: 0}").replace(
                   "tags: [test]\n", "tags: [test]\nseverity: high\n"),
               "aws-roles": query_yaml("aws-roles", "AwsIamRole", expect="- rows: {min: 1}")}
    make_project(root, queries)
    if ocsf:
        with (root / "vqr.yaml").open("a") as handle:
            handle.write("outputs: {ocsf: true}\n")
    return root


def findings(run_dir: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in (run_dir / "findings.ocsf.jsonl").read_bytes().splitlines()]
    for number, event in enumerate(events, 1):
        assert problems(event) == [], f"line {number}: {problems(event)}"
    return events


def test_vqr_run_writes_valid_ocsf_with_stable_ids(tmp_path: Path) -> None:
    root = project(tmp_path / "repo", ocsf=True)
    done = vqr("run", "--quiet", "--cache", "immediate", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr  # okta-users' rows: {max: 0} fails
    first_dir = (root / "reports" / "latest").resolve()
    run = json.loads((first_dir / "run.json").read_text())
    rows = {q["name"]: q["rows"] for q in run["queries"]}
    assert {q["name"]: q["severity"] for q in run["queries"]} == {"okta-users": "high", "aws-roles": "medium"}
    first = findings(first_dir)
    per_query = Counter(e["unmapped"]["query"] for e in first if e["class_uid"] == 2008)
    assert per_query == rows and all(count > 0 for count in rows.values())
    compliance = {e["compliance"]["control"]: e for e in first if e["class_uid"] == 2003}
    assert {name: e["compliance"]["status"] for name, e in compliance.items()} == {"okta-users": "Fail",
                                                                                  "aws-roles": "Pass"}
    assert {e["severity_id"] for e in first if e.get("unmapped", {}).get("query") == "okta-users"} == {4}
    assert {e["severity_id"] for e in first if e.get("unmapped", {}).get("query") == "aws-roles"} == {3}

    again = vqr("run", "--quiet", "--cache", "immediate", cwd=root)
    assert again.returncode == 1, again.stdout + again.stderr
    second_dir = (root / "reports" / "latest").resolve()
    assert second_dir != first_dir
    second = findings(second_dir)
    assert sorted(e["finding_info"]["uid"] for e in second) == sorted(e["finding_info"]["uid"] for e in first)
    assert {e["metadata"]["correlation_uid"] for e in second} == {second_dir.name}

    # `vqr report --format ocsf` re-renders the very findings `vqr run` wrote
    written = (second_dir / "findings.ocsf.jsonl").read_bytes()
    report = vqr("report", "--format", "ocsf", cwd=root)
    assert report.returncode == 0, report.stderr
    assert report.stdout.strip() == str(second_dir / "findings.ocsf.jsonl")
    assert (second_dir / "findings.ocsf.jsonl").read_bytes() == written


def test_without_the_switch_vqr_run_writes_no_ocsf(tmp_path: Path) -> None:
    root = project(tmp_path / "repo", ocsf=False)
    done = vqr("run", "--quiet", "--select", "aws-roles", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    latest = (root / "reports" / "latest").resolve()
    assert (latest / "report.md").is_file() and not (latest / "findings.ocsf.jsonl").exists()
