"""One budget per lint (issue 10, point 2): a matrix is counted before it is expanded and refused past its cap, the
template time, rendered bytes and combinations are shared by every value of one lint, and what the budget could not
pay for is a finding (where it ran out, then "not checked" per file), never a silent pass. Real files in a temp
project; the CLI in a subprocess whose time and peak memory are measured."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from runner.compile.lintcache import LintCache
from runner.compile.repository import Compiled, RepositoryCompiler, compile_repository, discover_query_files
from runner.model import Finding, Severity
from runner.settings import load_project, resolve_variables
from runner.template import LintLimits
from runner.template.budget import MATRIX_COMBINATIONS
from runner.validate.schemas import load_schema_set
from tests.support.own_peak import RUN_MODULE

REPO = Path(__file__).resolve().parents[3]
SPEC = """\
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser}]}
  relates_to_exp:
    specs: [{node_types: {nodes: [{node_type: S3Bucket}]}, effective_permissions: {values: [DATA_WRITE]}}]
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
"""
SLOW = "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}"  # 10**8 empty steps


def query(name: str, *, lines: str = "") -> str:
    """A valid query file; `lines` go between `owner:` and `spec:` (line 3 on)."""
    return f"name: {name}\nowner: identity-team\n{lines}{SPEC}"


def project_with(root: Path, files: dict[str, str]) -> Path:
    (root / "vqr.yaml").write_text("queries: queries/\n", encoding="utf-8")
    for name, text in files.items():
        (root / "queries" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "queries" / name).write_text(text, encoding="utf-8")
    return root


def compile_with(root: Path, limits: LintLimits | None = None) -> Compiled:
    project = load_project(root / "vqr.yaml")
    return compile_repository(project, load_schema_set(project.schemas_dir),
                              resolve_variables(project, project.environment(None)),
                              files=discover_query_files(project), limits=limits)


def found(compiled: Compiled) -> list[tuple[str, int, str]]:
    return [(f.path, f.line, f.rule) for f in compiled.findings]


def only(findings: tuple[Finding, ...] | list[Finding], rule: str) -> Finding:
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, [(f.rule, f.message) for f in findings]
    return matching[0]


def run_measured(args: list[str], *, cwd: Path, timeout: float = 30.0) -> tuple[int, str, float, int]:
    """(exit code, output, seconds, peak RSS in KiB) of one CLI run; killed at `timeout`, and its address space
    capped at 2 GiB, so a runaway lint fails this test instead of the machine."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {**os.environ, "PYTHONPATH": str(REPO), "VQR_NO_LINT_CACHE": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    peak_file = cwd / ".peak-kib"
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", RUN_MODULE, str(peak_file), "runner", *args], cwd=cwd, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=cap)
    killer = threading.Timer(timeout, child.kill)
    killer.start()
    assert child.stdout is not None
    try:
        with child.stdout:
            output = child.stdout.read()
        child.wait()
    finally:
        killer.cancel()
    elapsed = time.monotonic() - started
    assert elapsed < timeout, f"killed after {timeout} s: {output[-2000:]}"
    # The child's own VmHWM: ru_maxrss would count this pytest worker's memory too (see tests/support/own_peak.py).
    return child.returncode, output, elapsed, int(peak_file.read_text())


# --- the matrix: counted, never expanded past its cap ---------------------------------------------------------------

def test_a_ten_by_ten_matrix_is_refused_at_once_with_a_finding_at_the_matrix(tmp_path: Path) -> None:
    matrix = json.dumps({f"k{i}": [f"v{j}" for j in range(10)] for i in range(10)})  # 10**10 combinations
    name = "-".join(f"{{{{ k{i} }}}}" for i in range(10))
    project_with(tmp_path, {"bomb.yaml": query(f"q-{name}", lines=f"matrix: {matrix}\n")})
    code, output, _, peak_kib = run_measured(["lint", "--format", "json"], cwd=tmp_path, timeout=20)
    assert code == 1, output
    [finding] = json.loads(output)["findings"]
    assert (finding["line"], finding["column"], finding["rule"]) == (3, 1, "template/matrix-too-large")
    assert "10,000,000,000 combinations" in finding["message"]
    assert peak_kib < 200 * 1024  # the old code had 281 MB after 60 s, still expanding


