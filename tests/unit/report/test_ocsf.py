"""`vqr report --format ocsf` on hand-made run directories (the fixed run artifact, edited): every line is checked
against the official OCSF 1.8.0 schema (tests/support/ocsf_check.py), and the ids, severities, compliance verdicts,
accepted exceptions (Suppressed), hostile rows and the memory a large result costs are each asserted."""

from __future__ import annotations

import io
import json
import shutil
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from runner.app.boundary import guarded
from runner.model.exceptions import ExceptionRule
from runner.report import report_command
from runner.report.load import load_run
from runner.report.ocsf import MAX_TEXT, finding_uid, write_ocsf
from tests.support.ocsf_check import problems
from tests.support.report_fixture import FIXTURE, copy_fixture

OUT = "findings.ocsf.jsonl"


def read_events(path: Path) -> list[dict[str, Any]]:
    """Each line on its own must be one JSON object that the OCSF schema accepts."""
    events = []
    for number, line in enumerate(path.read_bytes().split(b"\n")[:-1], 1):
        event = json.loads(line)
        assert problems(event) == [], f"line {number}: {problems(event)}"
        events.append(event)
    assert path.read_bytes().endswith(b"\n")
    return events


def edit_run(run_dir: Path, change: dict[str, dict[str, Any]]) -> None:
    """Merge `change[query]` into that query's run.json entry."""
    run = json.loads((run_dir / "run.json").read_text())
    for query in run["queries"]:
        query.update(change.get(query["name"], {}))
    (run_dir / "run.json").write_text(json.dumps(run))


def rule(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"id": "exceptions/aws.yaml#0", "query": "*", "reason": "break-glass, audited",
                              "owner": "cloud-security", "expires": date(2025, 6, 30), "ticket": "SEC-12"}
    values.update(fields)
    return {**ExceptionRule(**values).to_json(), "matched": 1}


