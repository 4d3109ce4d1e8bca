"""Start-up benchmark: `vqr --help` wall time against `python -c pass` with the same interpreter.

The figure is the per-pair difference in seconds (target: at most 0.3 s over the bare interpreter), so it measures
what vqr's own imports cost. Runs both as child processes, alternating, from the repository root.
"""

from __future__ import annotations

import sys

from bench.harness import Benchmark, Config, Metric, Result, Target, console_tool, judge, paired, time_command

OVER_PYTHON = Target(metric=Metric.OVER, op="<=", bound=0.3, unit="s")
FULL_REPEAT = 15  # each run is ~0.1 s: more pairs cost little and steady the median


def run_startup(config: Config) -> list[Result]:
    vqr = [*console_tool("vqr", "runner"), "--help"]
    bare = [sys.executable, "-c", "pass"]
    repeat = config.repeat if config.quick else max(config.repeat, FULL_REPEAT)
    pairs = paired(lambda: time_command(vqr, cwd=config.root), lambda: time_command(bare, cwd=config.root),
                   repeat=repeat, warmup=config.warmup)
    return [judge("startup-help", pairs, target=OVER_PYTHON, peer_label="python -c pass", config=config)]


BENCHMARKS = (Benchmark(name="startup", rows=("startup-help",), targets={"startup-help": OVER_PYTHON},
                        run=run_startup),)
