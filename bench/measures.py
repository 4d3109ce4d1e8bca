"""Helpers for benchmarks whose figure is a value rather than a time ratio (MiB, polls per second, polls): a `Result`
row from a series of values, and a background sampler of a sandbox process's memory and counters (pages served,
creates).

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
    creates: int = 0  # executions asked for so far (admitted submits: a 429 never reaches the counter)


class Sampler:
    """Samples a sandbox's resident memory and its pages-served and creates counters every `interval` seconds."""

    def __init__(self, box: SandboxProcess, *, interval: float = 0.2) -> None:
        self._box = box
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self.points: list[Point] = []

    def _loop(self) -> None:
        started = time.perf_counter()
        while True:
            stats = self._box.stats()
            self.points.append(Point(seconds=time.perf_counter() - started, rss_mib=self._box.rss_mib(),
                                     pages=int(stats["pages"]), creates=int(stats["creates"])))
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

    def submit_phase(self) -> tuple[int, float]:
        """(creates admitted after the first sample that saw any, the seconds from that sample to the first that saw
        the final count): the steady rate beyond the opening burst is their quotient."""
        started = next((p for p in self.points if p.creates >= 1), None)
        if started is None:
            raise RuntimeError("no submit was seen while sampling")
        final = self.points[-1].creates
        ended = next(p for p in self.points if p.creates == final)
        return final - started.creates, ended.seconds - started.seconds
