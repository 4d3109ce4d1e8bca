"""The sharded nightly workflow (`.github/workflows/nightly-sharded.yml`), checked as far as a machine without GitHub
allows: actionlint (with shellcheck) clean, the promised shape (plan -> matrix from its output -> merge after every
shard), the key only in the shard run step, lint.yml's pins, and its own run scripts executed in order against the
real CLI and the embedded sandbox, with the artifact hand-over done by hand: two shards, one merged run.

(The vendored workflow schemas check it in test_workflow.py, which lists every workflow.)
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner import cli
from tests.support import forked_cli
from tests.unit.report.test_workflow import LINT, SHARDED, load, pins
from tests.unit.report.test_workflow_impact import actionlint

ROOT = Path(__file__).resolve().parents[3]


def jobs() -> dict[str, Any]:
    found: dict[str, Any] = load(SHARDED)["jobs"]
    return found


def step(job: str, name: str) -> dict[str, Any]:
    return next(s for s in jobs()[job]["steps"] if s.get("name") == name or s.get("id") == name)


def test_actionlint_and_shellcheck_clean() -> None:
    done = actionlint(SHARDED)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_plan_feeds_the_matrix_and_the_merge_waits_for_every_shard() -> None:
    workflow = load(SHARDED)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert set(jobs()) == {"plan", "shard", "merge"}
    plan, shard, merge = jobs()["plan"], jobs()["shard"], jobs()["merge"]
    assert plan["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    assert "--format github-matrix" in step("plan", "plan")["run"]
    assert shard["needs"] == "plan" and shard["strategy"]["fail-fast"] is False
    assert shard["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert shard["env"]["SHARD"] == "${{ matrix.shard }}"
    assert merge["needs"] == ["plan", "shard"]
    assert "!cancelled()" in merge["if"] and "needs.plan.result == 'success'" in merge["if"]
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["pattern"] == "vqr-shard-*"
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "vqr-${{ steps.name.outputs.slug }}"
    for job in jobs().values():
        assert job["timeout-minutes"] <= 180 and "permissions" not in job


def test_the_key_is_only_in_the_shard_run_step_and_nothing_is_interpolated_into_a_script() -> None:
    assert SHARDED.read_text(encoding="utf-8").count("secrets.") == 1
    assert step("shard", "run")["env"] == {"VEZA_API_KEY": "${{ secrets.VEZA_API_KEY }}"}
    assert jobs()["shard"]["environment"] == "${{ vars.VQR_ENV || 'sandbox' }}"
    for job in jobs().values():
        for each in job["steps"]:
            assert "${{" not in each.get("run", ""), each


def test_actions_share_the_pins_of_lint_yml() -> None:
    sharded, lint = pins(SHARDED), pins(LINT)
    shared = set(sharded) & set(lint)
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact"} <= shared
    assert all(sharded[a] == lint[a] for a in shared)
    for job in jobs().values():
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["persist-credentials"] is False


def test_the_shard_slug_is_the_cli_s_reports_directory_name() -> None:
    script = step("shard", "name")["run"]
    for shard, slug in (("0/4", "shard-0-of-4"), ("11/12", "shard-11-of-12")):
        out = _script(script, Path.cwd(), {"SHARD": shard})
        assert out == {"slug": slug}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scaffolded repository whose `.venv/bin/vqr` (what the workflow calls) is this checkout's CLI."""
    if not {"plan", "run", "report"} <= set(cli.cli.commands) or not any(
            p.name == "shard" for p in cli.cli.commands["run"].params):
        pytest.skip("needs vqr plan and vqr run --shard (issue 15's shards)")
    directory = tmp_path / "repo"
    forked_cli.run(["init", str(directory)], check=True,
                   cwd=ROOT, timeout=60)
    wrapper = directory / ".venv" / "bin" / "vqr"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m runner "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return directory


def _script(script: str, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """Run one step's script as the runner does (bash -e), return what it wrote to $GITHUB_OUTPUT."""
    output = cwd / ".github-output"
    output.write_text("", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "GITHUB_", "VQR_"))}
    base["PYTHONPATH"] = str(ROOT)
    subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env={**base, "GITHUB_OUTPUT": str(output), **env},
                   check=True, capture_output=True, timeout=120)
    lines = output.read_text(encoding="utf-8").splitlines()
    output.unlink()
    return dict(line.split("=", 1) for line in lines)


