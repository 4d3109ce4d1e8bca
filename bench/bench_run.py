"""Batch benchmarks of `vqr run` against `vqr sandbox serve --tls --latency 1` in its own process: 500 distinct
queries at concurrency 50 against the ideal `ceil(500/50) x 1 s`, against a sequential `oaaclient` loop over the same
specs and server, and a second run with `if_available` policies against the first (and its new executions).

Each repetition starts from a reset sandbox (empty cache) and a fresh project state; `vqr run` and the SDK loop are
child processes. The SDK loop is linear in the number of specs, so it runs on an evenly spaced sample and is scaled.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys
from pathlib import Path

from bench.gen_batch import ENV, BatchProject, batch_project
from bench.harness import (
    Benchmark,
    Config,
    Metric,
    Pairs,
    Result,
    Sample,
    Target,
    Verdict,
    console_tool,
    judge,
    time_command,
)
from bench.sandbox_proc import SandboxProcess

VS_IDEAL = Target(metric=Metric.RATIO, op="<=", bound=1.3)
VS_SDK = Target(metric=Metric.SPEEDUP, op=">=", bound=20.0, unit="x")
AGAIN = Target(metric=Metric.RATIO, op="<=", bound=0.1)
PAGE_SIZE = 1000  # vqr run's page size; the SDK loop asks for the same


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Size:
    queries: int
    concurrency: int
    latency: float
    sample: int  # specs the SDK loop runs
    repeat: int


FULL = _Size(queries=500, concurrency=50, latency=1.0, sample=10, repeat=3)
QUICK = _Size(queries=20, concurrency=10, latency=0.2, sample=2, repeat=1)


def _vqr_run(project: BatchProject, env: dict[str, str]) -> Sample:
    argv = [*console_tool("vqr", "runner"), "run", "--env", ENV, "--quiet"]
    return time_command(argv, cwd=project.root, env=env)


def _fresh_state(project: BatchProject) -> None:
    for name in (".vqr", "reports"):
        shutil.rmtree(project.root / name, ignore_errors=True)


def _rows_by_query(project: BatchProject) -> dict[str, int]:
    run = json.loads((project.root / "reports" / "latest" / "run.json").read_text(encoding="utf-8"))
    return {q["name"]: q.get("rows") for q in run["queries"]}


def _sdk_loop(project: BatchProject, env: dict[str, str], sample: list[int], root: Path) -> tuple[Sample, list[int]]:
    """The SDK loop on `sample` (query indexes), its wall time extrapolated to every spec: the whole process plus
    the loop's own time scaled by (all - sampled) / sampled."""
    specs_file = project.root / "sdk-sample.json"
    specs_file.write_text(json.dumps([project.specs[i] for i in sample]), encoding="utf-8")
    argv = [sys.executable, "-m", "bench.oaa_loop", env["VEZA_URL"], str(specs_file), str(PAGE_SIZE)]
    ran = time_command(argv, cwd=root, env={**env, "PYTHONPATH": str(root)}, keep_output=True)
    report = json.loads(ran.output.strip().splitlines()[-1])
    scaled = ran.seconds + report["seconds"] * (len(project.specs) - len(sample)) / len(sample)
    return dataclasses.replace(ran, seconds=scaled, output=""), list(report["rows"])


def run_batch(config: Config) -> list[Result]:
    size = QUICK if config.quick else FULL
    repeat = min(config.repeat, size.repeat) if not config.quick else 1
    step = size.queries // size.sample
    sample = [i * step for i in range(size.sample)]
    first: list[Sample] = []
    second: list[Sample] = []
    sdk: list[Sample] = []
    new_executions: list[int] = []
    rows_match = True
    with SandboxProcess(latency=size.latency, tls=True, cwd=config.workdir) as box:
        project = batch_project(config.workdir / "project", size.queries, url=box.url, ca_file=box.ca_file,
                                concurrency=size.concurrency)
        env = box.client_env()
        for _ in range(repeat):
            box.reset()
            _fresh_state(project)
            first.append(_vqr_run(project, env))
            executed = box.stats()["executions"]
            if executed != size.queries:
                raise RuntimeError(f"the first run executed {executed} specs, not {size.queries}")
            rows = _rows_by_query(project)
            second.append(_vqr_run(project, env))
            new_executions.append(box.stats()["executions"] - executed)
            peer, sdk_rows = _sdk_loop(project, env, sample, config.root)
            sdk.append(peer)
            rows_match = rows_match and sdk_rows == [rows[f"q{i:04d}"] for i in sample]
    ideal = math.ceil(size.queries / size.concurrency) * size.latency
    ideal_samples = [Sample(seconds=ideal, peak_rss_kib=0, returncode=0, output="") for _ in first]
    shape = {"queries": size.queries, "concurrency": size.concurrency, "latency_s": size.latency}
    # One row name at every size (quick runs 20 queries), so the table and the quick test see the same rows.
    vs_ideal = judge("run-500-queries", Pairs(ours=first, peer=ideal_samples), target=VS_IDEAL,
                     peer_label=f"ideal ceil({size.queries}/{size.concurrency})x{size.latency:g}s", config=config,
                     extra=shape)
    vs_sdk = judge("run-vs-oaaclient", Pairs(ours=first, peer=sdk), target=VS_SDK,
                   peer_label=f"oaaclient loop ({size.sample} specs, x{size.queries / size.sample:g})",
                   config=config, extra={**shape, "sdk_sample": size.sample, "rows_match_sdk": rows_match})
    again = judge("run-again-cached", Pairs(ours=second, peer=first), target=AGAIN, peer_label="first run",
                  config=config, extra={"new_executions": max(new_executions), **shape})
    if again.verdict is Verdict.PASS and max(new_executions) > 0:
        again = dataclasses.replace(again, verdict=Verdict.FAIL)
    if not rows_match:
        vs_sdk = dataclasses.replace(vs_sdk, verdict=Verdict.ERROR, error="the SDK loop saw other row counts")
    return [vs_ideal, vs_sdk, again]


ROWS = ("run-500-queries", "run-vs-oaaclient", "run-again-cached")
BENCHMARKS = (Benchmark(name="run-batch", rows=ROWS,
                        targets={"run-500-queries": VS_IDEAL, "run-vs-oaaclient": VS_SDK, "run-again-cached": AGAIN},
                        run=run_batch),)