def test_a_matrix_at_its_cap_is_expanded_and_one_over_is_not(tmp_path: Path) -> None:
    over = MATRIX_COMBINATIONS + 1
    project_with(tmp_path, {
        "ok.yaml": query("ok-{{ a }}-{{ b }}", lines=f"matrix: {{a: {list(range(2))}, b: {list(range(3))}}}\n"),
        "over.yaml": query("over-{{ a }}", lines=f"matrix: {{a: {list(range(over))}}}\n"),
    })
    compiled = compile_with(tmp_path)
    assert found(compiled) == [("queries/over.yaml", 3, "template/matrix-too-large")]
    assert len(compiled.units) == 6


def test_a_matrix_of_a_thousand_keys_is_counted_without_a_huge_number(tmp_path: Path) -> None:
    matrix = json.dumps({f"k{i}": [1, 2] for i in range(1000)})  # 2**1000 combinations
    project_with(tmp_path, {"wide.yaml": query("wide", lines=f"matrix: {matrix}\n")})
    finding = only(compile_with(tmp_path).findings, "template/matrix-too-large")
    assert "more than 1,000,000,000,000,000,000 combinations" in finding.message


def test_the_combinations_budget_is_shared_by_every_file_and_what_is_left_is_not_checked(tmp_path: Path) -> None:
    project_with(tmp_path, {
        "a.yaml": query("a-{{ n }}", lines="matrix: {n: [1, 2, 3]}\n"),
        "b.yaml": query("b-{{ n }}", lines="matrix: {n: [1, 2, 3]}\n"),
        "c.yaml": query("c"),
    })
    compiled = compile_with(tmp_path, LintLimits(combinations=5))
    assert found(compiled) == [("queries/b.yaml", 3, "template/budget"), ("queries/c.yaml", 1, "template/not-checked")]
    assert "budget of 5 query combinations is spent here" in compiled.findings[0].message
    assert compiled.findings[1].message.endswith("was spent at queries/b.yaml:3:1; this file is not expanded")
    assert [unit.name for unit in compiled.units] == ["a-1", "a-2", "a-3"]


def test_one_value_matrix_keys_count_as_bindings_before_anything_is_expanded(tmp_path: Path) -> None:
    """999 combinations of 12,000 one-value keys stayed under the combination caps while taking 24 s and 1.5 GB per
    file (issue 10, found in review): each combination binds every variable in scope, so that is what is counted."""
    matrix = {f"a{i}": [i] for i in range(12_000)} | {"big": list(range(999))}
    files = {f"f{n}.yaml": query(f"f{n}-{{{{ big }}}}", lines=f"matrix: {json.dumps(matrix)}\n") for n in range(4)}
    project_with(tmp_path, files)
    code, output, _, peak_kib = run_measured(["lint", "--format", "json"], cwd=tmp_path, timeout=30)
    assert code == 1, output
    findings = json.loads(output)["findings"]
    assert [(f["path"], f["line"], f["rule"]) for f in findings] == [
        ("queries/f0.yaml", 3, "template/budget"),
        *((f"queries/f{n}.yaml", 3, "template/not-checked") for n in range(1, 4))]
    assert "1,000,000 variable bindings" in findings[0]["message"]
    assert peak_kib < 300 * 1024  # the old code: 66 s and 3.8 GB for these four files


def test_bindings_are_shared_by_every_file(tmp_path: Path) -> None:
    project_with(tmp_path, {
        "a.yaml": query("a-{{ n }}", lines="vars: {x: 1, y: 2}\nmatrix: {n: [1, 2]}\n"),  # 2 x (x, y, n)
        "b.yaml": query("b-{{ n }}", lines="matrix: {n: [1, 2]}\n"),
    })
    compiled = compile_with(tmp_path, LintLimits(bindings=9))
    assert [unit.name for unit in compiled.units] == ["a-1", "a-2"]
    assert found(compiled) == [("queries/b.yaml", 3, "template/budget")]
    assert "9 variable bindings" in compiled.findings[0].message


