"""vqr's benchmarks (`make bench`, `python -m bench`): every speed and memory target measured beside its peer.

Adding a benchmark is one module: `bench/bench_<topic>.py` defining `BENCHMARKS: tuple[Benchmark, ...]` (see
`bench.harness`). `registered_benchmarks()` imports every such module, in name order; it does no other I/O.
"""

from __future__ import annotations

import importlib
import pkgutil

from bench.harness import Benchmark

__all__ = ["registered_benchmarks"]


def registered_benchmarks() -> list[Benchmark]:
    found: list[Benchmark] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found += getattr(module, "BENCHMARKS", ())
    names = [row for benchmark in found for row in benchmark.rows]
    duplicates = sorted({row for row in names if names.count(row) > 1})
    if duplicates:
        raise RuntimeError(f"benchmark rows registered twice: {', '.join(duplicates)}")
    return found
