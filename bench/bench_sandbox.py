"""Sandbox benchmarks: poll throughput of a warm `vqr sandbox serve` process (a lean client on a few keep-alive
connections polling a RUNNING job), and how many polls `vqr run` spends on a 5-second job (sandbox stats).

The poll client is raw asyncio streams with a prebuilt request, so the figure is the server's, not a client
library's. Both talk plain HTTP to 127.0.0.1; the sandbox is a child process.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx

from bench.gen_batch import ENV, batch_project
from bench.harness import Benchmark, Config, Metric, Result, Target, console_tool, time_command
from bench.measures import value_result
from bench.sandbox_proc import KEY, SandboxProcess

POLL_RATE = Target(metric=Metric.VALUE, op=">=", bound=1000.0, unit="polls/s")
POLLS_PER_QUERY = Target(metric=Metric.VALUE, op="<=", bound=8.0, unit="polls")
API = "/api/v1/assessments/query_spec"
CONNECTIONS = 4
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
# Small, distinct results (one page each) so every poll count is about waiting, not paging.
JOB_QUERIES = (2, 3, 9)  # OktaApp, AwsAccount and S3BucketPolicyStatement specs of bench.gen_batch


def _request(url: str, query_result_id: str) -> tuple[str, int, bytes]:
    parsed = httpx.URL(url)
    body = json.dumps({"query_result_id": query_result_id, "page_size": "100", "page_token": ""}).encode()
    head = (f"POST {API}:nodes_async_get HTTP/1.1\r\nhost: {parsed.host}:{parsed.port}\r\n"
            f"authorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n")
    assert parsed.host is not None and parsed.port is not None
    return parsed.host, parsed.port, head.encode() + body


async def _poller(host: str, port: int, request: bytes, until: float) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            found = _LENGTH.search(head)
            if not head.startswith(b"HTTP/1.1 200") or found is None:
                raise RuntimeError(f"unexpected poll reply: {head[:200]!r}")
            body = await reader.readexactly(int(found.group(1)))
            if b'"status":"RUNNING"' not in body and b'"status":"PENDING"' not in body:
                raise RuntimeError(f"the job is not running any more: {body[:200]!r}")
            done += 1
    finally:
        writer.close()
    return done


async def _poll_for(url: str, query_result_id: str, seconds: float) -> float:
    host, port, request = _request(url, query_result_id)
    started = time.perf_counter()
    counts = await asyncio.gather(*(_poller(host, port, request, started + seconds) for _ in range(CONNECTIONS)))
    return sum(counts) / (time.perf_counter() - started)


def _create(box: SandboxProcess, spec: dict[str, object]) -> str:
    with httpx.Client(base_url=box.url, headers={"authorization": f"Bearer {KEY}"}, timeout=30) as client:
        reply = client.post(f"{API}:nodes_async_create", json={"immediate_run": {"request": {"body": spec}}})
        reply.raise_for_status()
        return str(reply.json()["query_result_id"])


def run_sandbox(config: Config) -> list[Result]:
    latency = 2.0 if config.quick else 5.0
    window = 0.5 if config.quick else 1.2  # each window polls one fresh job while it is still RUNNING
    repeat = 1 if config.quick else max(3, config.repeat)
    with SandboxProcess(latency=latency, cwd=config.workdir) as box:
        project = batch_project(config.workdir / "project", max(JOB_QUERIES) + 1, url=box.url,
                                concurrency=len(JOB_QUERIES))
        rates: list[float] = []
        for _ in range(repeat):
            query_result_id = _create(box, project.specs[0])
            before = box.stats()["polls"]
            rates.append(asyncio.run(_poll_for(box.url, query_result_id, window)))
            counted = box.stats()["polls"] - before
        box.reset()
        names = ", ".join(f"q{i:04d}" for i in JOB_QUERIES)
        argv = [*console_tool("vqr", "runner"), "run", "--env", ENV, "--quiet", *(
            arg for i in JOB_QUERIES for arg in ("--select", f"q{i:04d}"))]
        time_command(argv, cwd=project.root, env=box.client_env())
        stats = box.stats()
        run = json.loads((project.root / "reports" / "latest" / "run.json").read_text(encoding="utf-8"))
    polls = [float(q["timings"]["polls"]) for q in run["queries"]]
    if stats["executions"] != len(JOB_QUERIES) or stats["pages"] != len(JOB_QUERIES):
        raise RuntimeError(f"expected {len(JOB_QUERIES)} one-page executions, the sandbox saw {stats}")
    if sum(polls) != stats["polls"]:
        raise RuntimeError(f"run.json counts {sum(polls):g} polls, the sandbox {stats['polls']}")
    return [
        value_result("sandbox-poll-throughput", rates, target=POLL_RATE, unit="polls/s", config=config,
                     peer_label=f"{CONNECTIONS} keep-alive connections",
                     extra={"window_s": window, "server_counted_last_window": counted}),
        value_result("polls-per-5s-job", polls, target=POLLS_PER_QUERY, unit="polls", config=config,
                     peer_label=f"{latency:g} s jobs, {len(JOB_QUERIES)} queries ({names})",
                     extra={"sandbox_polls_total": stats["polls"], "latency_s": latency}),
    ]


ROWS = ("sandbox-poll-throughput", "polls-per-5s-job")
BENCHMARKS = (Benchmark(name="sandbox", rows=ROWS,
                        targets={"sandbox-poll-throughput": POLL_RATE, "polls-per-5s-job": POLLS_PER_QUERY},
                        run=run_sandbox),)