def test_report_command_writes_one_valid_finding_per_row_and_one_per_query(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run_dir = copy_fixture(reports)
    out, err = io.StringIO(), io.StringIO()
    code = guarded(lambda: out.write("".join(f"{p}\n" for p in report_command(None, "ocsf", reports,
                                                                            tmp_path / "j.sqlite"))) and 0, err=err)
    assert (code, err.getvalue()) == (0, "")
    assert out.getvalue().splitlines() == [str(run_dir.resolve() / OUT)]
    events = read_events(run_dir / OUT)
    run = load_run(run_dir)
    rows = sum(q.rows or 0 for q in run.queries if q.status == "succeeded")
    assert Counter(e["class_uid"] for e in events) == {2008: rows, 2003: len(run.queries)}
    assert rows == 10


def test_entity_and_path_rows_map_to_the_identity_and_what_it_can_access(tmp_path: Path) -> None:
    run_dir = copy_fixture(tmp_path / "reports")
    write_ocsf(load_run(run_dir), run_dir / OUT)
    events = read_events(run_dir / OUT)
    role = next(e for e in events if e.get("user", {}).get("uid") == "arn:aws:iam::111122223333:role/Admin")
    assert role["user"] == {"uid": "arn:aws:iam::111122223333:role/Admin", "name": "Admin", "type": "AwsIamRole"}
    assert role["finding_info"]["uid"] == finding_uid("admin-roles", "arn:aws:iam::111122223333:role/Admin")
    assert role["unmapped"]["veza_row"]["risk_level"] == "CRITICAL"  # the row itself is kept, whole
    path = next(e for e in events if e.get("unmapped", {}).get("query") == "s3-write-paths"
                and e["resources"][0]["uid"] == "arn:aws:s3:::logs" and e["user"]["uid"] == "00u2bob")
    assert path["user"]["name"] == "Bob | Pipe *Stars*"
    assert path["resources"] == [{"uid": "arn:aws:s3:::logs", "name": "logs", "type": "S3Bucket", "role_id": 1,
                                  "role": "Target"}]
    assert path["access_analysis_result"]["granted_privileges"] == ["s3:*"]
    assert path["access_analysis_result"]["accessors"] == [path["user"]]
    assert path["finding_info"]["uid"] == finding_uid("s3-write-paths", "00u2bob -> arn:aws:s3:::logs")
    assert len({e["finding_info"]["uid"] for e in events}) == len(events)  # one id per finding


def test_ids_are_the_same_in_another_run_of_the_same_rows(tmp_path: Path) -> None:
    first = copy_fixture(tmp_path / "a")
    second = tmp_path / "b" / "other-run"
    shutil.copytree(FIXTURE, second)
    run = json.loads((second / "run.json").read_text())
    run.update(run_id="20250302T020000Z-ffff", finished_at="2025-03-02T02:05:00Z")
    (second / "run.json").write_text(json.dumps(run))
    for run_dir in (first, second):
        write_ocsf(load_run(run_dir), run_dir / OUT)
    one, two = read_events(first / OUT), read_events(second / OUT)
    assert [e["finding_info"]["uid"] for e in one] == [e["finding_info"]["uid"] for e in two]
    assert one[0]["metadata"]["correlation_uid"] != two[0]["metadata"]["correlation_uid"]
    assert one[0]["time"] < two[0]["time"]


@pytest.mark.parametrize(("severity", "severity_id", "caption"), [
    ("info", 1, "Informational"), ("low", 2, "Low"), ("medium", 3, "Medium"), ("high", 4, "High"),
    ("critical", 5, "Critical")])
def test_the_query_severity_is_the_findings_severity_id(tmp_path: Path, severity: str, severity_id: int,
                                                        caption: str) -> None:
    run_dir = copy_fixture(tmp_path / "reports")
    edit_run(run_dir, {"admin-roles": {"severity": severity}})
    write_ocsf(load_run(run_dir), run_dir / OUT)  # validated: the severity is run.json's own field
    events = read_events(run_dir / OUT)
    mine = [e for e in events if e["finding_info"]["analytic"]["name"] == "admin-roles"]
    assert len(mine) == 4
    assert {(e["severity_id"], e["severity"]) for e in mine} == {(severity_id, caption)}
    others = {e["severity_id"] for e in events if e["finding_info"]["analytic"]["name"] != "admin-roles"}
    assert others == {3}  # no severity in run.json (an older artifact): medium


def test_compliance_findings_follow_the_expectations(tmp_path: Path) -> None:
    run_dir = copy_fixture(tmp_path / "reports")
    write_ocsf(load_run(run_dir), run_dir / OUT)
    compliance = {e["compliance"]["control"]: e for e in read_events(run_dir / OUT) if e["class_uid"] == 2003}
    run = {q.name: q for q in load_run(run_dir).queries}
    for name, event in compliance.items():
        query = run[name]
        errors = [x for x in query.failed_expectations if x.severity == "error"]
        warns = [x for x in query.failed_expectations if x.severity == "warn"]
        expected = ("Unknown" if query.status != "succeeded" else "Fail" if errors else "Warning" if warns
                    else "Pass")
        assert event["compliance"]["status"] == expected, name
        assert event["status"] == ("Resolved" if expected == "Pass" else "New")
        assert len(event["compliance"].get("checks", [])) == len(query.expectations)
    assert {e["compliance"]["status"] for e in compliance.values()} >= {"Pass", "Fail", "Unknown"}
    assert "stale-access-keys" in compliance and "status_detail" in compliance["stale-access-keys"]["compliance"]


def test_rows_of_an_accepted_exception_are_kept_suppressed(tmp_path: Path) -> None:
    run_dir = copy_fixture(tmp_path / "reports")
    by_id = rule(entity_id="arn:aws:iam::111122223333:role/BreakGlass", query="admin-*")
    by_match = rule(id="exceptions/aws.yaml#1", query="s3-write-paths", ticket=None,
                    match={"destination.id": "arn:aws:s3:::logs"}, reason="log shipping writes here")
    edit_run(run_dir, {"admin-roles": {"exceptions": {"active": [by_id], "expired": [], "excepted_rows": 1}},
                       "s3-write-paths": {"exceptions": {"active": [by_match], "expired": [], "excepted_rows": 2}}})
    # run.json's `exceptions` is the exceptions package's schema addition: read without this branch's schema
    write_ocsf(load_run(run_dir, validate=False), run_dir / OUT)
    events = read_events(run_dir / OUT)
    rows = [e for e in events if e["class_uid"] == 2008]
    suppressed = {(e["unmapped"]["query"], e["user"]["uid"], e.get("resources", [{}])[0].get("uid"))
                  for e in rows if e["status_id"] == 3}
    assert suppressed == {("admin-roles", "arn:aws:iam::111122223333:role/BreakGlass", None),
                          ("s3-write-paths", "00u1alice", "arn:aws:s3:::logs"),
                          ("s3-write-paths", "00u2bob", "arn:aws:s3:::logs")}
    assert {e["status"] for e in rows if e["status_id"] == 3} == {"Suppressed"}
    assert {e["status_id"] for e in rows} == {1, 3} and len(rows) == 10  # kept, not dropped
    glass = next(e for e in rows if e["user"]["uid"].endswith("BreakGlass"))
    assert glass["status_detail"] == ("accepted until 2025-06-30 by cloud-security: break-glass, audited (SEC-12)"
                                      " [exceptions/aws.yaml#0]")
    paths = next(e for e in events if e["class_uid"] == 2003 and e["compliance"]["control"] == "s3-write-paths")
    assert paths["message"].endswith(", 2 accepted")


def hostile_run(tmp_path: Path, rows: list[bytes]) -> Path:
    run_dir = copy_fixture(tmp_path / "reports")
    (run_dir / "results" / "admin-roles.jsonl").write_bytes(b"".join(row + b"\n" for row in rows))
    edit_run(run_dir, {"admin-roles": {"rows": len(rows)}})
    return run_dir


def test_a_hostile_row_still_gives_valid_json_lines(tmp_path: Path) -> None:
    huge = "A" * 2_000_000
    rows = [json.dumps({"id": "x\x00\x1b[31m\u2028\r\nnext", "type": "Okta\u0007User",
                        "properties": {"name": "\ud800 lone \udfff surrogates", "blob": huge}}).encode(),
            json.dumps({"id": huge, "source": {"id": 1}}).encode(),
            json.dumps({"source": {"id": "s\n"}, "destination": {"id": None}}).encode(),
            json.dumps(["not", "an", "object"]).encode(), b"42", json.dumps({"id": True}).encode()]
    run_dir = hostile_run(tmp_path, rows)
    write_ocsf(load_run(run_dir), run_dir / OUT)
    data = (run_dir / OUT).read_bytes()
    assert data.isascii() and b"\r" not in data and data.count(b"\n") == 16 - 3 + len(rows)
    events = [e for e in read_events(run_dir / OUT) if e.get("unmapped", {}).get("query") == "admin-roles"]
    assert len(events) == len(rows)
    first = events[0]
    assert first["user"]["uid"] == "x\x00\x1b[31m\u2028\r\nnext"  # data kept exactly, escaped by JSON
    assert first["user"]["name"].startswith("\ud800")
    assert first["metadata"]["is_truncated"] is True
    assert len(first["unmapped"]["veza_row"]["properties"]["blob"]) == MAX_TEXT
    assert len(events[1]["user"]["uid"]) == MAX_TEXT
    assert len(data) < 200_000  # two megabyte strings do not become megabyte lines


def test_a_large_result_streams_in_flat_memory(tmp_path: Path) -> None:
    row = {"id": "", "type": "OktaUser", "properties": {"name": "n" * 300, "email": "e@example.com"},
           "tags": [{"key": "team", "value": "platform"}]}
    count = 5_000  # 2.2 MB of rows: a held result would cost several times that, streaming costs ~45 KB
    lines = [json.dumps({**row, "id": f"00u{i:08d}"}).encode() for i in range(count)]
    run_dir = hostile_run(tmp_path, lines)
    size = (run_dir / "results" / "admin-roles.jsonl").stat().st_size
    run = load_run(run_dir)
    tracemalloc.start()
    try:
        written = write_ocsf(run, run_dir / OUT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == count + 7 + 6  # the fixture's other rows, one compliance finding per query
    assert peak < size / 10, (peak, size)  # a held result would cost several times the file, not a tenth
    with (run_dir / OUT).open("rb") as handle:
        uids = {json.loads(line)["finding_info"]["uid"] for line in handle}
    assert len(uids) == written
