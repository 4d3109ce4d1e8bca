"""`vqr lint` checks every environment of vqr.yaml (issue 12, point 1): the real CLI on a three-environment repository.

Each case is broken in exactly one environment; lint must find it, name that environment and exit 1. The same
repository with every case intact lints clean. `--env` narrows to one environment; an unknown name is exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import forked_cli

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("sandbox", "staging", "prod")
SPEC = """spec:
  query_type: {query_type}
  source_node_types: {{nodes: [{{node_type: {node_type}}}]}}
  relates_to_exp:
    specs:
      - node_types: {{nodes: [{{node_type: S3Bucket}}]}}
        effective_permissions: {{values: [DATA_WRITE], operator: OR}}
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
"""


def query(name: str, *, description: str = "a query", cache: str = "{mode: if_available, max_staleness: 12h}",
          query_type: str = "SOURCE_TO_DESTINATION", node_type: str = "OktaUser") -> str:
    return (f"name: {name}\ndescription: {description}\nowner: team\ntags: [t]\ncache: {cache}\n"
            + SPEC.format(query_type=query_type, node_type=node_type))


@dataclass(frozen=True)
class Case:
    """A query file whose variables are good everywhere, and what one environment's vars file does to it."""

    file: str
    text: str
    good: dict[str, Any]  # the variables, in every environment's vars file
    broken_env: str
    broken: dict[str, Any | None] = field(default_factory=dict)  # in broken_env: None removes the variable
    rule: str = ""  # the rule (or rule prefix, ending in /) lint reports
    line: int = 0


CASES = [
    Case("missing-var.yaml", query("missing-var", description='"{{ team }}"'), {"team": "iam"}, "prod",
         {"team": None}, "template/undefined", 2),
    Case("bad-enum.yaml", query("bad-enum", query_type='"{{ qtype }}"'), {"qtype": "SOURCE_TO_DESTINATION"},
         "staging", {"qtype": "SOURCE_TO_DEST"}, "spec/", 7),
    Case("node-type.yaml", query("node-type", node_type='"{{ user_type }}"'), {"user_type": "OktaUser"},
         "sandbox", {"user_type": "OktaUsr"}, "spec/unknown-node-type", 8),
    Case("duration.yaml", query("duration", cache='{mode: if_available, max_staleness: "{{ staleness }}"}'),
         {"staleness": "12h"}, "prod", {"staleness": "12 hours"}, "cache/bad-duration", 5),
    Case("collide.yaml", query('"collide-{{ suffix }}"'), {"suffix": "one"}, "staging", {"suffix": "two"},
         "query/duplicate-name", 1),
]
OTHER = ("collide-two.yaml", query("collide-two"))  # the name collide.yaml takes in staging


def vqr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cwd / ".xdg")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("VQR_ENV", None)
    return forked_cli.run(args, cwd=cwd, text=True, env=env,
                          timeout=120)