def _merge(project: Path, env: dict[str, str], *, allow_partial: bool) -> tuple[str, dict[str, Any] | None]:
    """The merge job's merge and locate steps: vqr's exit code, and the merged run.json if one was located."""
    code = _script(step("merge", "merge")["run"], project, {**env, "ALLOW_PARTIAL": str(allow_partial).lower()})
    located = _script(step("merge", "locate")["run"], project, env).get("dir")
    run = json.loads((project / located / "run.json").read_text(encoding="utf-8")) if located else None
    return code["code"], run


def test_the_steps_scripts_plan_run_two_shards_and_merge_them(project: Path, tmp_path: Path) -> None:
    env = {"VQR_ENV": "sandbox", "SHARDS": "2", "SNAPSHOT_ID": "", "GITHUB_STEP_SUMMARY": str(tmp_path / "sum.md")}
    matrix = json.loads(_script(step("plan", "plan")["run"], project, env)["matrix"])
    assert matrix == {"include": [{"shard": "0/2"}, {"shard": "1/2"}]}
    uploaded: dict[str, Path] = {}
    for entry in matrix["include"]:
        shard_env = {**env, "SHARD": entry["shard"]}
        slug = _script(step("shard", "name")["run"], project, shard_env)["slug"]
        assert _script(step("shard", "run")["run"], project, shard_env) == {"code": "0"}
        located = _script(step("shard", "locate")["run"], project, {**shard_env, "SLUG": slug})["dir"]
        assert (project / located / "run.json").is_file()
        uploaded[f"vqr-{slug}"] = project / located
    downloaded = project / "shards"  # download-artifact by pattern: one directory per artifact

    shutil.copytree(uploaded["vqr-shard-0-of-2"], downloaded / "vqr-shard-0-of-2")  # shard 1's upload is missing
    assert _merge(project, env, allow_partial=False) == ("2", None)  # refused, nothing written
    code, partial = _merge(project, env, allow_partial=True)
    assert code == "1" and partial is not None  # merged and marked partial; exit 1 fails the job by the contract
    assert partial["shards"]["partial"] is True and partial["shards"]["missing"] == [1]

    shutil.copytree(uploaded["vqr-shard-1-of-2"], downloaded / "vqr-shard-1-of-2")
    code, run = _merge(project, env, allow_partial=False)
    assert code == "0" and run is not None and run["run_id"] != partial["run_id"]
    assert run["status"] == "completed" and run["summary"]["failed"] == 0
    assert [m["index"] for m in run["shards"]["merged"]] == [0, 1] and run["shards"]["partial"] is False
    assert run["run_id"] in (tmp_path / "sum.md").read_text(encoding="utf-8")  # the merge wrote the job summary


def test_the_snapshot_and_partial_settings_reach_the_command_lines(tmp_path: Path) -> None:
    """With a stand-in `vqr` that records its arguments: the pin goes to the plan and to every shard alike, and
    --allow-partial to the merge only when asked."""
    fake = tmp_path / ".venv" / "bin" / "vqr"
    fake.parent.mkdir(parents=True)
    calls = tmp_path / "calls"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\necho "{{}}"\n', encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    pinned = {"SHARDS": "3", "SNAPSHOT_ID": "1234", "SHARD": "2/3"}
    _script(step("plan", "plan")["run"], tmp_path, pinned)
    _script(step("shard", "run")["run"], tmp_path, pinned)
    _script(step("shard", "run")["run"], tmp_path, {**pinned, "SNAPSHOT_ID": ""})
    (tmp_path / "shards" / "vqr-shard-0-of-3").mkdir(parents=True)
    _script(step("merge", "merge")["run"], tmp_path, {"ALLOW_PARTIAL": "false"})
    _script(step("merge", "merge")["run"], tmp_path, {"ALLOW_PARTIAL": "true"})
    assert calls.read_text(encoding="utf-8").splitlines() == [
        "plan --shards 3 --snapshot-id 1234 --format github-matrix",
        "run --shard 2/3 --snapshot-id 1234 --quiet",
        "run --shard 2/3 --quiet",
        "report merge shards/vqr-shard-0-of-3/ --out reports",
        "report merge shards/vqr-shard-0-of-3/ --out reports --allow-partial",
    ]
