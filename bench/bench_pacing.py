"""The second nightly run (issue 15): the same 500 queries in immediate mode against `vqr sandbox serve --tls
--latency 1` in its own process, at concurrency 50, run twice (and a third time) from a fresh state. The first run
fills the journal's history with each job's duration; the second's first polls wait that long. Rows:
`nightly-again-polls-per-query` (the median of run.json's per-query polls in the second run, target <= 2) and
`nightly-again-vs-ideal` (its whole process, start-up to reports, against the ideal `ceil(500/50) x 1 s`, target
<= 1.15). A third run, the first paced by history the second confirmed, is reported beside them
(`third_run_median_polls`, `third_run_vs_ideal`).

Beside the wall row, the bare client (`bench/floor_runs.py`) on the same batch: its `floor_vs_ideal` is the wall
this bare client reaches here, knowing the latency and doing nothing but HTTP.

Each repetition starts from a reset sandbox and a fresh project state; `vqr run` is a child process. A second run
that does not execute every query again (immediate mode must) is an ERROR row.
"""

from __future__ import annotations

import json
import shutil
import statistics

from bench.floor_runs import floor_figures
from bench.gen_batch import ENV, BatchProject, BatchSize, batch_project
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

POLLS = Target(metric=Metric.VALUE, op="<=", bound=2.0, unit="polls")
VS_IDEAL = Target(metric=Metric.RATIO, op="<=", bound=1.15)


FULL = BatchSize(queries=500, concurrency=50, latency=1.0, repeat=3)
QUICK = BatchSize(queries=20, concurrency=10, latency=0.2, repeat=1)


def _vqr_run(project: BatchProject, env: dict[str, str]) -> Sample:
    return time_command([*console_tool("vqr", "runner"), "run", "--env", ENV, "--quiet"], cwd=project.root, env=env)


def _latest_run(project: BatchProject) -> dict[str, object]:
    data: dict[str, object] = json.loads((project.root / "reports" / "latest" / "run.json").read_text("utf-8"))
    return data


def run_pacing(config: Config) -> list[Result]:
    size = QUICK if config.quick else FULL
    repeat = 1 if config.quick else min(config.repeat, size.repeat)
    again: list[Sample] = []
    medians: list[float] = []
    first_medians: list[float] = []
    third_medians: list[float] = []
    third_walls: list[float] = []
    batch_seconds: list[float] = []
    with SandboxProcess(latency=size.latency, tls=True, cwd=config.workdir) as box:
        project = batch_project(config.workdir / "project", size.queries, url=box.url, ca_file=box.ca_file,
                                concurrency=size.concurrency, cache="{mode: immediate}")
        env = box.client_env()
        for _ in range(repeat):
            box.reset()
            for name in (".vqr", "reports"):
                shutil.rmtree(project.root / name, ignore_errors=True)
            _vqr_run(project, env)
            first = _latest_run(project)
            executed = box.stats()["executions"]
            again.append(_vqr_run(project, env))
            second = _latest_run(project)
            if box.stats()["executions"] - executed != size.queries:
                raise RuntimeError("the second run did not execute every immediate-mode query again")
            medians.append(statistics.median(_polls(second)))
            first_medians.append(statistics.median(_polls(first)))
            seconds = second["seconds"]
            assert isinstance(seconds, float | int)
            batch_seconds.append(float(seconds))
            # A third night, beside the row: the second night's first polls confirmed waits the first night's
            # own pace set, and only from the third on does the journal's history (kept a tenth shorter when
            # confirmed, execute/firstpoll.kept_duration) pace the jobs night after night.
            third_walls.append(_vqr_run(project, env).seconds)
            third_medians.append(statistics.median(_polls(_latest_run(project))))
        floor = floor_figures(box, project.specs, concurrency=size.concurrency, latency=size.latency,
                              repeat=repeat, workdir=config.workdir / "floor", ideal=size.ideal)
    ideal = size.ideal
    ideals = [Sample(seconds=ideal, peak_rss_kib=0, returncode=0, output="") for _ in again]
    shape = {"queries": size.queries, "concurrency": size.concurrency, "latency_s": size.latency,
             "mode": "immediate"}
    polls = value_result("nightly-again-polls-per-query", medians, target=POLLS, unit="polls", config=config,
                         peer_label="-", extra={**shape, "first_run_median_polls": statistics.median(first_medians),
                                                "third_run_median_polls": statistics.median(third_medians)})
    wall = judge("nightly-again-vs-ideal", Pairs(ours=again, peer=ideals), target=VS_IDEAL,
                 peer_label=size.ideal_label, config=config,
                 extra={**shape, "run_json_seconds": statistics.median(batch_seconds),
                        "third_run_vs_ideal": round(statistics.median(third_walls) / ideal, 3),
                        **floor})
    return [polls, wall]


def _polls(run: dict[str, object]) -> list[int]:
    queries = run["queries"]
    assert isinstance(queries, list)
    return [int(q["timings"]["polls"]) for q in queries]


ROWS = ("nightly-again-polls-per-query", "nightly-again-vs-ideal")
BENCHMARKS = (Benchmark(name="nightly-again", rows=ROWS,
                        targets={"nightly-again-polls-per-query": POLLS, "nightly-again-vs-ideal": VS_IDEAL},
                        run=run_pacing),)
