"""Reports under `vqr publish` and `vqr export --report` (issue 16): a declared report is created with the published
queries its `select` picks and later extended, never trimmed; and the report file vqr exports is read by Veza's own
`oaaclient-report-builder` (a real subprocess, over TLS), whose objects `vqr publish plan` then lists as unmanaged."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.acceptance.run_project import REPO, make_project, query_yaml
from tests.acceptance.sandbox_fixtures import running_sandbox
from tests.acceptance.test_publish import KEY, QUERIES, apply, plan, saved, vqr
from tests.support import forked_cli

REPORTS = "/api/preview/assessments/reports"
BUILDER = Path(sys.executable).parent / "oaaclient-report-builder"
PUBLISH = """\
publish:
  project: acme
  reports:
    - {name: Nightly review, description: what the nightly reviews, select: "tag:nightly"}
"""


def project(root: Path) -> None:
    def q(name: str, node: str, tags: str, *, published: bool = True) -> str:
        return query_yaml(name, node).replace("tags: [test]", f"tags: [{tags}]") + (
            "publish: true\n" if published else "")

    project_file = make_project(root, {
        "okta-users": q("okta-users", "OktaUser", "nightly"),
        "aws-roles": q("aws-roles", "AwsIamRole", "nightly, iam"),
        "s3-buckets": q("s3-buckets", "S3Bucket", "storage"),
        "draft": q("draft", "OktaGroup", "nightly", published=False),
    })
    project_file.write_text(project_file.read_text() + PUBLISH)


def reports(url: str, ca_file: Path | None = None) -> dict[str, dict[str, Any]]:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    answer = httpx.get(f"{url}{REPORTS}", headers={"authorization": f"Bearer {KEY}"}, verify=verify)
    answer.raise_for_status()
    return {r["name"]: r for r in answer.json()["values"]}


def held(url: str, report: str) -> list[str]:
    names_by_id = {v["id"]: name for name, v in saved(url).items()}
    return sorted(names_by_id[entry["query"]] for entry in reports(url)[report]["queries"])


def test_a_report_is_created_with_its_published_queries_then_extended_and_never_trimmed(tmp_path: Path) -> None:
    project(tmp_path)
    with running_sandbox(nodes=300) as tenant:
        first = plan(tmp_path, tenant.url).stdout
        assert ("  + report Nightly review: new, with 2 saved queries; selected but not published, left out: draft"
                in first)
        assert "2 to create" not in first and "3 to create" in first and "1 report(s) to change" in first
        applied = apply(tmp_path, tenant.url).stdout
        assert "report(s) created" in applied
        assert held(tenant.url, "Nightly review") == ["aws-roles", "okta-users"]
        # Reports have no labels: the one vqr made says so at the end of its description.
        description = reports(tenant.url)["Nightly review"]["description"]
        assert description == "what the nightly reviews\n\nvqr:acme/Nightly review"
        assert "No changes" not in plan(tmp_path, tenant.url).stdout  # the unpublished one is still named
        assert "Plan:" not in plan(tmp_path, tenant.url).stdout

        s3 = tmp_path / "queries" / "s3-buckets.yaml"
        s3.write_text(s3.read_text().replace("tags: [storage]", "tags: [storage, nightly]"))
        text = plan(tmp_path, tenant.url).stdout
        assert "  ~ report Nightly review (id " in text and ": add s3-buckets" in text
        apply(tmp_path, tenant.url)
        assert held(tenant.url, "Nightly review") == ["aws-roles", "okta-users", "s3-buckets"]

        # Someone adds their own query to the report in the UI: vqr lists it and never removes it.
        theirs = httpx.post(f"{tenant.url}{QUERIES}", headers={"authorization": f"Bearer {KEY}"},
                            json={"name": "hand-made", "query_type": "SOURCE_TO_DESTINATION",
                                  "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}).json()["value"]
        report_id = reports(tenant.url)["Nightly review"]["id"]
        added = httpx.put(f"{tenant.url}{REPORTS}/{report_id}/queries/{theirs['id']}",
                          headers={"authorization": f"Bearer {KEY}"})
        assert added.status_code == 200, added.text
        text = plan(tmp_path, tenant.url).stdout
        assert "1 other query in it left alone" in text and "Nothing to apply" in text
        apply(tmp_path, tenant.url)
        assert held(tenant.url, "Nightly review") == ["aws-roles", "hand-made", "okta-users", "s3-buckets"]


def test_the_exported_report_file_is_built_by_the_sdk_and_then_planned_as_unmanaged(tmp_path: Path) -> None:
    project(tmp_path)
    with running_sandbox(nodes=300, tls=True, api_key=KEY) as tenant:
        assert tenant.ca_file is not None
        exported = vqr(tmp_path, tenant.url, "export", "--report", "Nightly review", "--env", "remote",
                       "--out", "report.json")
        assert exported.returncode == 0, exported.stderr
        document = json.loads((tmp_path / "report.json").read_text())
        assert document["name"] == "Nightly review" and document["version"] == 1
        # Published or not: the SDK's file is its own channel. No vqr marker: what the builder makes is the SDK's.
        assert [q["name"] for q in document["queries"]] == ["aws-roles", "draft", "okta-users"]
        assert document["queries"][0]["labels"] == ["iam", "nightly"]
        assert document["queries"][2]["source_node_types"] == {"nodes": [{"node_type": "OktaUser"}]}

        env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "OAA_", "VQR_"))}
        env.update(VEZA_URL=tenant.url, VEZA_API_KEY=KEY, REQUESTS_CA_BUNDLE=str(tenant.ca_file),
                   OAA_API_RETRIES="0")
        built = subprocess.run([str(BUILDER), "report.json"], cwd=tmp_path, capture_output=True, text=True,
                               timeout=120, env=env)
        assert built.returncode == 0 and "ERROR" not in built.stderr, built.stderr
        assert sorted(reports(tenant.url, tenant.ca_file)) == ["Nightly review"]

        env.update(SSL_CERT_FILE=str(tenant.ca_file), PYTHONPATH=str(REPO))
        planned = forked_cli.run(["publish", "plan", "--env", "remote"],
                                 cwd=tmp_path, text=True, timeout=120, env=env)
        assert planned.returncode == 0, planned.stderr
        text = planned.stdout
        assert "  ! clash  aws-roles (id " in text and "  ! clash  okta-users (id " in text
        assert "  + create s3-buckets" in text  # not in the report: vqr creates it as its own
        assert "  ! report Nightly review (id " in text
        assert "a report vqr did not create has this name: left alone" in text and "1 report clash" in text
        before = reports(tenant.url, tenant.ca_file)["Nightly review"]
        applied = forked_cli.run(["publish", "apply", "--env", "remote",
                                  "--auto-approve"], cwd=tmp_path, text=True, timeout=120,
                                 env=env)
        assert applied.returncode == 0 and "Applied: 1 created." in applied.stdout, applied.stdout + applied.stderr
        assert reports(tenant.url, tenant.ca_file)["Nightly review"] == before  # the builder's report, untouched


def test_export_names_an_unknown_report_and_an_empty_selection_in_one_line(tmp_path: Path) -> None:
    project(tmp_path)
    unknown = vqr(tmp_path, "http://127.0.0.1:9", "export", "--report", "Nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().endswith("no report named 'Nope' in vqr.yaml's publish.reports "
                                           "(declared: Nightly review)")
    vqr_yaml = tmp_path / "vqr.yaml"
    vqr_yaml.write_text(vqr_yaml.read_text().replace('"tag:nightly"', '"tag:nobody"'))
    empty = vqr(tmp_path, "http://127.0.0.1:9", "export", "--report", "Nightly review")
    assert empty.returncode == 2 and "selects no enabled query (tag:nobody)" in empty.stderr
    assert "Traceback" not in unknown.stderr + empty.stderr
