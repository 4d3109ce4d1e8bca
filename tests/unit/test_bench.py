"""`python -m bench --quick` (bench/): every registered benchmark runs and lands in the table and results.json.

Runs the real harness as a child process at tiny sizes; it checks that the benchmarks work, not their targets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench import bench_impact, registered_benchmarks
from bench.gen_queries import GeneratedProject
from bench.harness import Benchmark, Config, Metric, Spread, Target, Verdict

ROOT = Path(__file__).resolve().parents[2]


BENCHMARKS = registered_benchmarks()
# What a row's quick run must also show, beyond running: the figures that prove it measured the right thing.
EXTRA_CHECKS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "run-again-cached": lambda result: result["extra"]["new_executions"] == 0,
    "run-vs-oaaclient": lambda result: result["extra"]["rows_match_sdk"] is True,
    "impact-ls-vs-lint": lambda result: result["extra"]["listed"] == 3,
    "impact-diff-run-state-executions": lambda result: result["ours"]["median"] == 3,
    "client-cpu-per-query": lambda result: result["extra"]["floor_ms_per_query"] > 0,  # the bare client ran
    # The wall rows carry the bare client's wall against the same ideal (what it reaches here), one per run.
    "run-200-queries-vs-ideal": lambda result: (result["extra"]["floor_vs_ideal"] >= 1.0
                                                and len(result["extra"]["floor_seconds"]) == result["ours"]["n"]),
    "nightly-again-vs-ideal": lambda result: (result["extra"]["floor_vs_ideal"] >= 1.0
                                              and len(result["extra"]["floor_seconds"]) == result["ours"]["n"]
                                              and min(result["extra"]["floor_cpu_s"]) > 0),
    "run-10000-queries-vs-ideal": lambda result: (result["extra"]["floor_vs_ideal"] >= 1.0
                                                  and len(result["extra"]["floor_seconds"]) == 1),
    "shards-4x50-vs-ideal": lambda result: result["extra"]["floor_vs_ideal"] >= 1.0,
}


def test_every_target_has_its_registered_row() -> None:
    rows = [row for benchmark in BENCHMARKS for row in benchmark.rows]
    assert {"lint-1000-files", "lint-again-unchanged", "startup-help", "run-500-queries", "run-vs-oaaclient",
            "run-again-cached", "run-1m-rows-peak-rss", "sandbox-1m-paging-rss-growth", "sandbox-poll-throughput",
            "polls-per-5s-job", "lint-3-envs-vs-one", "lint-3-envs-vs-check-jsonschema", "impact-ls-vs-lint",
            "impact-diff-run-state-executions", "lifecycle-bytes-per-entity", "lifecycle-journal-mib",
            "lifecycle-seconds-per-run", "client-cpu-per-query", "nightly-again-polls-per-query",
            "nightly-again-vs-ideal", "run-200-queries-vs-ideal", "run-10000-queries-vs-ideal",
            "run-10000-queries-peak-rss", "shards-4x50-vs-ideal", "ratelimit-50-per-s-sustained"} <= set(rows)
    assert set(EXTRA_CHECKS) <= set(rows)


# One quick run per benchmark (`--only`), so the suite's workers share them: all of them in one process took a
# minute, the suite's longest test.
@pytest.mark.parametrize("benchmark", BENCHMARKS, ids=lambda benchmark: benchmark.name)
def test_each_benchmark_runs_quick_and_lands_in_the_table_and_results(tmp_path: Path, benchmark: Benchmark) -> None:
    output = tmp_path / "results.json"
    env = {**os.environ, "VQR_LINT_CACHE_KEY_FILE": str(tmp_path / "lint-cache.key")}  # keep out of $HOME
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", benchmark.name, "--output",
                           str(output)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = proc.stdout.splitlines()
    assert table[0].split() == ["benchmark", "n", "ours", "peer", "or", "ideal", "figure", "target", "verdict"]
    for row in benchmark.rows:
        line = next((text for text in table if text.startswith(row + " ")), None)
        assert line is not None, f"{row} missing from the table:\n{proc.stdout}"
        assert line.rstrip().endswith(" ran"), line
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["quick"] is True
    by_name = {result["name"]: result for result in document["results"]}
    assert set(by_name) == set(benchmark.rows)
    for name, result in by_name.items():
        assert result["verdict"] == "ran" and result["ours"]["n"] >= 1
        assert result["peer"] is None or result["peer"]["n"] == 1  # value rows (MiB, polls/s) have no peer
        growth = name == "sandbox-1m-paging-rss-growth"  # may be exactly zero
        assert result["ours"]["median"] >= 0 if growth else result["ours"]["median"] > 0, name
        assert name not in EXTRA_CHECKS or EXTRA_CHECKS[name](result), (name, result)


def test_only_filters_and_an_unknown_name_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "no-such-benchmark",
                           "--output", str(tmp_path / "r.json")], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 2 and "no benchmark named no-such-benchmark" in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_targets_and_spreads() -> None:
    spread = Spread.of([3.0, 1.0, 2.0, 10.0])
    assert (spread.median, spread.low, spread.high, spread.n) == (2.5, 1.0, 10.0, 4)
    at_most = Target(metric=Metric.RATIO, op="<=", bound=1.0)
    assert at_most.met(1.0) and not at_most.met(1.01)
    assert Target(metric=Metric.SPEEDUP, op=">=", bound=20).met(25) and at_most.describe() == "ratio <= 1"


def test_impact_ls_row_is_an_error_when_ls_lists_other_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark believes only 2 files changed while 3 did: the real `vqr ls` lists 3, so the row is broken."""
    real = bench_impact._change_three

    def forget_one(project: GeneratedProject) -> dict[str, Path]:
        changed = real(project)
        return dict(list(changed.items())[1:])

    monkeypatch.setattr(bench_impact, "_change_three", forget_one)
    monkeypatch.setenv("VQR_LINT_CACHE_KEY_FILE", str(tmp_path / "lint-cache.key"))
    config = Config(quick=True, repeat=1, warmup=0, workdir=tmp_path, root=ROOT)
    [result] = bench_impact.run_ls_vs_lint(config)
    assert result.verdict is Verdict.ERROR and "ls listed 3" in result.error and "expected 2" in result.error
