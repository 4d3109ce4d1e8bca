"""Project file discovery, environments and the documented variable precedence, on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ProjectError, UsageError
from runner.settings import find_project_file, load_project, parse_cli_var, read_env, resolve_variables

PROJECT = """\
queries: queries/
vars: {a: project, b: project, c: project, d: project, e: project}
environments:
  prod:
    url: https://acme.vezacloud.com
    vars: {b: env}
    vars_files: [vars/prod.yaml]
"""


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    (tmp_path / "vqr.yaml").write_text(PROJECT)
    (tmp_path / "vars").mkdir()
    (tmp_path / "vars" / "prod.yaml").write_text("c: env-file\nd: env-file\ne: env-file\n")
    (tmp_path / "extra.yaml").write_text("d: cli-file\ne: cli-file\n")
    (tmp_path / "queries" / "deep").mkdir(parents=True)
    return tmp_path / "vqr.yaml"


def test_project_file_is_found_walking_up(project_file: Path) -> None:
    assert find_project_file(project_file.parent / "queries" / "deep") == project_file.resolve()


def test_missing_project_file_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="vqr init"):
        find_project_file(tmp_path)


def test_variable_precedence_lowest_first(project_file: Path) -> None:
    project = load_project(project_file)
    env = project.environment("prod")
    merged = resolve_variables(project, env, vars_files=[project_file.parent / "extra.yaml"], cli_vars=["e=cli"])
    assert merged["a"] == "project"
    assert merged["b"] == "env"
    assert merged["c"] == "env-file"
    assert merged["d"] == "cli-file"
    assert merged["e"] == "cli"
    assert merged["environment"] == "prod"


def test_environment_selection(project_file: Path) -> None:
    project = load_project(project_file)
    assert project.environment(None, read_env({})).url == "embedded"  # sandbox needs no configuration
    assert project.environment(None, read_env({"VQR_ENV": "prod"})).name == "prod"
    assert project.environment("sandbox", read_env({"VQR_ENV": "prod"})).name == "sandbox"  # --env wins
    with pytest.raises(UsageError, match="unknown environment 'stage'"):
        project.environment("stage")


@pytest.mark.parametrize(("text", "value"), [("n=30", 30), ("s=abc", "abc"), ('l=["x",1]', ["x", 1]),
                                             ("b=true", True), ("e=", "")])
def test_cli_var_values_are_json_when_they_parse(text: str, value: object) -> None:
    assert parse_cli_var(text)[1] == value


def test_bad_cli_var_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_cli_var("no equals sign")


def test_vars_file_must_be_a_mapping(project_file: Path) -> None:
    (project_file.parent / "extra.yaml").write_text("- a\n- b\n")
    project = load_project(project_file)
    with pytest.raises(UsageError, match="mapping"):
        resolve_variables(project, project.environment("prod"), vars_files=[project_file.parent / "extra.yaml"])


def test_process_env_is_read_once_and_never_shows_the_variables(tmp_path: Path) -> None:
    process = read_env({"VEZA_API_KEY": "canary-key-123", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md"),
                        "VQR_SANDBOX_NODES": "50", "XDG_CACHE_HOME": str(tmp_path), "VQR_NO_LINT_CACHE": "0"})
    assert "canary-key-123" not in repr(process)
    assert process.step_summary == tmp_path / "s.md"
    assert process.sandbox == {"VQR_SANDBOX_NODES": "50"}
    assert process.lint_cache_key_file == tmp_path / "vqr" / "lint-cache.key"
    assert read_env({"VQR_NO_LINT_CACHE": "1"}).lint_cache_key_file is None
    assert read_env({"VQR_LINT_CACHE_KEY_FILE": "/k"}).lint_cache_key_file == Path("/k")


def test_one_concurrency_limit_for_the_cli_the_engine_and_the_project_schema() -> None:
    import json

    import click

    from runner.cli import run
    from runner.model.plans import MAX_CONCURRENCY
    from runner.resources import PROJECT_FILE, bundled_schemas_dir

    schema = json.loads((bundled_schemas_dir() / PROJECT_FILE).read_text(encoding="utf-8"))
    assert schema["properties"]["defaults"]["properties"]["concurrency"]["maximum"] == MAX_CONCURRENCY
    option = next(p for p in run.params if p.name == "concurrency")
    assert isinstance(option.type, click.IntRange) and option.type.max == MAX_CONCURRENCY
