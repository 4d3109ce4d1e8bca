"""The repository path policy on vqr.yaml's paths: `vars_files:`, `queries:` and `schemas:` that leave the project
(`../`, absolute, or a symlink) are a ProjectError at the value's line and column, exit 2 through the CLI; a vars file
is read under the policy; `--vars-file` may be outside the project, never a FIFO. Real files, a real CLI process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.errors import ProjectError, UsageError
from runner.settings import load_project, resolve_variables
from tests.support import forked_cli

PROJECT = """\
queries: {queries}
environments:
  prod:
    url: https://acme.vezacloud.com
    vars_files: [vars/prod.yaml, {vars_file}]
"""
SECRET = "root:x:0:0:SECRETLINE:/root:/bin/bash\n"


def _project(root: Path, *, queries: str = "queries/", vars_file: str = "vars/more.yaml") -> Path:
    root.mkdir(exist_ok=True)
    (root / "vqr.yaml").write_text(PROJECT.format(queries=queries, vars_file=vars_file))
    (root / "vars").mkdir(exist_ok=True)
    (root / "vars" / "prod.yaml").write_text("a: 1\n")
    (root / "queries").mkdir(exist_ok=True)
    return root / "vqr.yaml"


@pytest.mark.parametrize(("vars_file", "column"), [("../x.yaml", 34), ("/etc/passwd", 34)])
def test_vars_files_leaving_the_project_are_refused_at_their_place(tmp_path: Path, vars_file: str,
                                                                   column: int) -> None:
    (tmp_path / "x.yaml").write_text(SECRET)
    root = tmp_path / "repo"
    with pytest.raises(ProjectError) as caught:
        load_project(_project(root, vars_file=vars_file))
    message = str(caught.value)
    assert f"vqr.yaml:5:{column}: error: vars_files entry '{vars_file}' " in message
    assert "outside the project directory" in message and "[path/outside-project]" in message
    assert "SECRETLINE" not in message and "root:x" not in message


@pytest.mark.parametrize("queries", ["../", "/etc", ".."])
def test_queries_outside_the_project_are_refused(tmp_path: Path, queries: str) -> None:
    with pytest.raises(ProjectError, match=r"vqr.yaml:1:10: error: queries .* outside the project directory"):
        load_project(_project(tmp_path / "repo", queries=queries))


def test_a_queries_dir_symlinked_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "q").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ProjectError, match=r"queries 'q' leads outside the project directory \(through a symbolic"):
        load_project(_project(root, queries="q"))


def test_a_vars_file_symlinked_outside_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(SECRET)
    root = tmp_path / "repo"
    project = load_project(_project(root))
    (root / "vars" / "more.yaml").symlink_to(tmp_path / "passwd")
    # The static check at load time already refuses an existing link; this is the read-time policy (a link made
    # after loading, or one given with --vars-file inside the project).
    with pytest.raises(UsageError) as caught:
        resolve_variables(project, project.environment("prod"))
    assert "vars/more.yaml:1:1: error: leads outside the project directory" in str(caught.value)
    assert "SECRETLINE" not in str(caught.value)
    with pytest.raises(ProjectError, match=r"vars_files entry 'vars/more\.yaml' leads outside"):
        load_project(root / "vqr.yaml")


def test_a_fifo_vars_file_is_refused_without_blocking(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    project = load_project(_project(root))
    os.mkfifo(root / "vars" / "more.yaml")
    with pytest.raises(UsageError, match=r"vars/more.yaml:1:1: error: is a FIFO \(named pipe\), not a regular file"):
        resolve_variables(project, project.environment("prod"))


def test_a_cli_vars_file_may_be_outside_but_not_a_link_out_of_the_project(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    project = load_project(_project(root))
    (root / "vars" / "more.yaml").write_text("b: 2\n")
    operator = tmp_path / "ci-vars.yaml"
    operator.write_text("c: 3\n")
    merged = resolve_variables(project, project.environment("prod"), vars_files=[operator])
    assert (merged["a"], merged["b"], merged["c"]) == (1, 2, 3)
    (root / "link.yaml").symlink_to(operator)
    with pytest.raises(UsageError, match=r"link\.yaml:1:1: error: leads outside the project directory"):
        resolve_variables(project, project.environment("prod"), vars_files=[root / "link.yaml"])


def test_project_schemas_that_are_fifos_or_links_out_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _project(root)
    (root / "vars" / "more.yaml").write_text("b: 2\n")
    schemas = root / "schemas"
    schemas.mkdir()
    (schemas / "query-spec.schema.json").write_text("{}")
    os.mkfifo(schemas / "query-file.schema.json")
    (tmp_path / "secret.json").write_text('{"token": "SECRETLINE"}')
    (schemas / "project.schema.json").symlink_to(tmp_path / "secret.json")
    with pytest.raises(ProjectError) as caught:
        load_project(root / "vqr.yaml")
    message = str(caught.value)
    assert "schema file query-file.schema.json is a FIFO (named pipe)" in message
    assert "schema file project.schema.json leads outside the project directory" in message
    assert "SECRETLINE" not in message


def test_a_vqr_yaml_symlinked_elsewhere_keeps_the_project_where_the_link_is(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    _project(elsewhere)
    (elsewhere / "vars" / "more.yaml").write_text("b: 2\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "vqr.yaml").symlink_to(elsewhere / "vqr.yaml")
    with pytest.raises(ProjectError, match=r"vqr.yaml:1:1: error: leads outside the project directory"):
        load_project(root / "vqr.yaml")


def test_the_cli_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(SECRET)
    root = tmp_path / "repo"
    _project(root, vars_file="../x.yaml")
    done = forked_cli.run(["lint"], cwd=root, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "vqr: invalid project file:",
        "vqr.yaml:5:34: error: vars_files entry '../x.yaml' is outside the project directory; vqr reads only files "
        "inside the directory of vqr.yaml [path/outside-project]"]
