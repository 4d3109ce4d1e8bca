"""The reply scanner's cost on hostile input: `nesting_depth_exceeds` over 8 MiB of openers and over 20,000
wide-and-deep arrays (8.6 MB), in-process CPU time (target: at most 1 s for both, i.e. linear in the bytes; a
quadratic scan would take minutes). About 0.6 s here, nearly all of it the byte loop over the wide arrays' 7.8
million brackets left after the quick passes. The unit tests check its answers; its speed is judged here, not by a
timer in the test suite."""

from __future__ import annotations

import time

from bench.harness import Benchmark, Config, Metric, Result, Target
from bench.measures import value_result
from runner.client.decode import nesting_depth_exceeds

SCAN = Target(metric=Metric.VALUE, op="<=", bound=1.0, unit="s")


def run_decode(config: Config) -> list[Result]:
    scale = 8 if config.quick else 1
    deep = b"[" * ((8 << 20) // scale)
    wide = (b"[" * 200 + b"1" + b"]" * 200 + b",") * (20_000 // scale)
    seconds: list[float] = []
    for _ in range(1 if config.quick else config.repeat):
        started = time.process_time()
        if not nesting_depth_exceeds(deep) or nesting_depth_exceeds(wide):
            raise RuntimeError("the scanner gave a wrong answer")
        seconds.append(time.process_time() - started)
    return [value_result("hostile-reply-scan", seconds, target=SCAN, unit="s", config=config,
                         peer_label="8 MiB of '[' + 20,000 arrays 200 deep",
                         extra={"bytes": len(deep) + len(wide)})]


BENCHMARKS = (Benchmark(name="hostile-reply-scan", rows=("hostile-reply-scan",), targets={"hostile-reply-scan": SCAN},
                        run=run_decode),)
