"""`vqr diff` end to end on a git repository, and `vqr diff --run` against a real sandbox over HTTP: the JSON-path
differences, the result delta (rows, the exact entities added and removed, expectations), which side runs where
(`--state` spares the base versions: counted by the sandbox), exit codes, and the PR comment's size limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.acceptance.impact_repo import FILES, INACTIVE, git, query, repo, target, veza, vqr, write
from tests.acceptance.sandbox_fixtures import create, read_all_pages

__all__ = ["repo", "target", "veza"]  # the fixtures, imported for pytest

REPO = Path(__file__).resolve().parents[2]


def stats(client: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = client.get("/_sandbox/stats").json()
    return data


def ids(client: httpx.Client, body: dict[str, Any]) -> set[str]:
    """The entity ids the sandbox answers a rendered body with, asked directly (the truth the delta must match)."""
    spec = (body.get("cached_result_if_available") or body["immediate_run"])["request"]["body"]
    rows, _ = read_all_pages(client, create(client, {"immediate_run": {"request": {"body": spec}}})["query_result_id"],
                             page_size=500)
    return {row["id"] for row in rows}


def rendered(capsys: pytest.CaptureFixture[str], name: str) -> dict[str, Any]:
    code, out, err = vqr(capsys, "render", name, "--env", "sandbox")
    assert code == 0, err
    body: dict[str, Any] = json.loads(out)
    return body


def test_the_spec_diff_names_json_paths_per_environment(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/_fragments/active.yaml": INACTIVE, "queries/vars/prod.yaml": "department: Finance\n"})
    code, out, _ = vqr(capsys, "diff", "--base", "main", "--format", "json")
    assert code == 0
    report = json.loads(out)
    jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "diff.schema.json").read_text()),
                                    format_checker=jsonschema.FormatChecker()).validate(report)
    by_name = {q["name"]: q for q in report["queries"]}
    assert set(by_name) == {"active-users", "active-admins", "by-department"}
    path = "$.cached_result_if_available.request.body.source_node_types.nodes[0].condition_expression.specs[0].value"
    assert by_name["active-users"]["envs"] == [{"envs": ["sandbox", "prod"],
                                                "changes": [{"path": path, "old": True, "new": False}]}]
    assert by_name["by-department"]["envs"] == [{"envs": ["prod"], "changes": [
        {"path": path, "old": "Engineering", "new": "Finance"}]}]
    code, text, _ = vqr(capsys, "diff", "--base", "main")
    leaf = "spec.source_node_types.nodes[0].condition_expression.specs[0].value"
    assert code == 0 and f'{leaf}: "Engineering" → "Finance"' in text


def test_new_and_removed_queries_show_every_path(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/okta/extra.yaml": query("extra", node_type="OktaGroup")})
    git(repo, "rm", "-q", "queries/aws/roles.yaml")
    code, out, _ = vqr(capsys, "diff", "--base", "main", "--format", "json")
    queries = {q["name"]: q for q in json.loads(out)["queries"]}
    assert code == 0 and {n: q["change"] for n, q in queries.items()} == {"extra": "new", "aws-roles": "removed"}
    added = {c["path"]: c for g in queries["extra"]["envs"] for c in g["changes"]}
    nodes = "$.cached_result_if_available.request.body.source_node_types.nodes"
    assert added[nodes] == {"path": nodes, "new": [{"node_type": "OktaGroup"}]}
    assert added["$.cached_result_if_available.max_staleness"] == {
        "path": "$.cached_result_if_available.max_staleness", "new": "86400s"}
    assert all("new" not in c and "old" in c for g in queries["aws-roles"]["envs"] for c in g["changes"])


def test_diff_run_reports_exactly_the_entities_that_changed(repo: Path, target: httpx.Client,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    before = ids(target, rendered(capsys, "active-users"))
    write(repo, {"queries/_fragments/active.yaml": INACTIVE})
    after = ids(target, rendered(capsys, "active-users"))
    assert before and after and before != after
    creates = stats(target)["creates"]
    code, out, err = vqr(capsys, "diff", "--base", "main", "--run", "--format", "json", "--env", "sandbox")
    assert code == 0, err
    delta = {q["name"]: q["delta"] for q in json.loads(out)["queries"]}["active-users"]
    assert (delta["rows_before"], delta["rows_after"]) == (len(before), len(after))
    assert (delta["added"], delta["removed"]) == (len(after - before), len(before - after))
    assert {e["id"] for e in delta["added_sample"]} == after - before  # fewer than the sample size of 50
    assert {e["id"] for e in delta["removed_sample"]} == set(sorted(before - after)[:50])
    assert all(e["name"] for e in delta["added_sample"])
    # Two changed queries with one body between them, as base and as head: one shared submit per side.
    assert stats(target)["creates"] - creates == 2
    # The preview keeps its own journal and run directories: the nightly's history is untouched.
    assert (repo / ".vqr" / "diff-state.sqlite").is_file() and not (repo / ".vqr" / "state.sqlite").exists()
    assert (repo / "reports" / "diff" / "head" / "latest" / "run.json").is_file()


def test_an_advanced_graph_shows_in_the_delta_against_a_state(repo: Path, target: httpx.Client,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = vqr(capsys, "run", "--env", "sandbox", "--select", "tag:nightly", "--cache", "immediate",
                       "--quiet")
    assert code == 0, err
    state = repo / "reports" / "latest"
    before = {json.loads(line)["id"] for line in (state / "results" / "active-users.jsonl").read_text().splitlines()}
    assert target.post("/_sandbox/advance", json={"fraction": 0.3}).status_code == 200
    write(repo, {"queries/okta/active-users.yaml": FILES["queries/okta/active-users.yaml"].replace(
        "tags: [okta, nightly]", "tags: [okta, nightly]\ncache: {mode: immediate}")})
    after = ids(target, rendered(capsys, "active-users"))
    executions = stats(target)["executions"]
    code, out, err = vqr(capsys, "diff", "--state", str(state), "--run", "--format", "json")
    assert code == 0, err
    (entry,) = json.loads(out)["queries"]
    delta = entry["delta"]
    assert entry["name"] == "active-users" and delta["source_before"] == "state"
    assert (delta["added"], delta["removed"]) == (len(after - before), len(before - after))
    assert delta["added"] + delta["removed"] > 0  # the advance changed who is active
    assert stats(target)["executions"] - executions == 1  # the head only: the base came from the state


def test_with_state_the_base_versions_are_not_executed(repo: Path, target: httpx.Client,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = vqr(capsys, "run", "--env", "sandbox", "--quiet")
    assert code == 0, err
    write(repo, {"queries/_fragments/active.yaml": INACTIVE,
                 "queries/aws/roles.yaml": query("aws-roles", node_type="OktaGroup", tags="[aws]")})
    start = stats(target)
    code, out, err = vqr(capsys, "diff", "--base", "main", "--state", "reports/latest", "--run", "--format", "json")
    assert code == 0, err
    end = stats(target)
    deltas = {q["name"]: q["delta"] for q in json.loads(out)["queries"]}
    assert set(deltas) == {"active-users", "active-admins", "aws-roles"}
    assert {d["source_before"] for d in deltas.values()} == {"state"}
    # Only the head versions are sent: two bodies (active-users and active-admins share one), none of the base's.
    assert (end["creates"] - start["creates"], end["executions"] - start["executions"]) == (2, 2)


def test_a_failing_head_expectation_is_exit_1(repo: Path, target: httpx.Client,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    del target
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")
                 + "expect:\n  - rows: {max: 0}\n"})
    code, out, err = vqr(capsys, "diff", "--base", "main", "--run", "--format", "json")
    assert code == 1, err
    (entry,) = json.loads(out)["queries"]
    assert [e["outcome"] for e in entry["delta"]["expectations_after"]] == ["failed"]


def test_a_changed_file_with_errors_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": "name: aws-roles\nspec: [broken]\n"})
    code, out, err = vqr(capsys, "diff", "--base", "main")
    assert code == 2 and out == "" and "queries/aws/roles.yaml" in err and "vqr lint" in err


def test_the_comment_for_500_changed_queries_fits_and_says_what_it_left_out(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    many = ("name: \"bulk-{{ n }}\"\ntags: [bulk]\nmatrix:\n  n: {{ range(500) | list }}\n"
            "spec:\n  query_type: SOURCE_TO_DESTINATION\n  source_node_types:\n    nodes:\n"
            "      - node_type: OktaUser\n        condition_expression: {specs: [{fn: EQ, property: department, "
            "value: \"team-{{ n }}-VALUE\"}]}\n  result_value_type: SOURCE_NODES\n")
    write(repo, {"queries/bulk.yaml": many.replace("{{ range(500) | list }}", str(list(range(500))))})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bulk")
    write(repo, {"queries/bulk.yaml": many.replace("{{ range(500) | list }}", str(list(range(500)))).replace(
        "VALUE", "CHANGED")})
    output = repo / "comment.md"
    code, _, err = vqr(capsys, "diff", "--base", "HEAD", "--format", "md", "--output", str(output))
    assert code == 0, err
    body = output.read_text(encoding="utf-8")
    assert len(body) <= 65_536 and body.startswith("<!-- vqr:pr-impact -->")
    assert "500 queries changed" in body
    shown = body.count("<details>")
    assert f"details of {500 - shown} queries left out" in body
