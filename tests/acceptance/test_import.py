"""`vqr import` as a user runs it: every fixture shape imported by the real CLI, linted clean, rendered back equal
in meaning, and run against the embedded sandbox; bad input exits 2 with one line and writes nothing."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.protojson import normalise
from tests.acceptance.run_project import PROJECT_FILE, by_name, run_options, run_vqr
from tests.support import forked_cli

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "veza"
IMPORTABLE = sorted(p.name for p in FIXTURES.glob("*.json") if p.name != "create-context.json")


def vqr(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    env["PYTHONPATH"] = str(REPO)
    done = forked_cli.run(args, cwd=cwd, input=stdin,
                          env=env, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def _oaa_types() -> list[str]:
    """Every OAA node type the fixtures use: the project declares them, as a tenant's project would."""
    found = {m for p in FIXTURES.glob("*.json") for m in re.findall(r'"(OAA\.[^"]+)"', p.read_text())}
    return sorted(found)


def project(root: Path) -> Path:
    (root / "queries").mkdir(parents=True)
    (root / "vqr.yaml").write_text(PROJECT_FILE + f"node_types: {json.dumps(_oaa_types())}\n")
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _expected(value: Any) -> list[tuple[dict[str, Any], str | None]]:
    """(spec, create-body mode field) of each query a fixture holds, read independently of the importer."""
    if set(value) == {"value"}:
        value = value["value"]
    saved = {"name", "description", "labels", "id", "created_at", "updated_at", "result_type", "source_type",
             "integration_types", "category", "level", "visibility", "risk_level", "risk_explanation",
             "risk_remediation", "analysis_type"}
    if "queries" in value:
        return [({k: v for k, v in (e.get("value", e)).items() if k not in saved}, None) for e in value["queries"]]
    for mode in ("cached_result_if_available", "immediate_run"):
        if value.get(mode):
            return [(value[mode]["request"]["body"], mode)]
    if "request" in value:
        return [(value["request"]["body"], "cached_result_if_available")]
    return [({k: v for k, v in value.items() if k not in saved}, None)]


@pytest.mark.parametrize("name", IMPORTABLE)
def test_each_fixture_imports_lints_clean_and_renders_back(tmp_path: Path, name: str) -> None:
    root = project(tmp_path / "repo")
    done = vqr("import", str(FIXTURES / name), "--into", "queries/veza", "--owner", "sec", "--tag", "imported",
               cwd=root)
    assert done.returncode == 0, done.stderr
    written = sorted((root / "queries" / "veza").glob("*.yaml"))
    expected = _expected(json.loads((FIXTURES / name).read_text()))
    assert len(written) == len(expected)
    assert done.stdout.count("wrote queries/veza/") == len(expected)
    lint = vqr("lint", cwd=root)
    assert lint.returncode == 0, lint.stdout
    for file, (spec, mode) in zip(sorted(written, key=lambda p: done.stdout.index(p.name)), expected, strict=True):
        assert file.read_text().startswith("# yaml-language-server: $schema=../../schemas/query-file.schema.json\n")
        body = json.loads(vqr("render", str(file.relative_to(root)), cwd=root).stdout)
        [field] = body
        assert field == (mode or "cached_result_if_available")  # no mode: the project's default
        assert normalise(body[field]["request"]["body"]) == normalise(spec)


def test_standard_input_and_dry_run(tmp_path: Path) -> None:
    root = project(tmp_path / "repo")
    data = (FIXTURES / "saved-query-reply.json").read_bytes()
    dry = vqr("import", "-", "--dry-run", cwd=root, stdin=data)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would write queries/okta-users-with-s3-access-deactivated.yaml (saved query from "
                                 "stdin)\n# yaml-language-server:")
    assert "name: okta-users-with-s3-access-deactivated\n" in dry.stdout
    assert "tags: [okta, offboarding]" in dry.stdout
    assert "note: dropped saved-query keys vqr has no place for: analysis_type, created_at, id, result_type, " \
           "risk_level, source_type, updated_at, visibility" in dry.stdout
    assert tree(root / "queries") == {}
    real = vqr("import", "-", cwd=root, stdin=data)
    assert real.returncode == 0 and list(tree(root / "queries")) == ["okta-users-with-s3-access-deactivated.yaml"]


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    (tmp_path / "notjson.json").write_text("name: a yaml file\n")
    (tmp_path / "unknown.json").write_text('{"hello": "world"}')
    with (tmp_path / "huge.json").open("wb") as stream:
        stream.truncate(16 * 1024 * 1024 + 1)
    os.mkfifo(tmp_path / "fifo.json")
    return {
        "not JSON": ([str(tmp_path / "notjson.json")], "notjson.json is not JSON (Expecting value at line 1 column "
                                                       "1); vqr import reads Veza's JSON only; nothing was written"),
        "unknown shape": ([str(tmp_path / "unknown.json")], "not a Veza query spec, create request, saved query or "
                                                            "report file (top-level keys: hello)"),
        "too large": ([str(tmp_path / "huge.json")], "huge.json is larger than 16 MiB; not read"),
        "a FIFO": ([str(tmp_path / "fifo.json")], "fifo.json is not a regular file"),
        "missing": ([str(tmp_path / "nope.json")], "cannot read"),
        "context mode": ([str(FIXTURES / "create-context.json")], "holds only a cache id"),
        "clash": ([str(FIXTURES / "create-immediate.json"), str(FIXTURES / "oaa-community-github-report.json")],
                  "a query named 'github-users' already exists (queries/github-users.yaml)"),
        "outside": ([str(FIXTURES / "create-immediate.json"), "--into", str(tmp_path)], "outside the project"),
        "stdin twice": (["-", "-"], "`-` (standard input) may be given once"),
        "a directory": ([str(FIXTURES)], f"{FIXTURES} is a directory; give a file, or `-` for standard input"),
        "an empty tag": ([str(FIXTURES / "create-immediate.json"), "--tag", ""], "--tag '': an empty or blank tag"),
        "a blank owner": ([str(FIXTURES / "create-immediate.json"), "--owner", " "],
                          "--owner ' ': an empty or blank owner"),
    }


