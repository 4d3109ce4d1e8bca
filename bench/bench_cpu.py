"""Client CPU benchmark: the user + system time of one `vqr run` process over a 200-query batch, divided by the
queries (target: at most 5 ms each); and the same runs' wall against the ideal `ceil(200/50) x 1 s` (row
`run-200-queries-vs-ideal`, target <= 1.3: the whole process, start-up, lint, compile, run and reports).

The sandbox (`vqr sandbox serve --tls --latency 1`) is its own process, so its CPU is not counted: `wait4` on the
`vqr run` child gives that child's own rusage (its CSV worker, which it reaps, included). Beside it, the same batch
by a bare asyncio + aiohttp client (`bench/floor_client.py`: submit, poll, read the pages, write the rows, nothing
else) gives the floor that such a client costs on this machine, in the row's `floor_ms_per_query`, and the
wall it reaches here, in the wall row's `floor_vs_ideal` (`bench/floor_runs.py`). The CPU figure covers
the whole process — start-up imports, lint, compile, the run and every report — because that is what a scheduler
pays per query. Each repetition starts from a reset sandbox and a fresh project state.
"""

from __future__ import annotations

import shutil

from bench.floor_runs import floor_figures
from bench.gen_batch import ENV, BatchSize, batch_project
from bench.harness import (
    Benchmark,
    Config,
    Metric,
    Pairs,
    Result,
    Sample,
    Target,
    console_tool,
    judge,
    time_command,
)
from bench.measures import value_result
from bench.sandbox_proc import SandboxProcess

PER_QUERY = Target(metric=Metric.VALUE, op="<=", bound=5.0, unit="ms")
VS_IDEAL = Target(metric=Metric.RATIO, op="<=", bound=1.3)


FULL = BatchSize(queries=200, concurrency=50, latency=1.0, repeat=3)
QUICK = BatchSize(queries=20, concurrency=10, latency=0.2, repeat=1)


def run_cpu(config: Config) -> list[Result]:
    size = QUICK if config.quick else FULL
    repeat = 1 if config.quick else min(config.repeat, size.repeat)
    runs: list[Sample] = []
    with SandboxProcess(latency=size.latency, tls=True, cwd=config.workdir) as box:
        project = batch_project(config.workdir / "project", size.queries, url=box.url, ca_file=box.ca_file,
                                concurrency=size.concurrency)
        env = box.client_env()
        for _ in range(repeat):
            box.reset()
            for name in (".vqr", "reports"):
                shutil.rmtree(project.root / name, ignore_errors=True)
            runs.append(time_command([*console_tool("vqr", "runner"), "run", "--env", ENV, "--quiet"],
                                     cwd=project.root, env=env))
            executed = box.stats()["executions"]
            if executed != size.queries:
                raise RuntimeError(f"the run executed {executed} specs, not {size.queries}")
        floor = floor_figures(box, project.specs, concurrency=size.concurrency, latency=size.latency,
                              repeat=repeat, workdir=config.workdir / "floor", ideal=size.ideal)
    per_query = [1000 * s.cpu_seconds / size.queries for s in runs]
    ideal = size.ideal
    floor_label = (f"{floor['floor_ms_per_query']:.1f} ms" if "floor_ms_per_query" in floor
                   else "failed (floor_error)")
    ideals = [Sample(seconds=ideal, peak_rss_kib=0, returncode=0, output="") for _ in runs]
    wall = judge("run-200-queries-vs-ideal", Pairs(ours=runs, peer=ideals), target=VS_IDEAL,
                 peer_label=size.ideal_label, config=config,
                 extra={"queries": size.queries, "concurrency": size.concurrency, "latency_s": size.latency,
                        **{k: v for k, v in floor.items() if k in ("floor_vs_ideal", "floor_seconds", "floor_error")}})
    return [wall, value_result("client-cpu-per-query", per_query, target=PER_QUERY, unit="ms", config=config,
                         peer_label=f"{size.queries} queries, concurrency {size.concurrency}; a bare aiohttp "
                                    f"client: {floor_label}",
                         extra={"queries": size.queries, "concurrency": size.concurrency,
                                "latency_s": size.latency, "cpu_s": [s.cpu_seconds for s in runs],
                                "wall_s": [s.seconds for s in runs],
                                **{k: v for k, v in floor.items() if k != "floor_seconds"}})]


BENCHMARKS = (Benchmark(name="client-cpu", rows=("run-200-queries-vs-ideal", "client-cpu-per-query"),
                        targets={"run-200-queries-vs-ideal": VS_IDEAL, "client-cpu-per-query": PER_QUERY},
                        run=run_cpu),)
