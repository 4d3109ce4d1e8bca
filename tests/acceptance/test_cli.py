"""The real `vqr` command line, as a user runs it: subprocesses, real files, exit codes row by row."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.support import forked_cli

REPO = Path(__file__).resolve().parents[2]
VQR = [sys.executable, "-m", "runner"]


def vqr(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **(env or {})}
    merged.pop("GITHUB_STEP_SUMMARY", None)
    merged.update(env or {})
    return forked_cli.run(args, cwd=cwd, text=True, env=merged, timeout=60)


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("init") / "repo"
    done = vqr("init", str(directory), cwd=tmp_path_factory.getbasetemp())
    assert done.returncode == 0, done.stderr
    return directory


@pytest.fixture
def project(scaffold: Path, tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(scaffold, target)
    return target


def test_help_documents_exit_codes(tmp_path: Path) -> None:
    done = vqr("--help", cwd=tmp_path)
    assert done.returncode == 0
    for row in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert row in done.stdout
    assert "lint" in vqr("lint", "--help", cwd=tmp_path).stdout


def test_init_scaffolds_a_lint_clean_repository(scaffold: Path) -> None:
    assert (scaffold / "vqr.yaml").is_file()
    assert (scaffold / "schemas" / "query-file.schema.json").is_file()
    done = vqr("lint", cwd=scaffold)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clean" in done.stdout


def test_init_refuses_to_overwrite(scaffold: Path) -> None:
    done = vqr("init", str(scaffold), cwd=scaffold)
    assert done.returncode == 2
    assert "already exists" in done.stderr
    assert "Traceback" not in done.stderr


def test_lint_exit_1_with_file_line_column(project: Path) -> None:
    query = project / "queries" / "okta-users-with-s3-write.yaml"
    text = query.read_text().replace("  node_relationship_type:", "  relationship: x\n  node_relationship_type:")
    query.write_text(text)
    done = vqr("lint", cwd=project)
    assert done.returncode == 1
    assert "queries/okta-users-with-s3-write.yaml:" in done.stdout
    line = next(x for x in done.stdout.splitlines() if "unknown-key" in x)
    _path, lineno, column, _ = line.split(":", 3)
    assert (int(lineno), int(column)) == (17, 3)  # the inserted line, at the key
    assert "did you mean 'node_relationship_type'" in line


def test_lint_exit_2_without_project(tmp_path: Path) -> None:
    done = vqr("lint", cwd=tmp_path)
    assert done.returncode == 2
    assert "vqr.yaml" in done.stderr and "Traceback" not in done.stderr


def test_lint_exit_2_on_invalid_project_file(project: Path) -> None:
    (project / "vqr.yaml").write_text("queries: queries/\ndefaults: {concurency: 8}\n")
    done = vqr("lint", cwd=project)
    assert done.returncode == 2
    assert "vqr.yaml:2:" in done.stderr and "Traceback" not in done.stderr


def test_usage_error_exit_2(project: Path) -> None:
    assert vqr("lint", "--format", "xml", cwd=project).returncode == 2
    done = vqr("lint", "--var", "not an assignment", cwd=project)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_every_format_and_output_file(project: Path) -> None:
    for fmt in ("text", "json", "sarif", "github", "junit"):
        done = vqr("lint", "--format", fmt, "--output", f"out.{fmt}", cwd=project)
        assert done.returncode == 0, done.stderr
        assert (project / f"out.{fmt}").stat().st_size > 0
    sarif = json.loads((project / "out.sarif").read_text())
    schema = json.loads((REPO / "tests" / "sarif-2.1.0.schema.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)


def test_sarif_with_findings_validates_against_the_official_schema(project: Path) -> None:
    query = project / "queries" / "okta-users-with-s3-write.yaml"
    query.write_text(query.read_text().replace("OktaUser", "OktaUsr"))
    done = vqr("lint", "--format", "sarif", cwd=project)
    assert done.returncode == 0  # an unknown node type is a warning
    sarif = json.loads(done.stdout)
    schema = json.loads((REPO / "tests" / "sarif-2.1.0.schema.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "spec/unknown-node-type" and result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "queries/okta-users-with-s3-write.yaml"


def test_render_prints_the_create_body(project: Path) -> None:
    done = vqr("render", "okta-users-with-s3-write", "--env", "prod", cwd=project)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == {"cached_result_if_available"}
    assert body["cached_result_if_available"]["max_staleness"] == "43200s"
    spec = body["cached_result_if_available"]["request"]["body"]
    # the fragment was expanded into a native mapping, not a string
    condition = spec["source_node_types"]["nodes"][0]["condition_expression"]
    assert isinstance(condition, dict) and condition["specs"][0]["property"] == "status"


def test_render_unknown_query_is_a_usage_error(project: Path) -> None:
    done = vqr("render", "no-such-query", cwd=project)
    assert done.returncode == 2 and "no query named" in done.stderr


def test_ls_json_and_selectors(project: Path) -> None:
    done = vqr("ls", "--format", "json", "--select", "tag:okta", cwd=project)
    assert done.returncode == 0, done.stderr
    assert [row["name"] for row in json.loads(done.stdout)] == ["okta-users-with-s3-write"]
    done = vqr("ls", "--format", "json", "--exclude", "tag:okta", cwd=project)
    assert json.loads(done.stdout) == []


def test_var_overrides_reach_templates(project: Path) -> None:
    query = project / "queries" / "okta-users-with-s3-write.yaml"
    query.write_text(query.read_text().replace("description: Active", "description: In {{ region }} active"))
    assert vqr("lint", cwd=project).returncode == 1  # `region` is undefined
    done = vqr("lint", "--var", "region=eu", cwd=project)
    assert done.returncode == 0, done.stdout


def test_run_against_the_embedded_sandbox_exit_0_and_report(project: Path) -> None:
    done = vqr("run", "--quiet", cwd=project, env={"VQR_SANDBOX_LATENCY": "0.05", "VQR_SANDBOX_NODES": "800"})
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads((project / "reports" / "latest" / "run.json").read_text())
    assert [q["name"] for q in run["queries"]] == ["okta-users-with-s3-write"]
    assert run["queries"][0]["status"] == "succeeded"
    latest = project / "reports" / "latest"
    assert f"report: {latest.resolve() / 'report.html'}" in done.stdout + done.stderr  # what a person opens
    for name in ("report.md", "report.html", "junit.xml", "results/okta-users-with-s3-write.csv"):
        assert (latest / name).stat().st_size > 0, name
    # the CSV written while the run went on is exactly what `vqr report --format csv` renders afterwards
    during = (latest / "results" / "okta-users-with-s3-write.csv").read_bytes()
    assert vqr("report", "--format", "csv", cwd=project).returncode == 0
    assert (latest / "results" / "okta-users-with-s3-write.csv").read_bytes() == during


def test_run_refuses_invalid_specs_exit_2_nothing_sent(project: Path) -> None:
    query = project / "queries" / "okta-users-with-s3-write.yaml"
    query.write_text(query.read_text().replace("EFFECTIVE_ACCESS", "EFECTIVE_ACCESS"))
    done = vqr("run", cwd=project)
    assert done.returncode == 2
    assert "nothing was sent" in done.stderr and "Traceback" not in done.stderr
    assert not (project / "reports").exists()


def test_run_without_api_key_exit_2(project: Path) -> None:
    done = vqr("run", "--env", "prod", cwd=project, env={"VEZA_API_KEY": "", "VEZA_API_KEY_FILE": ""})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[tuple[str, str]]:
    """A real `vqr sandbox serve --tls` process: its URL (line 1) and the path of its generated CA (line 2)."""
    with subprocess.Popen([*VQR, "sandbox", "serve", "--tls", "--nodes", "400", "--latency", "0.02"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            ca_line = process.stdout.readline().strip()
            ca_file = next(word for word in ca_line.split() if word.endswith(".pem"))
            assert url.startswith("https://127.0.0.1:"), url
            yield url, ca_file
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.mark.parametrize("trust", ["ca-bundle", "ssl-cert-file", "none"])
def test_run_over_tls_trusts_only_a_given_ca(project: Path, tls_sandbox: tuple[str, str], trust: str) -> None:
    url, ca_file = tls_sandbox
    env = {"VEZA_URL": url, "VEZA_API_KEY": "k", "SSL_CERT_FILE": ca_file if trust == "ssl-cert-file" else ""}
    args = ["run", "--env", "prod", "--quiet", *(["--ca-bundle", ca_file] if trust == "ca-bundle" else [])]
    done = vqr(*args, cwd=project, env=env)
    if trust == "none":  # verification is never turned off: an unknown CA means nothing could run
        assert done.returncode == 3, done.stderr
        assert "certificate" in done.stderr.lower() and "Traceback" not in done.stderr
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        run = json.loads((project / "reports" / "latest" / "run.json").read_text())
        assert run["target"] == url  # VEZA_URL overrides the environment, and the artifact says so


def test_template_problems_show_beside_structural_ones(project: Path) -> None:
    """One lint shows every kind of problem: a bad enum does not hide an undefined variable."""
    query = project / "queries" / "okta-users-with-s3-write.yaml"
    text = query.read_text().replace("EFFECTIVE_ACCESS", "EFECTIVE_ACCESS")
    query.write_text(text.replace("description: Active", "description: Active {{ lookback_dayz }}"))
    done = vqr("lint", "--format", "json", cwd=project)
    assert done.returncode == 1
    rules = sorted(f["rule"] for f in json.loads(done.stdout)["findings"])
    assert rules == ["query/enum", "template/undefined"]


def test_run_deadline_ends_the_run_and_says_why(project: Path) -> None:
    second = project / "queries" / "second.yaml"
    text = (project / "queries" / "okta-users-with-s3-write.yaml").read_text()
    second.write_text(text.replace("name: okta-users-with-s3-write", "name: second").replace("OktaUser", "AzureADUser"))
    done = vqr("run", "--quiet", "--deadline", "1s", "--concurrency", "1", cwd=project,
               env={"VQR_SANDBOX_LATENCY": "6", "VQR_SANDBOX_NODES": "400"})
    assert done.returncode == 1, done.stdout + done.stderr
    run = json.loads((project / "reports" / "latest" / "run.json").read_text())
    # A query whose next poll would fall past the run's deadline ends there; no query outlives the deadline.
    assert [q["status"] for q in run["queries"]] == ["failed", "failed"]
    assert {q["error"]["category"] for q in run["queries"]} == {"deadline"}
    assert run["seconds"] < 4.0  # each job would have taken 6 s


def test_a_refused_connection_check_fails_at_once(project: Path) -> None:
    # (That --deadline bounds a connection check that is retried: tests/unit/client/test_hostile_replies.py.)
    done = vqr("run", "--env", "prod", "--deadline", "20s", "--quiet", cwd=project,
               env={"VEZA_URL": "http://127.0.0.1:9", "VEZA_API_KEY": "k"})  # nothing listens on port 9
    assert done.returncode == 3, done.stderr
    assert "connection refused" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_render_of_an_invalid_query_is_exit_2_with_the_findings(project: Path) -> None:
    query = project / "queries" / "okta-users-with-s3-write.yaml"
    query.write_text(query.read_text().replace("EFFECTIVE_ACCESS", "EFECTIVE_ACCESS"))
    done = vqr("render", "queries/okta-users-with-s3-write.yaml", cwd=project)
    assert done.returncode == 2 and done.stdout == ""
    assert "okta-users-with-s3-write.yaml:17:27" in done.stderr and "nothing was rendered" in done.stderr
