"""How politely the run went at the tenant, for the reports: its adaptive concurrency over time, the throttling the
tenant did, and the polls per query (run.json `concurrency` and `polls`).

`pacing_sentence(p, queries)` (a `Pacing` from report/load_pacing.py) is the one plain-text line that both the
Markdown and the HTML report print (each escapes it for its own channel); `pacing_chart(p, seconds)` is the HTML
report's step chart of the limit, drawn only when the limit moved. Pure.

Why in the report: the morning after a throttled night, "why did the batch take twice as long" is answered here,
not in the CI log that scrolled away.
"""

from __future__ import annotations

import math

from runner.report.figures import seconds_text
from runner.report.html_escape import e as escape
from runner.report.load_pacing import Pacing

_WIDTH, _HEIGHT, _PAD = 600, 120, 24


def _polls_text(pacing: Pacing, queries: int) -> str:
    if pacing.polls is None or not queries:
        return ""
    return f"; {pacing.polls:,} polls ({pacing.polls / queries:.1f} per query)"


def pacing_sentence(pacing: Pacing, queries: int) -> str:
    """One line: the concurrency the run kept, what the tenant's throttling did to it, and the polls."""
    polls = _polls_text(pacing, queries)
    lowest = min((limit for _, limit in pacing.series), default=pacing.final)
    started = (f"started at {pacing.start} (capped by the last run's converged value)"
               if pacing.start < pacing.configured else f"started at {pacing.start}")
    if not pacing.throttled:
        return f"concurrency {pacing.configured}, {started}; the tenant throttled nothing{polls}."
    retry = (f", asking to wait up to {seconds_text(pacing.retry_after_seconds)}"
             if pacing.retry_after_seconds > 0 else "")
    converged = f"; it converged at {pacing.converged:.1f}" if pacing.converged is not None else ""
    return (f"concurrency {pacing.configured}, {started}; the tenant refused {pacing.throttled} attempts for load"
            f"{retry}, so it fell to {lowest} and ended at {pacing.final}{converged} (the next run starts no higher)"
            f"{polls}.")


def pacing_chart(pacing: Pacing, seconds: float) -> str:
    """An inline SVG step line of the limit over the run; "" when the limit never moved (the sentence says it)."""
    if len({limit for _, limit in pacing.series}) < 2:
        return ""
    end = max(seconds if math.isfinite(seconds) else 0.0, pacing.series[-1][0], 1e-9)
    top = max(pacing.configured, *(limit for _, limit in pacing.series))

    def x(at: float) -> float:
        return _PAD + (_WIDTH - 2 * _PAD) * min(at, end) / end

    def y(limit: int) -> float:
        return _HEIGHT - _PAD - (_HEIGHT - 2 * _PAD) * limit / top

    points: list[str] = []
    for index, (at, limit) in enumerate(pacing.series):
        if index:
            points.append(f"{x(at):.1f},{y(pacing.series[index - 1][1]):.1f}")
        points.append(f"{x(at):.1f},{y(limit):.1f}")
    points.append(f"{x(end):.1f},{y(pacing.series[-1][1]):.1f}")
    title = escape(f"concurrency over the run: {pacing.start} to {pacing.final}, at most {top}")
    return (f'<svg class="chart pacing" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{title}">'
            f"<title>{title}</title>"
            f'<polyline fill="none" stroke="currentColor" stroke-width="2" points="{" ".join(points)}"/>'
            f'<text x="{_PAD}" y="{_PAD - 6}">{top}</text>'
            f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 6}" text-anchor="end">{escape(seconds_text(end))}</text>'
            "</svg>")
