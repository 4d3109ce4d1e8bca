"""Regression tests for what the fresh-eyes review of issue 13 found: each case was wrong before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.acceptance.impact_repo import FILES, INACTIVE, git, listed, query, repo, target, veza, vqr, write

__all__ = ["repo", "target", "veza"]  # the fixtures, imported for pytest



def diff_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, object]]:
    code, out, err = vqr(capsys, "diff", "--format", "json", *args)
    assert code == 0, err
    return {q["name"]: q for q in json.loads(out)["queries"]}


def test_a_new_file_reusing_a_query_name_is_refused_like_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles-copy.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    code, out, err = vqr(capsys, "diff", "--base", "main")
    assert code == 2 and out == "" and "errors at the head" in err


def test_vqr_env_counts_like_env_against_a_state(repo: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, target: httpx.Client) -> None:
    del target
    assert vqr(capsys, "run", "--env", "sandbox", "--quiet")[0] == 0
    monkeypatch.setenv("VQR_ENV", "prod")
    code, _, err = vqr(capsys, "run", "--state", "reports/latest", "--select", "state:modified")
    assert code == 2 and "(VQR_ENV)" in err


def test_disabled_queries_are_not_run_and_nothing_enabled_is_nothing_to_run(
        repo: Path, capsys: pytest.CaptureFixture[str], target: httpx.Client) -> None:
    del target
    disabled = FILES["queries/aws/roles.yaml"].replace("tags: [aws]\n", "tags: [aws]\nenabled: false\n")
    write(repo, {"queries/aws/roles.yaml": disabled})
    git(repo, "commit", "-qam", "disabled")
    write(repo, {"queries/aws/roles.yaml": disabled.replace("AwsIamRole", "AwsIamUser")})
    code, out, err = vqr(capsys, "diff", "--base", "HEAD", "--run", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert [q["name"] for q in report["queries"]] == ["aws-roles"]
    assert any("disabled at the head" in note for note in report["notes"])
    code, _, err = vqr(capsys, "run", "--select", "state:modified", "--base", "HEAD")
    assert code == 0 and "nothing to run" in err


def test_a_vars_file_inside_the_repository_is_read_as_the_base_has_it(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"extra.yaml": "department: Engineering\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "extra vars")
    write(repo, {"extra.yaml": "department: Finance\n"})
    # (ls takes no --vars-file: what it lists is the project's own variables)
    assert set(listed(capsys, "--select", "state:modified", "--base", "HEAD", "--env", "prod")) == set()
    assert set(diff_json(capsys, "--base", "HEAD", "--vars-file", "extra.yaml")) == {"by-department"}


def test_five_and_five_point_zero_are_one_number(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counted = query("aws-roles", node_type="AwsIamRole", tags="[aws]",
                    condition="{specs: [{fn: GT, property: max_session_duration, value: 5}]}")
    write(repo, {"queries/aws/roles.yaml": counted})
    git(repo, "commit", "-qam", "count")
    write(repo, {"queries/aws/roles.yaml": counted.replace("value: 5}", "value: 5.0}")})
    assert diff_json(capsys, "--base", "HEAD") == {}


def test_a_hash_only_base_shows_no_invented_paths(repo: Path, capsys: pytest.CaptureFixture[str],
                                                  target: httpx.Client) -> None:
    del target
    assert vqr(capsys, "run", "--env", "sandbox", "--select", "tag:nightly", "--quiet")[0] == 0
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    code, out, _ = vqr(capsys, "diff", "--state", "reports/latest", "--format", "json")
    report = json.loads(out)
    (entry,) = report["queries"]
    assert code == 0 and entry["name"] == "aws-roles" and entry["envs"] == []
    assert any("did not run in the state run" in note for note in report["notes"])


def test_diff_selection_follows_the_ls_algebra(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "rm", "-q", "queries/aws/roles.yaml")
    write(repo, {"queries/okta/extra.yaml": query("extra", tags="[aws]"),
                 "queries/_fragments/active.yaml": INACTIVE})
    assert set(diff_json(capsys, "--base", "main", "--exclude", "tag:okta")) == {"extra", "aws-roles"}
    assert set(diff_json(capsys, "--base", "main", "--select", "tag:aws")) == {"extra"}
    assert set(diff_json(capsys, "--base", "main", "--select", "tag:aws", "--select", "state:removed")) == {
        "extra", "aws-roles"}


def test_state_results_are_borrowed_only_from_the_same_target(repo: Path, capsys: pytest.CaptureFixture[str],
                                                              target: httpx.Client,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    del target
    monkeypatch.delenv("VEZA_URL")  # the state run goes to the embedded sandbox ...
    monkeypatch.setenv("VQR_SANDBOX_NODES", "200")
    monkeypatch.setenv("VQR_SANDBOX_LATENCY", "0")
    assert vqr(capsys, "run", "--env", "sandbox", "--select", "tag:nightly", "--quiet")[0] == 0
    write(repo, {"queries/_fragments/active.yaml": INACTIVE})
    monkeypatch.setenv("VQR_SANDBOX_NODES", "250")  # ... and the preview to another graph
    code, out, err = vqr(capsys, "diff", "--base", "main", "--state", "reports/latest", "--run", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert {q["delta"]["source_before"] for q in report["queries"]} == {"ran"}
    assert any("its results are not borrowed" in note for note in report["notes"])


def test_preview_run_directories_are_kept_within_retention(repo: Path, capsys: pytest.CaptureFixture[str],
                                                           target: httpx.Client) -> None:
    del target
    write(repo, {"vqr.yaml": FILES["vqr.yaml"] + "retention: 2\n"})
    git(repo, "commit", "-qam", "retention")
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    for _ in range(4):
        assert vqr(capsys, "diff", "--base", "HEAD", "--run")[0] == 0
    for side in ("base", "head"):
        runs = [p for p in (repo / "reports" / "diff" / side).iterdir() if p.is_dir() and not p.is_symlink()]
        assert len(runs) == 2, runs
