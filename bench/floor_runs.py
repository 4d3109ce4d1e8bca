"""The bare client's runs beside a row: what any client reaches on this machine, so a target can be read against it.

`floor_runs(box, specs, concurrency=, latency=, repeat=, workdir=) -> list[Sample]` runs `bench/floor_client.py`
(asyncio + aiohttp over TLS: submit, wait the known latency, poll, read the pages, write the rows; no start-up work
beyond Python's and aiohttp's, no journal, lint, compile or reports) on the same batch against the same sandbox,
from a reset sandbox each time, and checks that it executed every spec. `floor_extra(floors, queries=, ideal=)` is
what a row records of them: the bare client's wall against the row's own ideal and its CPU per query. A wall target
below the floor's ratio, or a CPU target below its CPU, cannot be met by any client here: the sandbox sharing the
two cores and the HTTP stack set it, not vqr.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import Sample, time_command
from bench.sandbox_proc import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]  # where `python -m bench.floor_client` finds the bench package


def floor_runs(box: SandboxProcess, specs: Sequence[dict[str, Any]], *, concurrency: int, latency: float,
               repeat: int, workdir: Path) -> list[Sample]:
    """The bare client on the batch `repeat` times; each must execute every spec and write one rows file each,
    as vqr did, else the row is an ERROR."""
    workdir.mkdir(parents=True, exist_ok=True)
    specs_file = workdir / "specs.json"
    specs_file.write_text(json.dumps(list(specs)), encoding="utf-8")
    samples: list[Sample] = []
    for _ in range(repeat):
        box.reset()
        shutil.rmtree(workdir / "rows", ignore_errors=True)
        samples.append(time_command([sys.executable, "-m", "bench.floor_client", str(specs_file),
                                     str(workdir / "rows"), str(concurrency), str(latency)],
                                    cwd=ROOT, env=box.client_env()))
        executed = box.stats()["executions"]
        written = len(list((workdir / "rows").glob("*.jsonl")))
        if executed != len(specs) or written != len(specs):
            raise RuntimeError(f"the bare client executed {executed} specs and wrote {written} rows files, "
                               f"not {len(specs)}")
    return samples


def floor_extra(floors: Sequence[Sample], *, queries: int, ideal: float) -> dict[str, Any]:
    """The floor's figures for a row's `extra`: medians, and each run's wall."""
    return {"floor_vs_ideal": round(statistics.median(s.seconds for s in floors) / ideal, 3),
            "floor_seconds": [round(s.seconds, 2) for s in floors],
            "floor_ms_per_query": round(statistics.median(1000 * s.cpu_seconds / queries for s in floors), 2),
            "floor_cpu_s": [round(s.cpu_seconds, 2) for s in floors]}
