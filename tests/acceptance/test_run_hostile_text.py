"""The real `python -m runner run` against a hostile server (tests/support/hostile_text_server.py): no output carries
an escape sequence, a line starting a workflow command, or the API key, whichever reply brought it (issue 10, points
7, 8, 9); and a one-letter key damages nothing stored (point 10)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
from pathlib import Path

from runner.app.run_command import JOURNAL
from tests.acceptance.run_project import REPO, by_name, fixed_sandbox, make_project, query_yaml, remote, run_vqr
from tests.support import forked_cli
from tests.support.hostile_text_server import ATTACKS, FORMULA_HEADER, REFUSE_CHECK, hostile_text_server

KEY = "vqr-canary-5d1c0e9a7b"  # a realistic length: redacted everywhere it is shown
FORBIDDEN = ("\x1b", "\x07", "\x9b", KEY)


def _vqr(project_dir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    return forked_cli.run(args, cwd=project_dir, text=True,
                          env={**clean, "PYTHONPATH": str(REPO), **env}, timeout=60)


def _assert_clean(where: str, text: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in text, f"{where} holds {bad!r}"
    starts = [line for line in text.splitlines() if line.lstrip().startswith("::")]
    assert not starts, f"{where} starts a workflow command: {starts[:3]}"


def test_no_output_of_a_run_carries_escapes_commands_or_the_echoed_key(tmp_path: Path) -> None:
    project_dir = tmp_path / "repo"
    make_project(project_dir, {attack: query_yaml(attack, node_type, cache="{mode: immediate}")
                               for node_type, attack in ATTACKS.items()})
    summary = tmp_path / "step-summary.md"
    with hostile_text_server() as url:
        done = _vqr(project_dir, "-vv", "run", "--env", "remote",
                    env={"VEZA_URL": url, "VEZA_API_KEY": KEY, "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1, done.stderr
    assert "DEBUG" in done.stderr  # the debug log, which quotes headers, was on and is checked too
    run_dir = (project_dir / "reports" / "latest").resolve()
    outputs = {"stdout": done.stdout, "stderr": done.stderr, "step summary": summary.read_text()}
    for name in ("run.json", "report.md", "report.html", "junit.xml"):
        outputs[name] = (run_dir / name).read_text()
    for table in (run_dir / "results").glob("*.csv"):
        outputs[table.name] = table.read_text()
    for where, text in outputs.items():
        _assert_clean(where, text)
    queries = by_name(json.loads(outputs["run.json"]))
    assert {name: q["status"] for name, q in queries.items()} == {
        "refused": "failed", "job-error": "failed", "rows": "succeeded", "status-word": "failed",
        "html-5xx": "failed"}
    # The attacks were seen and shown defused, not dropped: escapes visible, the key as ***.
    assert "\\x1b]0;pwned\\x07" in done.stdout and "***" in done.stdout
    assert "job broke" in queries["job-error"]["error"]["message"] and "***" in queries["job-error"]["error"]["message"]
    assert queries["rows"]["query_result_id"] == "qr-rows"  # ids without the key are kept as they are
    # Point 8 and 15: a formula in a header is defused; "a.b" and {"a": {"b"}} are two columns, both values kept.
    with (run_dir / "results" / "rows.csv").open(newline="") as handle:
        columns, cells, _ = csv.reader(handle)
    assert "'" + FORMULA_HEADER in columns and FORMULA_HEADER not in columns
    values = dict(zip(columns, cells, strict=True))
    assert values["'" + FORMULA_HEADER] == "'=1+1"
    assert (values["a\\.b"], values["a.b"]) == ("flat", "nested")


def test_a_hostile_message_on_the_connection_check_is_one_defused_line(tmp_path: Path) -> None:
    project_dir = tmp_path / "repo"
    make_project(project_dir, {"q": query_yaml("q", "OktaUser")})
    with hostile_text_server() as url:
        done = _vqr(project_dir, "run", "--env", "remote", env={"VEZA_URL": url + REFUSE_CHECK, "VEZA_API_KEY": KEY})
    assert done.returncode == 3, done.stderr
    _assert_clean("stderr", done.stderr + done.stdout)
    assert done.stderr.count("\n") == 1 and "\\x1b]0;pwned\\x07" in done.stderr and "***" in done.stderr


def test_ls_shows_owner_and_tags_escaped(tmp_path: Path) -> None:
    project_dir = tmp_path / "repo"
    query = query_yaml("q", "OktaUser").replace("tags: [test]", 'tags: ["t\\e]0;pwned\\a"]\nowner: "o\\e[2J\\x9b"')
    make_project(project_dir, {"q": query})
    done = _vqr(project_dir, "ls", env={})
    assert done.returncode == 0, done.stderr
    _assert_clean("vqr ls", done.stdout + done.stderr)
    assert "o\\x1b[2J\\x9b" in done.stdout and "t\\x1b]0;pwned\\x07" in done.stdout
    listed = _vqr(project_dir, "ls", "--format", "json", env={})
    _assert_clean("vqr ls --format json", listed.stdout)
    assert json.loads(listed.stdout)[0]["owner"] == "o\x1b[2J\x9b"  # JSON escapes keep the value exact


def test_a_one_letter_key_damages_no_stored_id_and_drift_is_computed(tmp_path: Path) -> None:
    """With `VEZA_API_KEY=c`, spec hashes and cache ids (hex, full of c's) are stored and compared intact."""
    project = make_project(tmp_path, {"users": query_yaml("users", "OktaUser", cache="{mode: immediate}")})
    with fixed_sandbox() as box:
        first = run_vqr(project, environ=remote(box.url, "c"))
        second = run_vqr(project, environ=remote(box.url, "c"))
    assert first.code == second.code == 0, second.err
    assert first.run and second.run
    stored = sqlite3.connect(tmp_path / JOURNAL).execute("SELECT spec_hash, cache_id FROM queries").fetchall()
    assert all("***" not in value for row in stored for value in row if value), stored
    query = by_name(second.run)["users"]
    assert query["spec_hash"] == by_name(first.run)["users"]["spec_hash"] and "c" in query["spec_hash"]
    assert query["drift"] is not None and query["drift"]["previous_run"] == first.run["run_id"]


def test_a_one_letter_key_is_not_redacted_out_of_words(tmp_path: Path) -> None:
    """`VEZA_API_KEY=a` printed `Inv***lidArgument`: a key that short is no credential and is left alone."""
    project_dir = tmp_path / "repo"
    make_project(project_dir, {"refused": query_yaml("refused", "OktaUser")})
    with hostile_text_server() as url:
        done = _vqr(project_dir, "run", "--env", "remote", env={"VEZA_URL": url, "VEZA_API_KEY": "a"})
    assert done.returncode == 1, done.stderr
    assert "HTTP 400 InvalidArgument" in done.stdout and "***" not in done.stdout + done.stderr
    report = ((project_dir / "reports" / "latest").resolve() / "report.md").read_text()
    assert "InvalidArgument" in report and "***" not in report