# --- template time: one budget for the whole lint -------------------------------------------------------------------

def test_forty_slow_values_stop_at_the_lint_budget_and_the_rest_is_not_checked(tmp_path: Path) -> None:
    tags = ", ".join(f'"{SLOW}t{i}"' for i in range(40))  # each takes the 1 s a value may: 40 s before
    project_with(tmp_path, {
        "a-slow.yaml": query("slow", lines=f"tags: [{tags}]\n"),
        "b-templated.yaml": query("b-{{ 1 + 1 }}"),
        "c-plain.yaml": query("c", lines="bogus: 1\n"),  # no template: still checked in full
    })
    started = time.monotonic()
    compiled = compile_with(tmp_path, LintLimits(seconds=2.5))
    assert time.monotonic() - started < 15
    rules = [f.rule for f in compiled.findings]
    assert rules.count("template/timeout") == 2 and rules.count("template/budget") == 1
    spent = only(compiled.findings, "template/budget")
    assert spent.path == "queries/a-slow.yaml" and "template time budget (2.5 s) is spent here" in spent.message
    not_checked = [f for f in compiled.findings if f.rule == "template/not-checked"]
    assert [f.path for f in not_checked] == ["queries/a-slow.yaml", "queries/b-templated.yaml"]
    assert all(f"was spent at queries/a-slow.yaml:{spent.line}:{spent.column}" in f.message for f in not_checked)
    assert ("queries/c-plain.yaml", 3, "query/unknown-key") in found(compiled)
    assert compiled.units == () and all(f.severity is Severity.ERROR for f in not_checked)


def test_rendered_output_is_budgeted_across_values(tmp_path: Path) -> None:
    big = "{{ 'x' * 600 }}"
    project_with(tmp_path, {"a.yaml": query("a", lines=f'description: "{big}"\ntags: ["{big}", "{big}"]\n')})
    compiled = compile_with(tmp_path, LintLimits(output_bytes=1000))
    assert found(compiled) == [("queries/a.yaml", 4, "template/budget"), ("queries/a.yaml", 4, "template/not-checked")]
    assert "rendered output budget (1,000 bytes) is spent here" in compiled.findings[0].message
    assert compiled.units == ()


def test_the_default_budget_lets_an_ordinary_repository_through(tmp_path: Path) -> None:
    files = {f"q{i}.yaml": query(f"q{i}-{{{{ n }}}}", lines="matrix: {n: [1, 2]}\ndescription: '{{ n * 2 }}'\n")
             for i in range(50)}
    compiled = compile_with(project_with(tmp_path, files))
    assert compiled.findings == () and len(compiled.units) == 100


def test_a_file_cut_short_by_the_budget_is_not_cached(tmp_path: Path) -> None:
    project_with(tmp_path, {"a.yaml": query("a-{{ n }}", lines="matrix: {n: [1, 2]}\n"), "b.yaml": query("b")})
    project = load_project(tmp_path / "vqr.yaml")
    key = tmp_path / "key"

    def lint(combinations: int) -> tuple[list[str], LintCache]:
        compiler = RepositoryCompiler(project, load_schema_set(project.schemas_dir), {}, lint_cache_key=key)
        compiler.budget.limits = LintLimits(combinations=combinations)  # the default limits, as the cache needs
        for file in discover_query_files(project):
            compiler.compile_file(file)
        assert compiler.cache is not None
        compiler.cache.finish()
        return [f.rule for f in compiler.findings], compiler.cache

    assert lint(2)[0] == ["template/budget"]  # a.yaml takes both; b.yaml is refused and must not be stored
    rules, cache = lint(100)
    assert rules == [] and (cache.hits, cache.misses) == (1, 1)


def test_no_combination_left_means_nothing_is_checked(tmp_path: Path) -> None:
    project_with(tmp_path, {"a.yaml": query("a")})
    assert found(compile_with(tmp_path, LintLimits(combinations=0))) == [
        ("queries/a.yaml", 1, "template/budget")]
