"""The benchmark harness: timing, pairing, statistics, verdicts, the table and `results.json`.

A benchmark module defines `BENCHMARKS`, a tuple of `Benchmark`s; each `Benchmark.run(config)` returns `Result` rows.
`time_command` runs a child process and measures its wall time, peak RSS and CPU time (from `os.wait4`); `paired`
alternates A and B after a warm-up and keeps the per-pair ratios. Timing functions do I/O (subprocesses);
the rest is pure.
"""

from __future__ import annotations

import enum
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Verdict(enum.Enum):
    PASS = "pass"
    FAIL = "FAIL"
    RAN = "ran"  # --quick: it ran; the target is not judged at tiny sizes
    ERROR = "ERROR"  # the benchmark itself broke


@dataclass(frozen=True, kw_only=True)
class Config:
    quick: bool
    repeat: int  # measured repetitions (pairs) per comparison
    warmup: int
    workdir: Path  # a scratch directory owned by this run
    root: Path  # the vqr repository (schemas/, runner/)


@dataclass(frozen=True, kw_only=True)
class Spread:
    """Median of a series and its extremes; `n` repetitions."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no measurements")
        return cls(median=statistics.median(values), low=min(values), high=max(values), n=len(values))

    def as_json(self) -> dict[str, float | int]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


class Metric(enum.Enum):
    RATIO = "ratio"  # ours / peer, pair by pair
    OVER = "over"  # ours - peer, pair by pair (seconds)
    SPEEDUP = "speedup"  # peer / ours, pair by pair
    VALUE = "value"  # ours alone (e.g. MiB, polls/s)


@dataclass(frozen=True, kw_only=True)
class Target:
    metric: Metric
    op: str  # "<=" or ">="
    bound: float
    unit: str = ""

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.metric.value} {self.op} {self.bound:g}{unit}"

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound


@dataclass(frozen=True, kw_only=True)
class Result:
    """One row of the table."""

    name: str
    ours: Spread | None
    peer: Spread | None
    peer_label: str  # what ours is compared with: a tool, "first run", "ideal"...
    figure: Spread | None  # the per-pair ratio, difference or speed-up, or ours itself for VALUE targets
    target: Target
    verdict: Verdict
    unit: str = "s"
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. peak RSS, sizes
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "peer_label": self.peer_label,
                "ours": self.ours.as_json() if self.ours else None,
                "peer": self.peer.as_json() if self.peer else None,
                self.target.metric.value: self.figure.as_json() if self.figure else None,
                "target": self.target.describe(), "verdict": self.verdict.value, "extra": dict(self.extra),
                **({"error": self.error} if self.error else {})}


@dataclass(frozen=True, kw_only=True)
class Benchmark:
    """A registered benchmark: `rows` names every `Result` its `run` returns (an ERROR row each if it breaks)."""

    name: str
    rows: tuple[str, ...]
    targets: Mapping[str, Target]
    run: Callable[[Config], list[Result]]


@dataclass(frozen=True, kw_only=True)
class Sample:
    seconds: float
    peak_rss_kib: int
    returncode: int
    output: str  # stdout and stderr, kept only when asked for
    cpu_seconds: float = 0.0  # the child's own user + system time (wait4), not its children's


class CommandFailed(Exception):
    pass


def time_command(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
                 ok_codes: frozenset[int] = frozenset({0}), keep_output: bool = False) -> Sample:
    """Run `argv` once; wall time around spawn-to-exit and the child's peak RSS (wait4, so not a high-water mark
    shared with earlier children). Linux counts in that figure the bench process's own RSS at the spawn (exec
    records the address space it replaces), so it reads max(this process, the child): true for the rows with an
    RSS target, whose runs are several times larger than the bench process. Output goes to a temp file so a
    chatty child can never block on a pipe."""
    with tempfile.TemporaryFile() as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env) if env is not None else None,
                                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        sink.seek(0)
        output = sink.read().decode("utf-8", "replace")
    if proc.returncode not in ok_codes:
        raise CommandFailed(f"{' '.join(argv[:3])}... exited {proc.returncode}: {output[-2000:]}")
    return Sample(seconds=seconds, peak_rss_kib=int(usage.ru_maxrss), returncode=proc.returncode,
                  output=output if keep_output else "", cpu_seconds=usage.ru_utime + usage.ru_stime)


def console_tool(name: str, module: str) -> list[str]:
    """The console script beside this interpreter (what users run), else `python -m module`."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.is_file() else [sys.executable, "-m", module]


