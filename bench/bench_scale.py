"""Large batches (issue 15): 10,000 distinct queries against `vqr sandbox serve --tls --latency 1` in its own process.
Rows: `run-10000-queries-vs-ideal` (one `vqr run` at concurrency 200, the whole process from start-up to reports,
against the ideal `ceil(10000/200) x 1 s`, target <= 1.3), `run-10000-queries-peak-rss` (that process's own peak
RSS from `os.wait4`, target <= 300 MiB) and `shards-4x50-vs-ideal` (the same batch as four `vqr run --shard I/4`
processes at concurrency 50 each, started together on this machine, then `vqr report merge`; from the first spawn
to the merge's exit, against the same ideal, target <= 1.4).

Beside them, one run of the bare client (`bench/floor_runs.py`) on the same batch at concurrency 200: its
`floor_vs_ideal` is the wall this bare client reaches against this sandbox on this machine, which shards are not
expected to beat (they share the same sandbox and cores), so both wall rows carry it.

Each side starts from a reset sandbox (empty cache) and a fresh project state, so every body is executed; a run that
does not execute each exactly once is an ERROR row. Full sizes run once: one repetition takes minutes.
"""

from __future__ import annotations

import dataclasses
import shutil

from bench.floor_runs import floor_figures
from bench.gen_batch import ENV, BatchProject, batch_project, ideal_label, ideal_seconds
from bench.harness import Benchmark, Config, Metric, Pairs, Result, Sample, Target, console_tool, judge, time_command
from bench.measures import value_result
from bench.sandbox_proc import SandboxProcess
from bench.shards_proc import run_sharded

VS_IDEAL = Target(metric=Metric.RATIO, op="<=", bound=1.3)
PEAK_RSS = Target(metric=Metric.VALUE, op="<=", bound=300.0, unit="MiB")
SHARDS_VS_IDEAL = Target(metric=Metric.RATIO, op="<=", bound=1.4)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Size:
    queries: int
    concurrency: int  # the single process's; the shards share it out
    shards: int
    latency: float


FULL = _Size(queries=10_000, concurrency=200, shards=4, latency=1.0)
QUICK = _Size(queries=40, concurrency=20, shards=4, latency=0.2)


def _fresh(box: SandboxProcess, project: BatchProject) -> None:
    box.reset()
    for name in (".vqr", "reports"):
        shutil.rmtree(project.root / name, ignore_errors=True)


def _check_executed(box: SandboxProcess, size: _Size, what: str) -> None:
    executed = box.stats()["executions"]
    if executed != size.queries:
        raise RuntimeError(f"{what} executed {executed} specs, not {size.queries}")


def run_scale(config: Config) -> list[Result]:
    size = QUICK if config.quick else FULL
    with SandboxProcess(latency=size.latency, tls=True, cwd=config.workdir) as box:
        project = batch_project(config.workdir / "project", size.queries, url=box.url, ca_file=box.ca_file,
                                concurrency=size.concurrency)
        env = box.client_env()
        _fresh(box, project)
        single = time_command([*console_tool("vqr", "runner"), "run", "--env", ENV, "--quiet"], cwd=project.root,
                              env=env)
        _check_executed(box, size, "the single run")
        _fresh(box, project)
        sharded = run_sharded(project, env, shards=size.shards, concurrency=size.concurrency // size.shards)
        _check_executed(box, size, "the shards")
        failed = sharded.merged["summary"]["failed"]
        if sharded.merged["summary"]["succeeded"] != size.queries:
            raise RuntimeError(f"the merged run has {failed} failed queries: {sharded.merged['summary']}")
        ideal = ideal_seconds(size.queries, size.concurrency, size.latency)
        floor = floor_figures(box, project.specs, concurrency=size.concurrency, latency=size.latency, repeat=1,
                              workdir=config.workdir / "floor", ideal=ideal)
    ideal_sample = Sample(seconds=ideal, peak_rss_kib=0, returncode=0, output="")
    label = ideal_label(size.queries, size.concurrency, size.latency)
    shape = {"queries": size.queries, "concurrency": size.concurrency, "latency_s": size.latency}
    whole = judge("run-10000-queries-vs-ideal", Pairs(ours=[single], peer=[ideal_sample]), target=VS_IDEAL,
                  peer_label=label, config=config, extra={**shape, "cpu_s": round(single.cpu_seconds, 2), **floor})
    rss = value_result("run-10000-queries-peak-rss", [single.peak_rss_kib / 1024], target=PEAK_RSS, unit="MiB",
                       config=config, peer_label="vqr run's own peak (wait4)", extra=shape)
    merge = sharded.merge
    shards = judge("shards-4x50-vs-ideal",
                   Pairs(ours=[Sample(seconds=sharded.seconds, peak_rss_kib=max(s.peak_rss_kib for s in sharded.shards),
                                      returncode=0, output="")], peer=[ideal_sample]),
                   target=SHARDS_VS_IDEAL, peer_label=label, config=config,
                   extra={**shape, "shards": size.shards, "concurrency_per_shard": size.concurrency // size.shards,
                          "shard_seconds": [round(s.seconds, 2) for s in sharded.shards],
                          "shard_cpu_s": [round(s.cpu_seconds, 2) for s in sharded.shards],
                          "merge_seconds": round(merge.seconds, 2), "merge_peak_rss_mib": merge.peak_rss_kib / 1024,
                          **{k: v for k, v in floor.items() if k in ("floor_vs_ideal", "floor_error")}})
    return [whole, rss, shards]


ROWS = ("run-10000-queries-vs-ideal", "run-10000-queries-peak-rss", "shards-4x50-vs-ideal")
BENCHMARKS = (Benchmark(name="scale-10000", rows=ROWS,
                        targets={"run-10000-queries-vs-ideal": VS_IDEAL, "run-10000-queries-peak-rss": PEAK_RSS,
                                 "shards-4x50-vs-ideal": SHARDS_VS_IDEAL},
                        run=run_scale),)
