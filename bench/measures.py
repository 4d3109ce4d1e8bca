"""Helpers for benchmarks whose figure is a value rather than a time ratio (MiB, polls per second, polls): a `Result`
row from a series of values, and a background sampler of a sandbox process's memory and counters.

`value_result(...)` is pure. `Sampler(box)` reads /proc and `GET /_sandbox/stats` in a thread until stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bench.harness import Config, Result, Spread, Target, Verdict
from bench.sandbox_proc import SandboxProcess


def value_result(name: str, values: Sequence[float], *, target: Target, unit: str, config: Config,
                 peer_label: str = "-", extra: Mapping[str, Any] | None = None) -> Result:
    """A row judged on the median of `values` themselves (no peer)."""
    figure = Spread.of(values)
    verdict = Verdict.RAN if config.quick else Verdict.PASS if target.met(figure.median) else Verdict.FAIL
    return Result(name=name, ours=figure, peer=None, peer_label=peer_label, figure=figure, target=target,
                  verdict=verdict, unit=unit, extra=dict(extra or {}))


@dataclass(frozen=True, kw_only=True)
class Point:
    seconds: float
    rss_mib: float
    pages: int


class Sampler:
    """Samples a sandbox's resident memory and pages-served counter every `interval` seconds."""

    def __init__(self, box: SandboxProcess, *, interval: float = 0.2) -> None:
        self._box = box
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self.points: list[Point] = []

    def _loop(self) -> None:
        started = time.perf_counter()
        while True:
            pages = int(self._box.stats()["pages"])
            self.points.append(Point(seconds=time.perf_counter() - started, rss_mib=self._box.rss_mib(),
                                     pages=pages))
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def paging_growth(self) -> tuple[float, float]:
        """(RSS once the first page was served, its growth from there to the peak): the result is computed by then,
        so what grows afterwards is what serving pages keeps."""
        serving = [p for p in self.points if p.pages >= 1]
        if not serving:
            raise RuntimeError("no page was served while sampling")
        start = serving[0].rss_mib
        return start, max(p.rss_mib for p in serving) - start
