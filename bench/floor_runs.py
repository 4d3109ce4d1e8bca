"""The bare client's runs beside a row: what a bare client reaches on this machine, so a target can be read against it.

`floor_figures(box, specs, concurrency=, latency=, repeat=, workdir=, ideal=) -> dict` runs `bench/floor_client.py`
(asyncio + aiohttp over TLS: submit, wait the known latency, poll, read the pages, write the rows; no start-up work
beyond Python's and aiohttp's, no journal, lint, compile or reports) `repeat` times on the same batch against the
same sandbox, from a reset sandbox each time, checks that it executed every spec, and returns what a row records in
its `extra`: the bare client's wall against the row's own ideal (`floor_vs_ideal`), its CPU per query, and each
run's figures. A failed floor is `{"floor_error": ...}` instead of an ERROR for every row of the benchmark: the
floor is a yardstick beside the rows, not one of them. A wall target below the floor's ratio, or a CPU target below
its CPU, is not reached by this bare client here, where the sandbox shares the two cores: a sign that the target,
not only vqr, needs looking at.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import CommandFailed, Sample, time_command
from bench.sandbox_proc import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]  # where `python -m bench.floor_client` finds the bench package


def _runs(box: SandboxProcess, specs: Sequence[dict[str, Any]], *, concurrency: int, latency: float,
               repeat: int, workdir: Path) -> list[Sample]:
    """The bare client on the batch `repeat` times; each must execute every spec and write one rows file each,
    as vqr did, else a RuntimeError (which `floor_figures` records as the rows' `floor_error`)."""
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


def _figures(floors: Sequence[Sample], *, queries: int, ideal: float) -> dict[str, Any]:
    """The floor's figures for a row's `extra`: the medians, and each run's wall and CPU."""
    return {"floor_vs_ideal": round(statistics.median(s.seconds for s in floors) / ideal, 3),
            "floor_seconds": [round(s.seconds, 2) for s in floors],
            "floor_ms_per_query": round(statistics.median(1000 * s.cpu_seconds / queries for s in floors), 2),
            "floor_cpu_s": [round(s.cpu_seconds, 2) for s in floors]}


def floor_figures(box: SandboxProcess, specs: Sequence[dict[str, Any]], *, concurrency: int, latency: float,
                  repeat: int, workdir: Path, ideal: float) -> dict[str, Any]:
    """The figures of the floor's runs; a floor that failed is its error, so the rows it stands beside still land."""
    try:
        floors = _runs(box, specs, concurrency=concurrency, latency=latency, repeat=repeat, workdir=workdir)
    except (CommandFailed, RuntimeError, OSError) as error:
        return {"floor_error": str(error)[:500]}
    return _figures(floors, queries=len(specs), ideal=ideal)
