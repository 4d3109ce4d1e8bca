"""`state:` selectors against a real git repository: exactly the queries whose rendered create body changes in
some environment are modified, whatever kind of file the change is in; selectors combine as documented; the work
tree, the index and HEAD are never touched; bad bases are one-line usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.impact_repo import FILES, FRAGMENT, git, listed, query, repo, vqr, write

__all__ = ["repo"]  # the fixture, imported for pytest

ALL = {"active-users", "active-admins", "by-department", "aws-roles", "aws-awsiamuser", "aws-s3bucket"}


def changed(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, set[str]]:
    """{state: names} of every query the comparison does not call unchanged, removed ones included."""
    out: dict[str, set[str]] = {}
    for state in ("new", "modified", "removed"):
        out[state] = set(listed(capsys, "--select", f"state:{state}", *args))
    return out


def test_nothing_changed_selects_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert changed(capsys, "--base", "main") == {"new": set(), "modified": set(), "removed": set()}
    assert set(listed(capsys, "--select", "state:unchanged", "--base", "main")) == ALL


def test_a_changed_query_is_modified(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    assert changed(capsys, "--base", "main") == {"new": set(), "modified": {"aws-roles"}, "removed": set()}


def test_a_fragment_change_reaches_exactly_the_queries_that_use_it(repo: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/_fragments/active.yaml": "specs:\n  - {fn: EQ, property: is_active, value: false}\n"})
    assert changed(capsys, "--base", "main")["modified"] == {"active-users", "active-admins"}


def test_a_vars_file_change_reaches_one_environment_only(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/vars/prod.yaml": "department: Finance\n"})
    assert changed(capsys, "--base", "main")["modified"] == {"by-department"}
    # --env narrows the comparison: the sandbox renders the same body as before.
    assert changed(capsys, "--base", "main", "--env", "sandbox")["modified"] == set()
    assert changed(capsys, "--base", "main", "--env", "prod")["modified"] == {"by-department"}


def test_a_matrix_change_adds_and_removes_generated_queries(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/per-type.yaml": FILES["queries/aws/per-type.yaml"].replace(
        "[AwsIamUser, S3Bucket]", "[AwsIamUser, AwsIamRole]")})
    assert changed(capsys, "--base", "main") == {"new": {"aws-awsiamrole"}, "modified": set(),
                                                  "removed": {"aws-s3bucket"}}
    # A removed query is listed only by a selector that asks for removed ones.
    assert "aws-s3bucket" not in listed(capsys, "--select", "tag:aws", "--base", "main")
    assert listed(capsys, "--select", "state:removed,tag:aws", "--base", "main") == {"aws-s3bucket": "removed"}


def test_a_comment_or_a_reformat_marks_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": "# who owns this?\n" + FILES["queries/aws/roles.yaml"],
                 "queries/_fragments/active.yaml": "# shared\n" + FRAGMENT,
                 "vqr.yaml": FILES["vqr.yaml"] + "# a trailing comment\n",
                 # `null` and absence are the same "unset" to Veza: no change to the body's meaning.
                 "queries/okta/active-admins.yaml": FILES["queries/okta/active-admins.yaml"].replace(
                     "  result_value_type: SOURCE_NODES\n",
                     "  result_value_type: SOURCE_NODES\n  relates_to_exp: null\n")})
    assert changed(capsys, "--base", "main") == {"new": set(), "modified": set(), "removed": set()}


def test_a_renamed_file_with_an_unchanged_query_is_not_modified(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "mv", "queries/aws/roles.yaml", "queries/aws/iam-roles.yaml")
    assert changed(capsys, "--base", "main") == {"new": set(), "modified": set(), "removed": set()}


def test_a_project_default_change_marks_the_queries_it_changes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"vqr.yaml": FILES["vqr.yaml"].replace("max_staleness: 24h", "max_staleness: 12h"),
                 "queries/aws/roles.yaml": FILES["queries/aws/roles.yaml"].replace(
                     "tags: [aws]\n", "tags: [aws]\ncache: {mode: immediate}\n")})
    # Every query inherits the default staleness (part of its create body) except aws-roles, whose own cache
    # mode changed instead: all six are modified, for different reasons.
    assert changed(capsys, "--base", "main")["modified"] == ALL


def test_selectors_union_intersection_and_exclude(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/_fragments/active.yaml": "specs:\n  - {fn: EQ, property: is_active, value: false}\n",
                 "queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    base = ("--base", "main")
    assert set(listed(capsys, "--select", "state:modified", *base)) == {"active-users", "active-admins", "aws-roles"}
    # A,B: both (intersection); repeated --select: either (union); --exclude removes from the result.
    assert set(listed(capsys, "--select", "state:modified,tag:nightly", *base)) == {"active-users"}
    assert set(listed(capsys, "--select", "state:modified,tag:okta", "--select", "tag:aws", *base)) == {
        "active-users", "active-admins", "aws-roles", "aws-awsiamuser", "aws-s3bucket"}
    assert set(listed(capsys, "--select", "state:modified", "--exclude", "tag:okta", *base)) == {"aws-roles"}
    assert set(listed(capsys, "--select", "tag:okta", "--exclude", "state:modified", *base)) == {"by-department"}
    states = listed(capsys, *base)
    assert states["aws-roles"] == "modified" and states["by-department"] == "unchanged"


def test_the_work_tree_index_and_head_are_untouched(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    git(repo, "add", "queries/aws/roles.yaml")
    write(repo, {"queries/okta/extra.yaml": query("extra")})  # untracked
    before = (git(repo, "status", "--porcelain=v2"), git(repo, "rev-parse", "HEAD"), git(repo, "diff", "--cached"))
    assert changed(capsys, "--base", "main") == {"new": {"extra"}, "modified": {"aws-roles"}, "removed": set()}
    assert (git(repo, "status", "--porcelain=v2"), git(repo, "rev-parse", "HEAD"),
            git(repo, "diff", "--cached")) == before


def test_a_committed_head_compares_with_its_parent(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    git(repo, "commit", "-qam", "head")
    assert changed(capsys, "--base", "HEAD~1")["modified"] == {"aws-roles"}
    assert changed(capsys, "--base", "HEAD")["modified"] == set()


def test_the_selectors_work_on_lint_render_and_run_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    code, out, _ = vqr(capsys, "render", "--select", "state:modified", "--base", "main")
    assert code == 0 and set(json.loads(out)) == {"aws-roles"}
    code, out, _ = vqr(capsys, "lint", "--select", "state:modified", "--base", "main", "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["files_checked"] == 1
    # A changed file that no longer compiles has no query to select, yet lint reports it.
    write(repo, {"queries/okta/active-admins.yaml": "name: active-admins\nspec: [not, a, spec]\n"})
    code, out, _ = vqr(capsys, "lint", "--select", "state:modified", "--base", "main", "--format", "json")
    assert code == 1 and {f["path"] for f in json.loads(out)["findings"]} == {"queries/okta/active-admins.yaml"}


def test_nothing_changed_is_nothing_to_run_not_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = vqr(capsys, "run", "--select", "state:modified", "--base", "main")
    assert code == 0 and "nothing to run" in err
    assert not (repo / "reports").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("ls", "--select", "state:modified"), "needs a base"),
    (("ls", "--select", "state:changed", "--base", "main"), "unknown state"),
    (("ls", "--select", "state:modified,", "--base", "main"), "empty selector term"),
    (("ls", "--select", "state:modified", "--base", "no-such-branch"), "no such commit"),
    (("ls", "--select", "state:modified", "--base", "--help"), "wants a git ref"),
    (("ls", "--select", "state:new", "--state", "reports/latest"), "no readable run.json"),
    (("diff",), "--base REF"),
])
def test_bad_bases_and_selectors_are_one_line_usage_errors(repo: Path, capsys: pytest.CaptureFixture[str],
                                                           args: tuple[str, ...], message: str) -> None:
    code, out, err = vqr(capsys, *args)
    assert code == 2, (out, err)
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_outside_a_git_repository_base_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "plain", dict(FILES))
    monkeypatch.chdir(tmp_path / "plain")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, _, err = vqr(capsys, "ls", "--select", "state:modified", "--base", "main")
    assert code == 2 and "git repository" in err


def test_a_changed_file_that_breaks_is_modified_not_removed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": "name: aws-roles\nspec: [broken]\n"})
    assert changed(capsys, "--base", "main") == {"new": set(), "modified": set(), "removed": set()} | {
        "modified": set()}  # ls lists head queries only: the broken one has none to list ...
    code, out, _ = vqr(capsys, "lint", "--select", "state:modified", "--base", "main", "--format", "json")
    assert code == 1 and {f["path"] for f in json.loads(out)["findings"]} == {"queries/aws/roles.yaml"}


def test_state_dir_compares_with_the_bodies_a_run_recorded(repo: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VQR_SANDBOX_NODES", "200")
    monkeypatch.setenv("VQR_SANDBOX_LATENCY", "0")
    code, _, err = vqr(capsys, "run", "--env", "sandbox", "--select", "tag:nightly", "--quiet")
    assert code == 0, err
    run = json.loads((repo / "reports" / "latest" / "run.json").read_text())
    # Every query of the repository has its body hash, not only the two that ran.
    assert set(run["bodies"]) == ALL and {q["name"] for q in run["queries"]} == {"active-users", "by-department"}
    write(repo, {"queries/_fragments/active.yaml": "specs:\n  - {fn: EQ, property: is_active, value: false}\n",
                 "queries/okta/new-one.yaml": query("new-one")})
    git(repo, "rm", "-q", "queries/aws/roles.yaml")
    # The removed query did not run in the state run: it is known by its name and recorded hash.
    assert changed(capsys, "--state", "reports/latest") == {
        "new": {"new-one"}, "modified": {"active-users", "active-admins"}, "removed": {"aws-roles"}}
    code, _, err = vqr(capsys, "ls", "--state", "reports/latest", "--env", "prod")
    assert code == 2 and "environment 'sandbox'" in err


def test_a_context_mode_query_is_compared_by_its_spec(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its create body names only `cache_id: previous`, yet a changed spec changes what it reuses and runs."""
    context = "tags: [aws]\ncache: {mode: context, cache_id: previous}\n"
    write(repo, {"queries/aws/roles.yaml": FILES["queries/aws/roles.yaml"].replace("tags: [aws]\n", context)})
    git(repo, "commit", "-qam", "context mode")
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]").replace(
        "tags: [aws]\n", context)})
    assert changed(capsys, "--base", "HEAD")["modified"] == {"aws-roles"}
    code, out, _ = vqr(capsys, "diff", "--base", "HEAD")
    assert code == 0 and 'spec.source_node_types.nodes[0].node_type: "AwsIamRole" → "AwsIamUser"' in out