def make_repository(root: Path, *, broken: bool) -> Path:
    (root / "queries" / "vars").mkdir(parents=True)
    lines = ["queries: queries/", "reports: reports/", "environments:"]
    for env in ENVIRONMENTS:
        url = "embedded" if env == "sandbox" else f"https://{env}.example.vezacloud.com"
        lines += [f"  {env}:", f"    url: {url}", f"    vars_files: [queries/vars/{env}.yaml]"]
        variables: dict[str, Any] = {}
        for case in CASES:
            variables.update(case.good)
            if broken and case.broken_env == env:
                for name, value in case.broken.items():
                    if value is None:
                        variables.pop(name)
                    else:
                        variables[name] = value
        (root / "queries" / "vars" / f"{env}.yaml").write_text(json.dumps(variables) + "\n", encoding="utf-8")
    (root / "vqr.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for case in CASES:
        (root / "queries" / case.file).write_text(case.text, encoding="utf-8")
    (root / "queries" / OTHER[0]).write_text(OTHER[1], encoding="utf-8")
    return root


def lint_json(root: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    done = vqr("lint", "--format", "json", *args, cwd=root)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["findings"]


def test_the_intact_repository_lints_clean_in_every_environment(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", broken=False)
    code, findings = lint_json(root)
    assert (code, findings) == (0, [])
    assert vqr("lint", cwd=root).stdout == f"{len(CASES) + 1} files clean\n"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, list[dict[str, Any]]]:
    root = make_repository(tmp_path_factory.mktemp("envs") / "repo", broken=True)
    code, findings = lint_json(root)
    return root, code, findings


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_each_case_broken_in_one_environment_is_found_and_named(
        broken: tuple[Path, int, list[dict[str, Any]]], case: Case) -> None:
    _, code, findings = broken
    assert code == 1
    mine = [f for f in findings if f["path"] == f"queries/{case.file}"]
    assert mine, findings
    for finding in mine:
        assert finding["environments"] == [case.broken_env]
        assert finding["message"].endswith(f" [env: {case.broken_env}]")
    assert any(f["rule"] == case.rule or (case.rule.endswith("/") and f["rule"].startswith(case.rule))
               for f in mine), mine
    assert any(f["line"] == case.line for f in mine), mine


def test_only_the_broken_files_have_findings(broken: tuple[Path, int, list[dict[str, Any]]]) -> None:
    _, _, findings = broken
    assert {f["path"] for f in findings} == {f"queries/{c.file}" for c in CASES}


def test_env_narrows_to_one_environment(broken: tuple[Path, int, list[dict[str, Any]]]) -> None:
    root, _, _ = broken
    code, findings = lint_json(root, "--env", "staging")
    assert code == 1
    assert {f["path"] for f in findings} == {f"queries/{c.file}" for c in CASES if c.broken_env == "staging"}
    assert all(f["environments"] == ["staging"] and "[env:" not in f["message"] for f in findings)
    # The same text narrowed to one file: `vqr lint PATHS` also checks every environment.
    done = vqr("lint", "queries/missing-var.yaml", cwd=root)
    assert done.returncode == 1 and "[env: prod]" in done.stdout and "duration" not in done.stdout


def test_unknown_env_is_a_usage_error_with_a_suggestion(broken: tuple[Path, int, list[dict[str, Any]]]) -> None:
    root, _, _ = broken
    done = vqr("lint", "--env", "stagign", cwd=root)
    assert done.returncode == 2
    assert "unknown environment 'stagign'; did you mean 'staging'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_finding_of_every_environment_is_reported_once_unchanged(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", broken=False)
    (root / "queries" / "typo.yaml").write_text(query("typo", node_type="OktaUsr"), encoding="utf-8")
    code, findings = lint_json(root)
    assert code == 0  # a warning
    assert len(findings) == 1 and findings[0]["rule"] == "spec/unknown-node-type"
    assert "[env:" not in findings[0]["message"] and findings[0]["environments"] == list(ENVIRONMENTS)


def test_the_issue_repro_names_prod(tmp_path: Path) -> None:
    """`vqr init g`, `x: [1]` only in the sandbox's vars, a description `{{ x|length }}`: lint exit 1, naming prod."""
    assert vqr("init", "g", cwd=tmp_path).returncode == 0
    root = tmp_path / "g"
    with (root / "queries" / "vars" / "sandbox.yaml").open("a", encoding="utf-8") as stream:
        stream.write("x: [1]\n")
    for file in (root / "queries").glob("*.yaml"):
        text = "\n".join('description: "{{ x|length }}"' if line.startswith("description:") else line
                         for line in file.read_text(encoding="utf-8").splitlines())
        file.write_text(text + "\n", encoding="utf-8")
    done = vqr("lint", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "undefined variable 'x' [env: prod] [template/undefined]" in done.stdout
    assert vqr("lint", "--env", "sandbox", cwd=root).returncode == 0


def test_a_staged_vars_file_widens_the_report_to_every_query(broken: tuple[Path, int, list[dict[str, Any]]]) -> None:
    """pre-commit passes the staged files: a changed prod vars file reports every query's findings, named."""
    root, _, findings = broken
    done = vqr("lint", "--format", "json", "queries/vars/prod.yaml", cwd=root)
    assert done.returncode == 1
    assert json.loads(done.stdout)["findings"] == findings


def test_render_compiles_only_its_environment(broken: tuple[Path, int, list[dict[str, Any]]]) -> None:
    root, _, _ = broken
    fine = vqr("render", "missing-var", "--env", "sandbox", cwd=root)
    assert fine.returncode == 0, fine.stderr
    assert json.loads(fine.stdout) and '"node_type": "OktaUser"' in fine.stdout
    refused = vqr("render", "missing-var", "--env", "prod", cwd=root)
    assert refused.returncode == 2 and "undefined variable 'team'" in refused.stderr
    assert "[env:" not in refused.stderr


def test_a_missing_vars_file_names_its_environment(tmp_path: Path) -> None:
    root = make_repository(tmp_path / "repo", broken=False)
    (root / "queries" / "vars" / "staging.yaml").unlink()
    done = vqr("lint", cwd=root)
    assert done.returncode == 2
    assert done.stderr == "vqr: variables file not found: queries/vars/staging.yaml for environment 'staging'\n"
    assert "Traceback" not in done.stderr


def test_lint_help_describes_its_own_env_default(tmp_path: Path) -> None:
    text = " ".join(vqr("lint", "--help", cwd=tmp_path).stdout.split())
    assert "Check only this environment (default: every environment in vqr.yaml; $VQR_ENV is not used)." in text
    assert "else sandbox" not in text
    # The other commands keep the shared help: they do use VQR_ENV.
    assert "$VQR_ENV, else sandbox" in " ".join(vqr("render", "--help", cwd=tmp_path).stdout.split())
