"""The repository path policy, attacked through the real `vqr lint` (subprocesses on a scaffolded repository): a pull
request's symlinks, FIFOs and device links are refused unread, at the file, and nothing of their target is printed in
any format. Every subprocess has a timeout, so a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.scaffold import scaffold_project
from tests.support import forked_cli

KEY_MARKER = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQFAKEKEY"
FAKE_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_MARKER}\n-----END OPENSSH PRIVATE KEY-----\n"
SECRET_ENV = "VEZA_API_KEY=sk-live-SECRETVALUE123\nDB_PASSWORD=hunter2\n"
QUERY = "okta-users-with-s3-write.yaml"


def vqr(*args: str, cwd: Path, timeout: float = 30, **env: str) -> subprocess.CompletedProcess[str]:
    merged = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    merged.update(env)
    return forked_cli.run(args, cwd=cwd, text=True,
                          env=merged, timeout=timeout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    scaffold_project(root)
    (tmp_path / "outside").mkdir()
    return root


def _use_fragment_k(repo: Path) -> None:
    query = repo / "queries" / QUERY
    query.write_text(query.read_text().replace("- node_type: OktaUser", '- node_type: "{{ fragments.k }}"'))


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_fragment_symlinked_to_a_key_outside_is_refused_and_never_printed(repo: Path, fmt: str) -> None:
    key = repo.parent / "outside" / "id_rsa"
    key.write_text(FAKE_KEY)
    (repo / "queries" / "_fragments" / "k.yaml").symlink_to(key)
    _use_fragment_k(repo)
    summary = repo.parent / "summary.md"
    done = vqr("lint", "--format", fmt, cwd=repo, GITHUB_STEP_SUMMARY=str(summary))
    shown = done.stdout + done.stderr + (summary.read_text() if summary.exists() else "")
    assert done.returncode == 1, shown
    assert KEY_MARKER not in shown and "PRIVATE KEY" not in shown
    assert "queries/_fragments/k.yaml" in shown and "path/outside-project" in shown
    assert "Traceback" not in shown
    if fmt == "json":
        found = json.loads(done.stdout)
        rows = found["findings"] if isinstance(found, dict) else found
        assert any(f["rule"] == "path/outside-project" and f["line"] == 1 for f in rows)


def test_a_query_symlinked_to_secret_env_is_refused_unquoted(repo: Path) -> None:
    secret = repo.parent / "outside" / "secret.env"
    secret.write_text(SECRET_ENV)
    (repo / "queries" / "leak.yaml").symlink_to(secret)
    done = vqr("lint", cwd=repo)
    assert done.returncode == 1
    assert "SECRETVALUE" not in done.stdout + done.stderr and "hunter2" not in done.stdout + done.stderr
    assert ("queries/leak.yaml:1:1: error: leads outside the project directory (through a symbolic link); vqr reads "
            "only files inside the directory of vqr.yaml [path/outside-project]") in done.stdout


def test_a_symlink_inside_the_project_is_still_followed(repo: Path) -> None:
    (repo / "shared").mkdir()
    (repo / "queries" / QUERY).rename(repo / "shared" / QUERY)
    (repo / "queries" / QUERY).symlink_to(Path("..") / "shared" / QUERY)
    done = vqr("lint", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_fifo_in_fragments_does_not_hang_lint(repo: Path) -> None:
    os.mkfifo(repo / "queries" / "_fragments" / "pipe.yaml")
    started = time.monotonic()
    done = vqr("lint", cwd=repo, timeout=20)
    assert time.monotonic() - started < 10
    assert done.returncode == 1
    assert ("queries/_fragments/pipe.yaml:1:1: error: is a FIFO (named pipe), not a regular file; vqr reads only "
            "regular files [path/not-a-file]") in done.stdout


def test_a_fifo_query_file_named_on_the_command_line_does_not_hang(repo: Path) -> None:
    os.mkfifo(repo / "queries" / "pipe.yaml")
    done = vqr("lint", "queries/pipe.yaml", cwd=repo, timeout=20)
    assert done.returncode == 1
    assert "queries/pipe.yaml:1:1: error: is a FIFO" in done.stdout


def test_a_dev_stdin_symlink_in_fragments_does_not_hang_or_read_stdin(repo: Path) -> None:
    (repo / "queries" / "_fragments" / "in.yaml").symlink_to("/dev/stdin")
    # stdin is an open pipe nobody writes to: reading it would block for good.
    process = subprocess.Popen([sys.executable, "-m", "runner", "lint"], cwd=repo, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 1, out + err
    assert "queries/_fragments/in.yaml:1:1: error:" in out and "[path/" in out


def test_a_query_directory_symlinked_outside_is_not_walked(repo: Path) -> None:
    outside = repo.parent / "outside"
    (outside / "stolen.yaml").write_text(SECRET_ENV)
    (repo / "queries" / "elsewhere").symlink_to(outside, target_is_directory=True)
    done = vqr("lint", "--format", "json", cwd=repo)
    assert done.returncode == 0, done.stdout
    assert "SECRETVALUE" not in done.stdout + done.stderr


def test_a_huge_integer_in_a_query_is_a_finding_not_an_internal_error(repo: Path) -> None:
    query = repo / "queries" / QUERY
    query.write_text(query.read_text().replace("rows: {max: 500}", "rows: {max: " + "9" * 4301 + "}"))
    done = vqr("lint", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert f"queries/{QUERY}:20:17: error: '999" in done.stdout
    assert "does not fit in a 64-bit integer" in done.stdout


def test_a_huge_integer_in_vqr_yaml_is_exit_2_at_its_line(repo: Path) -> None:
    project = repo / "vqr.yaml"
    project.write_text(project.read_text().replace("lookback_days: 90", "lookback_days: " + "1" * 4301))
    done = vqr("lint", cwd=repo)
    assert done.returncode == 2, done.stderr
    assert "vqr.yaml:18:18: error:" in done.stderr and "does not fit in a 64-bit integer" in done.stderr
    assert "Traceback" not in done.stderr