def test_a_write_that_fails_midway_exits_3_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    root = project(tmp_path / "repo")
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"query_type": "SOURCE_TO_DESTINATION",
                                 "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}))
    sources = [str(small), str(FIXTURES / "ui-export-spec.json")]
    sizes = [len(text) for text in re.split(r"^would write .*$", vqr("import", *sources, "--dry-run",
                                                                     cwd=root).stdout, flags=re.M)[1:3]]
    assert sizes[0] * 2 < sizes[1], sizes
    before = tree(root)
    limit = sizes[0] * 2  # a file-size limit (root obeys it too) that the first file fits and the second does not

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    done = subprocess.run([sys.executable, "-m", "runner", "import", *sources], cwd=root, capture_output=True,
                          text=True, env={**env, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
                          preexec_fn=limited, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert re.fullmatch(r"vqr: cannot use \S*queries/ui-export-spec\.yaml: File too large \(EFBIG\); "
                        r"nothing was written\n", done.stderr), done.stderr
    assert tree(root) == before



BAD = ["not JSON", "unknown shape", "too large", "a FIFO", "missing", "context mode", "clash", "outside",
       "stdin twice", "a directory", "an empty tag", "a blank owner"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    root = project(tmp_path / "repo")
    (root / "queries" / "github-users.yaml").write_text(
        "name: github-users\nspec:\n  query_type: SOURCE_TO_DESTINATION\n"
        "  source_node_types: {nodes: [{node_type: OktaUser}]}\n")
    arguments, message = _bad_inputs(tmp_path)[case]
    before = tree(root)
    done = vqr("import", *arguments, cwd=root, stdin=b"{}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert tree(root) == before


def _run_fixture(tmp_path: Path, name: str, *, modernize: bool) -> dict[str, Any]:
    root = project(tmp_path)
    done = vqr("import", str(FIXTURES / name), *(["--modernize"] if modernize else []), cwd=root)
    assert done.returncode == 0, done.stderr
    ran = run_vqr(root / "vqr.yaml", run_options())
    assert ran.run is not None and ran.run_dir is not None, ran.err
    queries = by_name(ran.run)
    assert {q["status"] for q in queries.values()} == {"succeeded"}, [q.get("error") for q in queries.values()]
    return {n: (ran.run_dir / q["results_file"]).read_text() for n, q in queries.items()}


@pytest.mark.parametrize("name", IMPORTABLE)
def test_each_fixture_runs_against_the_embedded_sandbox(tmp_path: Path, name: str) -> None:
    rows = _run_fixture(tmp_path, name, modernize=False)
    assert rows


@pytest.mark.parametrize(("name", "some_rows"), [("report-legacy.json", True),
                                               ("oaa-community-bitbucket-report-2023.json", False),
                                               ("oaa-community-github-report.json", False)])
def test_a_legacy_query_returns_the_rows_of_its_modernized_import(tmp_path: Path, name: str, some_rows: bool) -> None:
    as_is = _run_fixture(tmp_path / "as-is", name, modernize=False)
    assert as_is == _run_fixture(tmp_path / "modern", name, modernize=True)
    # report-legacy's bucket query filters by legacy conditions and tags on properties the sandbox has: equal rows
    # there mean the filters were honoured the same way, not that both came back empty.
    assert not some_rows or any(text.strip() for text in as_is.values())


def test_a_hostile_key_is_shown_on_one_escaped_line(tmp_path: Path) -> None:
    root = project(tmp_path / "repo")
    done = vqr("import", "-", cwd=root, stdin=json.dumps({"\x1b[31mred\nline": 1}).encode())
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "\x1b" not in done.stderr and "\\x1b[31mred line" in done.stderr


def test_the_readme_report_example_writes_what_the_readme_says(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Bring your queries from Veza"):readme.index("## Schemas")]
    example = section[section.index("```json\n") + 8:section.index("```", section.index("```json\n") + 8)]
    root = project(tmp_path / "repo")
    (tmp_path / "report.json").write_text(example)
    done = vqr("import", str(tmp_path / "report.json"), "--into", "queries/github", cwd=root)
    assert done.returncode == 0, done.stderr
    claim = re.search(r"writes `(queries/github/[a-z0-9-]+\.yaml)` with\n`tags: \[([^\]]*)\]`", section)
    assert claim is not None
    text = (root / claim.group(1)).read_text()
    assert f"tags: [{claim.group(2)}]\n" in text
