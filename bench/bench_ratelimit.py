"""A rate-limited tenant (issue 15): `vqr sandbox serve --tls --latency 1 --rate-limit 50/s` in its own process and
2,000 distinct queries as four `vqr run --shard I/4` processes at concurrency 50 each (four times what the limit
lets through), then `vqr report merge`. Row `ratelimit-50-per-s-sustained`: the submits the sandbox admitted per
second over the submit phase, as a share of the limit (target >= 0.8), with no failed query (a failed one is FAIL).

The submit phase is sampled from `GET /_sandbox/stats` (its `creates`: a 429 never reaches that counter): from the
first sample that saw a submit to the first that saw the last, so the opening burst is not counted as sustained
rate. The 429s served, each shard's throttling (its run.json `concurrency`) and the merged run's wall go in `extra`.
"""

from __future__ import annotations

import dataclasses

from bench.gen_batch import batch_project
from bench.harness import Benchmark, Config, Metric, Result, Target, Verdict
from bench.measures import Sampler, value_result
from bench.sandbox_proc import SandboxProcess
from bench.shards_proc import run_sharded

SUSTAINED = Target(metric=Metric.VALUE, op=">=", bound=0.8, unit="of limit")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Size:
    queries: int
    rate: int  # submits per second per key
    shards: int
    concurrency: int  # per shard
    latency: float


FULL = _Size(queries=2000, rate=50, shards=4, concurrency=50, latency=1.0)
QUICK = _Size(queries=40, rate=20, shards=4, concurrency=10, latency=0.2)


def run_ratelimit(config: Config) -> list[Result]:
    size = QUICK if config.quick else FULL
    limit = ("--rate-limit", f"{size.rate}/s")
    with SandboxProcess(latency=size.latency, tls=True, cwd=config.workdir, extra=limit) as box:
        project = batch_project(config.workdir / "project", size.queries, url=box.url, ca_file=box.ca_file,
                                concurrency=size.concurrency)
        with Sampler(box, interval=0.1) as sampler:
            sharded = run_sharded(project, box.client_env(), shards=size.shards, concurrency=size.concurrency)
        stats = box.stats()
    if stats["executions"] != size.queries:
        raise RuntimeError(f"the shards executed {stats['executions']} specs, not {size.queries}")
    admitted, seconds = sampler.submit_phase()
    if seconds <= 0:
        raise RuntimeError("the submit phase was shorter than one sample")
    rate = admitted / seconds
    summary = sharded.merged["summary"]
    failed = int(summary["failed"]) + int(summary["not_run"]) + int(summary["interrupted"])
    throttled = [(part.get("concurrency") or {}).get("throttled") for part in sharded.parts]
    extra = {"queries": size.queries, "rate_limit_per_s": size.rate, "shards": size.shards,
             "concurrency_per_shard": size.concurrency, "latency_s": size.latency,
             "submits_per_s": round(rate, 2), "submit_phase_s": round(seconds, 2), "creates": stats["creates"],
             "served_429": stats["served_429"], "failed": failed, "merged_run_s": sharded.merged["seconds"],
             "wall_s": round(sharded.seconds, 2), "shard_seconds": [round(s.seconds, 2) for s in sharded.shards],
             "merge_seconds": round(sharded.merge.seconds, 2), "throttled_per_shard": throttled}
    row = value_result("ratelimit-50-per-s-sustained", [rate / size.rate], target=SUSTAINED, unit="of limit",
                       config=config, peer_label=f"{size.rate}/s limit, {size.queries} queries, {size.shards} shards",
                       extra=extra)
    if failed and row.verdict is Verdict.PASS:
        row = dataclasses.replace(row, verdict=Verdict.FAIL, error=f"{failed} queries did not succeed")
    return [row]


BENCHMARKS = (Benchmark(name="ratelimit", rows=("ratelimit-50-per-s-sustained",),
                        targets={"ratelimit-50-per-s-sustained": SUSTAINED}, run=run_ratelimit),)