def time_callable(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass(frozen=True, kw_only=True)
class Pairs:
    ours: list[Sample]
    peer: list[Sample]

    def series(self, metric: Metric) -> list[float]:
        pairs = zip(self.ours, self.peer, strict=True)
        if metric is Metric.RATIO:
            return [a.seconds / b.seconds for a, b in pairs]
        if metric is Metric.OVER:
            return [a.seconds - b.seconds for a, b in pairs]
        if metric is Metric.SPEEDUP:
            return [b.seconds / a.seconds for a, b in pairs]
        return [a.seconds for a in self.ours]


def paired(ours: Callable[[], Sample], peer: Callable[[], Sample], *, repeat: int, warmup: int,
           before_each: Callable[[], None] | None = None) -> Pairs:
    """A B A B...: alternating spreads the machine's drift over both sides, and each pair shares its moment."""
    for _ in range(warmup):
        for side in (ours, peer):
            if before_each:
                before_each()
            side()
    got_ours: list[Sample] = []
    got_peer: list[Sample] = []
    for index in range(repeat):
        # Swap who goes first every other pair, so neither side always inherits the other's warm caches.
        order = (ours, peer) if index % 2 == 0 else (peer, ours)
        for side in order:
            if before_each:
                before_each()
            (got_ours if side is ours else got_peer).append(side())
    return Pairs(ours=got_ours, peer=got_peer)


def judge(name: str, pairs: Pairs, *, target: Target, peer_label: str, config: Config,
          extra: Mapping[str, Any] | None = None) -> Result:
    figure = Spread.of(pairs.series(target.metric))
    verdict = Verdict.RAN if config.quick else Verdict.PASS if target.met(figure.median) else Verdict.FAIL
    peak = {"peak_rss_mib_ours": max(s.peak_rss_kib for s in pairs.ours) / 1024,
            "peak_rss_mib_peer": max(s.peak_rss_kib for s in pairs.peer) / 1024}
    return Result(name=name, ours=Spread.of([s.seconds for s in pairs.ours]),
                  peer=Spread.of([s.seconds for s in pairs.peer]), peer_label=peer_label, figure=figure,
                  target=target, verdict=verdict, extra={**peak, **(extra or {})})


def error_rows(benchmark: Benchmark, message: str) -> list[Result]:
    return [Result(name=row, ours=None, peer=None, peer_label="", figure=None, target=benchmark.targets[row],
                   verdict=Verdict.ERROR, error=message) for row in benchmark.rows]


def _cell(spread: Spread | None, unit: str) -> str:
    if spread is None:
        return "-"
    unit_part = f" {unit}" if unit else ""
    if spread.n == 1:
        return f"{spread.median:.3g}{unit_part}"
    return f"{spread.median:.3g}{unit_part} ({spread.low:.3g}-{spread.high:.3g})"


def format_table(results: Sequence[Result]) -> str:
    """One line per result: medians with (min-max), the figure the target judges, and the verdict."""
    header = ("benchmark", "n", "ours", "peer or ideal", "figure", "target", "verdict")
    rows = [header]
    for r in results:
        peer = f"{r.peer_label}: {_cell(r.peer, r.unit)}" if r.peer else r.peer_label or "-"
        figure_unit = r.target.unit if r.target.metric is not Metric.RATIO else ""
        counted = r.figure or r.ours
        runs = str(counted.n) if counted is not None else "-"
        rows.append((r.name, runs, _cell(r.ours, r.unit), peer, _cell(r.figure, figure_unit),
                     r.target.describe(), r.verdict.value + (f": {r.error.splitlines()[0][:60]}" if r.error else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def write_results(path: Path, results: Sequence[Result], *, quick: bool, seconds: float) -> None:
    """Atomically, so an interrupted run never leaves half a file for CI to parse."""
    document = {"version": 1, "quick": quick, "seconds": round(seconds, 3), "cpus": os.cpu_count(),
                "load_average": list(os.getloadavg()), "results": [r.as_json() for r in results]}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)
