"""The nightly GitHub workflow, checked as far as a machine without GitHub allows: valid against the workflow JSON
Schemas that check-jsonschema ships, and holding the promised properties (schedule, environment from a variable,
the key only from a protected environment's secret, least privilege, SHA pins shared with lint.yml, an artifact
uploaded whatever happened, the job failing by vqr's exit code)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[3]
NIGHTLY = ROOT / ".github" / "workflows" / "nightly.yml"
LINT = ROOT / ".github" / "workflows" / "lint.yml"
IMPACT = ROOT / ".github" / "workflows" / "pr-impact.yml"
SHARDED = ROOT / ".github" / "workflows" / "nightly-sharded.yml"
WORKFLOWS = [LINT, NIGHTLY, IMPACT, SHARDED]
SHA_PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@[0-9a-f]{40}$")


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
@pytest.mark.parametrize("schema", ["vendor/github-workflows.json", "custom/github-workflows-require-timeout.json"])
def test_every_workflow_is_valid_against_the_vendored_github_schemas(schema: str, workflow: Path) -> None:
    text = (package_files("check_jsonschema.builtin_schemas") / schema).read_text(encoding="utf-8")
    validator = jsonschema.validators.validator_for(json.loads(text))(json.loads(text))
    assert [e.message for e in validator.iter_errors(load(workflow))] == []


def test_every_workflow_passes_check_jsonschema_itself() -> None:
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", *map(str, WORKFLOWS)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nightly_is_scheduled_and_dispatchable_with_least_privilege() -> None:
    workflow = load(NIGHTLY)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    minute, hour, *rest = workflow["on"]["schedule"][0]["cron"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False  # never kill a batch in flight
    (job,) = workflow["jobs"].values()
    assert "permissions" not in job and job["timeout-minutes"] <= 180


def test_environment_comes_from_a_variable_and_the_key_from_its_secret_only_where_needed() -> None:
    workflow = load(NIGHTLY)
    (job,) = workflow["jobs"].values()
    assert "vars.VQR_ENV" in job["environment"] and "vars.VQR_ENV" in job["env"]["VQR_ENV"]
    text = NIGHTLY.read_text()
    assert text.count("secrets.") == 1
    holders = [s for s in job["steps"] if "secrets.VEZA_API_KEY" in json.dumps(s)]
    assert len(holders) == 1 and holders[0]["env"] == {"VEZA_API_KEY": "${{ secrets.VEZA_API_KEY }}"}
    assert "make nightly" in holders[0]["run"]
    for step in job["steps"]:
        assert "github.event" not in step.get("run", "") and "${{" not in step.get("run", ""), step


def pins(path: Path) -> dict[str, str]:
    """Every action a workflow uses, by name, each required to be pinned to a full commit SHA."""
    found: dict[str, str] = {}
    for job in load(path)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                match = SHA_PIN.match(step["uses"])
                assert match, step["uses"]
                found[match["action"]] = step["uses"]
    return found


def test_actions_are_pinned_and_share_lint_yml_pins() -> None:
    nightly, lint = pins(NIGHTLY), pins(LINT)
    shared = set(nightly) & set(lint)
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact"} <= shared
    assert all(nightly[a] == lint[a] for a in shared)
    cache = {v.split("@")[1] for k, v in nightly.items() if k.startswith("actions/cache")}
    assert len(cache) == 1  # restore and save from one release
    (job,) = load(NIGHTLY)["jobs"].values()
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_artifact_is_uploaded_always_and_the_job_fails_by_the_exit_code() -> None:
    (job,) = load(NIGHTLY)["jobs"].values()
    steps = job["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "always()" in upload["if"] and "steps.locate.outputs.dir" in upload["with"]["path"]
    last = steps[-1]
    assert "always()" in last["if"] and last["env"]["CODE"] == "${{ steps.run.outputs.code }}"
    for code in ("0)", "1)", "2)", "130)"):
        assert code in last["run"]
    script = last["run"]
    for code, expected in (("0", 0), ("1", 1), ("2", 2), ("3", 3), ("130", 130), ("", 3)):
        done = subprocess.run(["bash", "-c", script], env={"CODE": code, "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=10, check=False)
        assert done.returncode == expected, (code, done.stdout)
    run = next(s for s in steps if s.get("id") == "run")
    assert "reports/.exit-code" in run["run"] and "GITHUB_OUTPUT" in run["run"]


def test_locate_step_finds_the_run_directory_from_a_symlink_or_a_text_file(tmp_path: Path) -> None:
    (job,) = load(NIGHTLY)["jobs"].values()
    script = next(s for s in job["steps"] if s.get("id") == "locate")["run"]
    run_dir = tmp_path / "reports" / "20250301T020000Z-a1b2"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text("{}")
    output = tmp_path / "out"
    latest = tmp_path / "reports" / "latest"
    for as_symlink in (True, False):
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        if as_symlink:
            latest.symlink_to(run_dir.name)
        else:
            latest.write_text(run_dir.name + "\n")
        output.write_text("")
        subprocess.run(["bash", "-c", script], cwd=tmp_path, env={"GITHUB_OUTPUT": str(output),
                                                                 "PATH": "/usr/bin:/bin"}, check=True, timeout=10)
        assert output.read_text() == "dir=reports/20250301T020000Z-a1b2\n"
