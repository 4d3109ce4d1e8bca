"""run.json's `concurrency` and `polls` read into a `Pacing` for the reports (see report/pacing_view.py).

`pacing_of(data)` is None for an artifact from before adaptive concurrency. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.model import JSONObject, JSONValue


@dataclass(frozen=True, kw_only=True)
class Pacing:
    configured: int
    start: int
    final: int
    converged: float | None  # time-weighted mean limit since the first throttle; None when never throttled
    throttled: int  # submit attempts the tenant refused for load (429/503)
    retry_after_seconds: float  # the longest Retry-After it sent
    series: tuple[tuple[float, int], ...]  # (seconds into the run, limit from then on)
    polls: int | None  # every poll of the run, None in an artifact from before polls were counted


def _number(value: JSONValue) -> float | None:
    """A finite number, else None: json.loads reads `Infinity` and `NaN`, and the schema's `number` lets them by."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def pacing_of(data: JSONObject) -> Pacing | None:
    block = data.get("concurrency")
    if not isinstance(block, dict):
        return None
    series = []
    points = block.get("series")
    for point in points if isinstance(points, list) else []:
        if isinstance(point, list) and len(point) == 2:
            at, limit = _number(point[0]), _number(point[1])
            if at is not None and limit is not None:
                series.append((at, int(limit)))
    polls = _number(data.get("polls"))
    return Pacing(configured=int(_number(block.get("configured")) or 0), start=int(_number(block.get("start")) or 0),
                  final=int(_number(block.get("final")) or 0), converged=_number(block.get("converged")),
                  throttled=int(_number(block.get("throttled")) or 0),
                  retry_after_seconds=_number(block.get("retry_after_seconds")) or 0.0, series=tuple(series),
                  polls=None if polls is None else int(polls))
