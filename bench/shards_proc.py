"""Sharded `vqr run` for the benchmarks: N `vqr run --shard I/N` child processes started together against one
sandbox, then `vqr report merge` of their run directories, timed from the first spawn to the merge's exit.

`run_sharded(project, env, shards=4, concurrency=50)` returns a `ShardedRun` (the wall, each shard's own `Sample`
from `os.wait4`, the merge's, the merged run.json and each shard's). Process and file I/O; every child is waited
for by its pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.gen_batch import ENV, BatchProject
from bench.harness import CommandFailed, Sample, console_tool, time_command


@dataclass(frozen=True, kw_only=True)
class ShardedRun:
    seconds: float  # first shard spawned -> merge exited
    shards: tuple[Sample, ...]
    merge: Sample
    merged: dict[str, Any]  # the merged run.json
    parts: tuple[dict[str, Any], ...]  # each shard's run.json


def _wait(proc: subprocess.Popen[bytes], sink: IO[bytes], started: float) -> Sample:
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sink.seek(0)
    output = sink.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise CommandFailed(f"a shard exited {proc.returncode}: {output[-2000:]}")
    return Sample(seconds=seconds, peak_rss_kib=int(usage.ru_maxrss), returncode=0, output="",
                  cpu_seconds=usage.ru_utime + usage.ru_stime)


def run_sharded(project: BatchProject, env: dict[str, str], *, shards: int, concurrency: int) -> ShardedRun:
    """Every shard at `concurrency`, all at once (as N CI jobs would be), then one merge into reports/."""
    vqr = console_tool("vqr", "runner")
    started = time.perf_counter()
    running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    with contextlib.ExitStack() as files:
        try:
            for index in range(shards):
                sink = files.enter_context(tempfile.TemporaryFile())  # a file, not a pipe: never blocks a shard
                argv = [*vqr, "run", "--env", ENV, "--quiet", "--concurrency", str(concurrency),
                        "--shard", f"{index}/{shards}"]
                running.append((subprocess.Popen(argv, cwd=project.root, env=env, stdin=subprocess.DEVNULL,
                                                 stdout=sink, stderr=subprocess.STDOUT), sink))
            samples = tuple(_wait(proc, sink, started) for proc, sink in running)
        finally:
            for proc, _ in running:
                if proc.returncode is None:  # a shard failed before this one was waited for
                    proc.kill()
                    proc.wait()
    dirs = [str(project.root / "reports" / f"shard-{i}-of-{shards}") for i in range(shards)]
    merge = time_command([*vqr, "report", "merge", *dirs, "--out", "reports"], cwd=project.root, env=env)
    seconds = time.perf_counter() - started
    merged: dict[str, Any] = json.loads((project.root / "reports" / "latest" / "run.json").read_text("utf-8"))
    parts = tuple(json.loads((Path(d) / "latest" / "run.json").read_text("utf-8")) for d in dirs)
    return ShardedRun(seconds=seconds, shards=samples, merge=merge, merged=merged, parts=parts)
