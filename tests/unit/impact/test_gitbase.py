"""`checkout_base` against real git repositories: the project in a subdirectory, absent at the ref, hostile refs, a
shallow clone, a base symlink out of the repository, `export-ignore`, the user's index and work tree, and the
environment git is given (never the API key)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runner.errors import UsageError
from runner.impact.gitbase import checkout_base, git_environment
from tests.acceptance.impact_repo import FILES, git, listed, query, repo, vqr, write

__all__ = ["repo"]

CANARY = "canary-5b1e77d0c2a9-gitbase"


def base_of(project: Path, ref: str, tmp_path: Path) -> Path | None:
    into = tmp_path / "into"
    into.mkdir(exist_ok=True)
    return checkout_base(project, ref, into, variables=os.environ).root


def test_a_project_in_a_subdirectory_is_checked_out_as_that_subdirectory(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    write(top, {"README": "not the project\n", **{f"tools/vqr/{name}": text for name, text in FILES.items()}})
    git(top, "add", "-A")
    git(top, "commit", "-qm", "base")
    root = base_of(top / "tools" / "vqr", "main", tmp_path)
    assert root is not None
    assert (root / "vqr.yaml").read_text() == FILES["vqr.yaml"]
    assert (root / "queries" / "aws" / "roles.yaml").is_file() and not (root / "README").exists()
    assert not (root / "tools").exists()


def test_a_project_absent_at_the_ref_has_no_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    top = tmp_path / "mono"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    write(top, {"README": "before the project\n"})
    git(top, "add", "-A")
    git(top, "commit", "-qm", "empty")
    write(top, {f"proj/{name}": text for name, text in FILES.items()})
    git(top, "add", "-A")
    git(top, "commit", "-qm", "project")
    assert base_of(top / "proj", "HEAD~1", tmp_path) is None
    monkeypatch.chdir(top / "proj")
    monkeypatch.setenv("VQR_NO_LINT_CACHE", "1")
    code, _, err = vqr(capsys, "ls", "--base", "HEAD~1", "--select", "state:new")
    assert code == 0 and "did not exist at HEAD~1" in err
    assert len(listed(capsys, "--base", "HEAD~1", "--select", "state:new")) == 6


@pytest.mark.parametrize("ref", ["--output=x", "-h", "--exec-path=/tmp", "main\0--output=x", "", "no-such-ref",
                                 "main:queries", "main\n--output=y"])
def test_a_ref_that_is_an_option_or_holds_a_nul_is_refused(repo: Path, tmp_path: Path, ref: str) -> None:
    before = sorted(p.name for p in repo.iterdir())
    with pytest.raises(UsageError) as refused:
        base_of(repo, ref, tmp_path)
    assert "\n" not in str(refused.value) and str(refused.value).startswith("--base ")
    assert sorted(p.name for p in repo.iterdir()) == before  # no `x` written by an option smuggled in


def test_a_shallow_clone_without_the_base_commit_says_fetch_depth(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    git(repo, "commit", "-qam", "head")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    for ref in ("HEAD~1", first):
        with pytest.raises(UsageError, match="fetch-depth") as refused:
            base_of(clone, ref, tmp_path)
        assert "\n" not in str(refused.value)
    assert base_of(clone, "HEAD", tmp_path) is not None


@pytest.mark.parametrize("relative", [False, True])
def test_a_base_symlink_out_of_the_repository_is_refused_unread(repo: Path, tmp_path: Path, relative: bool,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(query("stolen-secret", tags="[aws]"))
    link = repo / "queries" / "aws" / "evil.yaml"
    link.symlink_to("../" * 40 + str(outside).lstrip("/") if relative else outside)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a link out of the repository")
    git(repo, "rm", "-q", "queries/aws/evil.yaml")  # the head no longer has it: only the base's link is compiled
    states = listed(capsys, "--base", "HEAD", "--select", "state:removed", "--select", "state:new")
    assert states == {}  # the outside query was never read: it is neither removed nor anything else
    code, _, err = vqr(capsys, "ls", "--base", "HEAD")
    assert code == 0 and "stolen-secret" not in err and "1 base file(s) have errors (queries/aws/evil.yaml)" in err
    assert not any("stolen" in name for name in listed(capsys, "--base", "HEAD"))


def test_export_ignore_does_not_hide_files_from_the_base(repo: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {".gitattributes": "queries/aws/** export-ignore\nvqr.yaml export-ignore\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "export-ignore")
    root = base_of(repo, "HEAD", tmp_path)
    assert root is not None and (root / "vqr.yaml").is_file() and (root / "queries" / "aws" / "roles.yaml").is_file()
    assert set(listed(capsys, "--base", "HEAD", "--select", "state:removed,tag:aws", "--select", "state:new")) == set()
    assert {"aws-roles", "aws-s3bucket"} <= set(listed(capsys, "--base", "HEAD", "--select", "state:unchanged"))


def test_the_users_index_and_work_tree_survive(repo: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    git(repo, "add", "queries/aws/roles.yaml")  # staged
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="S3Bucket", tags="[aws]"),  # and changed again
                 "queries/okta/active-admins.yaml": "# unstaged\n" + FILES["queries/okta/active-admins.yaml"],
                 "untracked.txt": "mine\n"})
    index = (repo / ".git" / "index").read_bytes()
    before = (git(repo, "diff", "--cached"), git(repo, "diff"), git(repo, "status", "--porcelain=v2", "-uall"),
              git(repo, "rev-parse", "HEAD"))
    root = base_of(repo, "main", tmp_path)
    assert root is not None and "AwsIamRole" in (root / "queries" / "aws" / "roles.yaml").read_text()
    assert listed(capsys, "--base", "main", "--select", "state:modified") == {"aws-roles": "modified"}
    assert (git(repo, "diff", "--cached"), git(repo, "diff"), git(repo, "status", "--porcelain=v2", "-uall"),
            git(repo, "rev-parse", "HEAD")) == before
    assert (repo / ".git" / "index").read_bytes() == index
    assert "S3Bucket" in (repo / "queries" / "aws" / "roles.yaml").read_text()
    assert (repo / "untracked.txt").read_text() == "mine\n"


def test_git_environment_keeps_what_git_needs_and_drops_secrets() -> None:
    given = {"PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "GIT_CONFIG_GLOBAL": "/g", "GIT_DIR": "/d",
             "GIT_INDEX_FILE": "/elsewhere", "GIT_WORK_TREE": "/w", "VEZA_API_KEY": CANARY,
             "VEZA_API_KEY_FILE": "/k", "VEZA_URL": "https://v", "AWS_SECRET_ACCESS_KEY": CANARY,
             "GITHUB_TOKEN": CANARY, "LD_PRELOAD": "/evil.so"}
    assert git_environment(given) == {"PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8",
                                      "GIT_CONFIG_GLOBAL": "/g", "GIT_DIR": "/d"}


def test_git_runs_without_the_api_key(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A fake git first on PATH records the environment of every git command vqr runs, then runs the real one."""
    real = next(Path(d) / "git" for d in os.environ["PATH"].split(os.pathsep) if (Path(d) / "git").is_file())
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text(f'#!/bin/sh\nenv > "{dumps}/$$.env"\necho "$@" > "{dumps}/$$.args"\n'
                              f'exec "{real}" "$@"\n')
    (fake / "git").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("VEZA_API_KEY", CANARY)
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "hostile-index"))
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
    assert listed(capsys, "--base", "main", "--select", "state:modified") == {"aws-roles": "modified"}
    envs = [p.read_text() for p in dumps.glob("*.env")]
    commands = " ".join(p.read_text() for p in dumps.glob("*.args"))
    assert len(envs) >= 4 and "read-tree" in commands and "checkout-index" in commands
    assert all(CANARY not in text and "VEZA_API_KEY" not in text for text in envs)
    assert all(str(tmp_path / "hostile-index") not in text for text in envs)  # the private index, always
    assert not (tmp_path / "hostile-index").exists()
