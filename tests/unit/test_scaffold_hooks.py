"""The pre-commit hook: valid for pre-commit itself (its own config and manifest checks), built from vqr's repository
(no venv needed on PATH), passing the staged files; and `vqr lint PATHS` reports only those files' findings while
cross-file checks still see the whole repository."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from pre_commit.clientlib import load_config, load_manifest  # type: ignore[import-untyped]

from runner import __version__
from runner.scaffold import HOOK_REPOSITORY, scaffold_project
from tests.support import forked_cli

ROOT = Path(__file__).resolve().parents[2]
DRAFT = "name: wip\nspec: {query_type: NOT_A_TYPE}\n"  # an untracked draft with an error


def vqr_lint(repo: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VQR_NO_LINT_CACHE": "1"}
    return forked_cli.run(["lint", *paths], text=True,
                          cwd=repo, env=env, timeout=60)


def test_the_scaffolded_config_is_valid_for_pre_commit_and_needs_no_venv(tmp_path: Path) -> None:
    scaffold_project(tmp_path)
    config = load_config(str(tmp_path / ".pre-commit-config.yaml"))  # pre-commit's own schema; raises if invalid
    [repo] = config["repos"]
    assert (repo["repo"], repo["rev"]) == (HOOK_REPOSITORY, f"v{__version__}")  # not `local` + `language: system`
    assert [hook["id"] for hook in repo["hooks"]] == ["vqr-lint"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Repository"] == HOOK_REPOSITORY


def test_the_published_hook_and_this_repositorys_config_are_valid_and_pass_filenames() -> None:
    [hook] = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert (hook["id"], hook["language"], hook["pass_filenames"]) == ("vqr-lint", "python", True)
    [local] = load_config(str(ROOT / ".pre-commit-config.yaml"))["repos"]
    assert local["hooks"][0]["pass_filenames"] is True


def test_an_untracked_draft_does_not_fail_the_staged_files(tmp_path: Path) -> None:
    scaffold_project(tmp_path)
    (tmp_path / "queries" / "wip.yaml").write_text(DRAFT, encoding="utf-8")
    staged = vqr_lint(tmp_path, "queries/okta-users-with-s3-write.yaml")  # what pre-commit passes
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert staged.stdout == "1 file clean\n"
    whole = vqr_lint(tmp_path)  # CI, and `pre-commit run --all-files` on tracked files, still see everything
    assert whole.returncode == 1 and "queries/wip.yaml" in whole.stdout


def test_a_name_collision_with_an_unstaged_file_is_still_reported(tmp_path: Path) -> None:
    scaffold_project(tmp_path)
    example = tmp_path / "queries" / "okta-users-with-s3-write.yaml"
    # `zz.yaml` sorts after the staged file, so the rule reports the collision on zz.yaml, which is not passed.
    (tmp_path / "queries" / "zz.yaml").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    staged = vqr_lint(tmp_path, "queries/okta-users-with-s3-write.yaml")
    assert staged.returncode == 1 and "query/duplicate-name" in staged.stdout, staged.stdout + staged.stderr


def test_a_staged_fragment_reports_every_query(tmp_path: Path) -> None:
    scaffold_project(tmp_path)
    (tmp_path / "queries" / "wip.yaml").write_text(DRAFT, encoding="utf-8")
    found = vqr_lint(tmp_path, "queries/_fragments/active_okta_user.yaml")
    assert found.returncode == 1 and "queries/wip.yaml" in found.stdout, found.stdout + found.stderr
