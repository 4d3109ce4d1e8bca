"""A git repository fixture for the change-impact tests: a small query project with two environments, a fragment
shared by two queries, a vars file per environment and a matrix, committed as a base; tests then edit the work
tree (and commit it as a head where they need one) and ask vqr what changed. `veza`/`target`: a sandbox over HTTP
that `vqr diff --run` reaches through VEZA_URL."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runner.cli import main
from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.sandbox_fixtures import TEST_KEY, client_for, running_sandbox

PROJECT = """\
queries: queries/
reports: reports/
defaults:
  cache: {mode: if_available, max_staleness: 24h}
environments:
  sandbox: {url: embedded, vars_files: [queries/vars/sandbox.yaml]}
  prod: {url: "https://veza.invalid", api_key_env: VEZA_API_KEY, vars_files: [queries/vars/prod.yaml]}
"""

FRAGMENT = "specs:\n  - {fn: EQ, property: is_active, value: true}\n"
INACTIVE = FRAGMENT.replace("true", "false")


def query(name: str, *, node_type: str = "OktaUser", condition: str | None = None, tags: str = "[test]",
          comment: str = "") -> str:
    where = f"        condition_expression: {condition}\n" if condition else ""
    return (f"{comment}name: {name}\ntags: {tags}\nspec:\n  query_type: SOURCE_TO_DESTINATION\n"
            f"  source_node_types:\n    nodes:\n      - node_type: {node_type}\n{where}"
            "  result_value_type: SOURCE_NODES\n")


FILES = {
    "vqr.yaml": PROJECT,
    "queries/_fragments/active.yaml": FRAGMENT,
    "queries/vars/sandbox.yaml": "department: Engineering\n",
    "queries/vars/prod.yaml": "department: Engineering\n",
    "queries/okta/active-users.yaml": query("active-users", condition='"{{ fragments.active }}"',
                                            tags="[okta, nightly]"),
    "queries/okta/active-admins.yaml": query("active-admins", condition='"{{ fragments.active }}"', tags="[okta]"),
    "queries/okta/by-department.yaml": query(
        "by-department", condition="{specs: [{fn: EQ, property: department, value: \"{{ department }}\"}]}",
        tags="[okta, nightly]"),
    "queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamRole", tags="[aws]"),
    "queries/aws/per-type.yaml": ("name: \"aws-{{ kind | lower }}\"\ntags: [aws]\n"
                                  "matrix:\n  kind: [AwsIamUser, S3Bucket]\n"
                                  "spec:\n  query_type: SOURCE_TO_DESTINATION\n"
                                  "  source_node_types: {nodes: [{node_type: \"{{ kind }}\"}]}\n"
                                  "  result_value_type: SOURCE_NODES\n"),
}


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(root.parent)}
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env, check=True, timeout=60)
    return done.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The base committed on `main`; the work tree is the head until a test commits."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, FILES)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    monkeypatch.chdir(root)
    monkeypatch.setenv("VQR_NO_LINT_CACHE", "1")
    monkeypatch.delenv("VQR_ENV", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    yield root


def vqr(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real command line in-process (click parsing and the error boundary included): (exit code, out, err)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    """`vqr ls --format json ARGS` as {name: state}."""
    code, out, err = vqr(capsys, "ls", "--format", "json", *args)
    assert code == 0, err
    return {row["name"]: row.get("state", "") for row in json.loads(out)}


@pytest.fixture(scope="module")
def veza() -> Iterator[EmbeddedSandbox]:
    """A sandbox over HTTP for a module's `vqr diff --run` tests."""
    with running_sandbox(nodes=400, latency=0.0) as sandbox:
        yield sandbox


@pytest.fixture
def target(veza: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """Every run of the test goes to the module's sandbox (VEZA_URL overrides the environment's url), reset."""
    monkeypatch.setenv("VEZA_URL", veza.url)
    monkeypatch.setenv("VEZA_API_KEY", TEST_KEY)
    with client_for(veza) as client:
        assert client.post("/_sandbox/reset").status_code == 200
        yield client
