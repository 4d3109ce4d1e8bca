"""Client CPU benchmark: the user + system time of one `vqr run` process over a 200-query batch, divided by the
queries (target: at most 5 ms each).

The sandbox (`vqr sandbox serve --tls --latency 1`) is its own process, so its CPU is not counted: `wait4` on the
`vqr run` child gives that child's own rusage. The figure covers the whole process — start-up imports, lint,
compile, the run and every report — because that is what a scheduler pays per query. Each repetition starts from
a reset sandbox and a fresh project state.
"""

from __future__ import annotations

import dataclasses
import shutil

from bench.gen_batch import ENV, batch_project
from bench.harness import Benchmark, Config, Metric, Result, Sample, Target, console_tool, time_command
from bench.measures import value_result
from bench.sandbox_proc import SandboxProcess

PER_QUERY = Target(metric=Metric.VALUE, op="<=", bound=5.0, unit="ms")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Size:
    queries: int
    concurrency: int
    latency: float
    repeat: int


FULL = _Size(queries=200, concurrency=50, latency=1.0, repeat=3)
QUICK = _Size(queries=20, concurrency=10, latency=0.2, repeat=1)


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
    per_query = [1000 * s.cpu_seconds / size.queries for s in runs]
    return [value_result("client-cpu-per-query", per_query, target=PER_QUERY, unit="ms", config=config,
                         peer_label=f"{size.queries} queries, concurrency {size.concurrency}",
                         extra={"queries": size.queries, "concurrency": size.concurrency,
                                "latency_s": size.latency, "cpu_s": [s.cpu_seconds for s in runs],
                                "wall_s": [s.seconds for s in runs]})]


BENCHMARKS = (Benchmark(name="client-cpu", rows=("client-cpu-per-query",),
                        targets={"client-cpu-per-query": PER_QUERY}, run=run_cpu),)
