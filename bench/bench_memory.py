"""Memory benchmarks on one query returning 1,000,000 rows: the peak RSS of `vqr run` (a child process, measured by
wait4) with its rows per second, and the growth of the sandbox's RSS while it serves that result page by page.

The sandbox runs in its own process over a million-node graph (`--nodes 1000000`); the query selects every node
type, so it returns one row per node. `immediate` mode makes every repetition a fresh execution.
"""

from __future__ import annotations

import shutil

from bench.gen_batch import ENV, BatchProject, big_project
from bench.harness import Benchmark, Config, Metric, Result, Sample, Target, console_tool, time_command
from bench.measures import Sampler, value_result
from bench.sandbox_proc import SandboxProcess

RUNNER_RSS = Target(metric=Metric.VALUE, op="<=", bound=200.0, unit="MiB")
# "Flat": serving a gigabyte of JSON in 1,000-row pages may not keep more than this, whatever the result's size.
SERVING_GROWTH = Target(metric=Metric.VALUE, op="<=", bound=32.0, unit="MiB")
FULL_NODES = 1_000_000
QUICK_NODES = 3000
FULL_REPEAT = 2  # each run pages a million rows (about a minute): two keep `make bench` inside its budget


def _run(project: BatchProject, box: SandboxProcess) -> Sample:
    shutil.rmtree(project.root / "reports", ignore_errors=True)
    shutil.rmtree(project.root / ".vqr", ignore_errors=True)
    return time_command([*console_tool("vqr", "runner"), "run", "--env", ENV, "--quiet"], cwd=project.root,
                        env=box.client_env())


def run_million_rows(config: Config) -> list[Result]:
    nodes = QUICK_NODES if config.quick else FULL_NODES
    repeat = 1 if config.quick else min(config.repeat, FULL_REPEAT)
    runs: list[Sample] = []
    growth: list[float] = []
    at_first_page: list[float] = []
    with SandboxProcess(latency=0.5, nodes=nodes, cwd=config.workdir) as box:
        project = big_project(config.workdir / "project", url=box.url)
        idle = box.rss_mib()
        for _ in range(repeat):
            box.reset()
            with Sampler(box) as sampler:
                runs.append(_run(project, box))
            served = box.stats()["rows_served"]
            if served != nodes:
                raise RuntimeError(f"the sandbox served {served} rows, not {nodes}")
            start, grew = sampler.paging_growth()
            at_first_page.append(start)
            growth.append(grew)
    rss = [s.peak_rss_kib / 1024 for s in runs]
    rows_per_s = sorted(nodes / s.seconds for s in runs)
    label = f"{nodes:,} rows"
    speed = f"{label} at {rows_per_s[len(rows_per_s) // 2]:,.0f} rows/s"
    return [
        value_result("run-1m-rows-peak-rss", rss, target=RUNNER_RSS, unit="MiB", config=config, peer_label=speed,
                     extra={"rows": nodes, "rows_per_s_median": rows_per_s[len(rows_per_s) // 2],
                            "rows_per_s": rows_per_s, "wall_s": [s.seconds for s in runs]}),
        value_result("sandbox-1m-paging-rss-growth", growth, target=SERVING_GROWTH, unit="MiB", config=config,
                     peer_label=label, extra={"rss_mib_idle": idle, "rss_mib_at_first_page": at_first_page}),
    ]


ROWS = ("run-1m-rows-peak-rss", "sandbox-1m-paging-rss-growth")
BENCHMARKS = (Benchmark(name="memory", rows=ROWS,
                        targets={"run-1m-rows-peak-rss": RUNNER_RSS, "sandbox-1m-paging-rss-growth": SERVING_GROWTH},
                        run=run_million_rows),)
